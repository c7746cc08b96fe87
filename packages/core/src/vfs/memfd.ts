// mm/memfd.c: memfd_create and the seal commands of fcntl (F_ADD_SEALS, F_GET_SEALS).

import { KernelError } from "../errors/kernel-error.js";
import type { HugePagePool } from "../mm/hugetlb.js";
import { type ShmemFs, type ShmemInode, shmemInodeOf } from "../mm/shmem.js";
import {
  F_GET_SEALS,
  F_SEAL_EXEC,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  FMODE_WRITE,
  O_CLOEXEC,
} from "../uapi/fcntl.js";
import {
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  MFD_HUGE_MASK,
  MFD_HUGE_SHIFT,
  MFD_HUGETLB,
  MFD_NAME_MAX_LEN,
  MFD_NOEXEC_SEAL,
} from "../uapi/memfd.js";
import type { File } from "./file.js";
import type { Process } from "./process.js";

/** The seals 6.1 knows; F_SEAL_EXEC joins them under the `memfdExec` profile. */
const SEALS_6_1 = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/**
 * memfd_create(2) for `proc` (see {@link Process.memfdCreate}): validates the flags and the
 * name in the kernel's order, takes an fd, creates the tmpfs (or hugetlbfs) file and sets its
 * initial seals and mode.
 * @returns the new fd
 * @throws KernelError EINVAL, EFAULT, EMFILE, ENODEV.
 */
export function memfdCreate(
  fs: ShmemFs,
  proc: Process,
  name: string | null,
  flags: number,
): number {
  const profile = fs.host.profile;
  const known =
    MFD_CLOEXEC |
    MFD_ALLOW_SEALING |
    MFD_HUGETLB |
    (profile.memfdExec ? MFD_NOEXEC_SEAL | MFD_EXEC : 0);
  const allowed = flags & MFD_HUGETLB ? known | (MFD_HUGE_MASK << MFD_HUGE_SHIFT) : known;
  // An unsigned int in C: a negative int32 (a size field of 32 or more) is the same bits.
  if (!Number.isInteger(flags) || flags < -(2 ** 31) || flags > 0xffffffff || flags & ~allowed) {
    throw new KernelError("EINVAL", "memfd_create", "unknown flags");
  }
  if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) {
    throw new KernelError("EINVAL", "memfd_create", "MFD_EXEC with MFD_NOEXEC_SEAL");
  }
  if (name === null) throw new KernelError("EFAULT", "memfd_create", "NULL name");
  const nul = name.indexOf("\0");
  const text = nul >= 0 ? name.slice(0, nul) : name;
  if (new TextEncoder().encode(text).length > MFD_NAME_MAX_LEN) {
    throw new KernelError("EINVAL", "memfd_create", "name longer than 249 bytes");
  }
  proc.unusedFd("memfd_create");
  let pool: HugePagePool | null = null;
  if (flags & MFD_HUGETLB) {
    pool = fs.host.hugetlb.bySizeLog((flags >>> MFD_HUGE_SHIFT) & MFD_HUGE_MASK) ?? null;
    if (!pool) throw new KernelError("ENODEV", "memfd_create", "no huge page pool of that size");
  }
  const noexec = (flags & MFD_NOEXEC_SEAL) !== 0;
  const file = fs.createFile(`memfd:${text}`, proc, noexec ? 0o666 : 0o777, pool);
  const inode = file.inode as ShmemInode;
  if (noexec) inode.seals = (inode.seals & ~F_SEAL_SEAL) | F_SEAL_EXEC;
  else if (flags & MFD_ALLOW_SEALING) inode.seals &= ~F_SEAL_SEAL;
  return proc.installFd(file, flags & MFD_CLOEXEC ? O_CLOEXEC : 0, "memfd_create");
}

/**
 * fcntl(F_ADD_SEALS / F_GET_SEALS) on `file` (`memfd_fcntl`). Seals belong to the inode and
 * are only ever added.
 *
 * F_ADD_SEALS checks, in 6.1's order: an argument above 32 bits (6.1: EINVAL; 6.18: only the
 * low 32 bits count); the fd must be open for writing (EPERM); unknown seal bits (EINVAL); the
 * file must be tmpfs or hugetlbfs (EINVAL); F_SEAL_SEAL must be absent (EPERM, even to add
 * nothing); adding F_SEAL_WRITE fails with EBUSY at once while a shared mapping that may write
 * exists, and after about 150 ms of virtual time (waits of 10, 20, 40 and 80 ms, cut short by a
 * fatal signal) while pages are pinned (a live udmabuf). F_SEAL_FUTURE_WRITE never waits.
 * Under the 6.18 profile F_SEAL_EXEC exists, and adding it to a file with exec bits adds
 * SHRINK, GROW, WRITE and FUTURE_WRITE too.
 * @returns the seals (F_GET_SEALS) or 0
 * @throws KernelError EINVAL, EPERM, EBUSY.
 */
export function memfdFcntl(fs: ShmemFs, file: File, cmd: number, arg: number): number {
  const host = fs.host;
  if (cmd === F_GET_SEALS) {
    const inode = shmemInodeOf(file);
    if (!inode) throw new KernelError("EINVAL", "fcntl", "not a memfd");
    return inode.seals;
  }
  let seals = arg;
  if (!Number.isInteger(arg) || arg < 0 || arg > 0xffffffff) {
    if (!host.profile.sealArgLow32) throw new KernelError("EINVAL", "fcntl", "seals above 32 bits");
    seals = Number(BigInt.asUintN(32, BigInt(Math.trunc(arg))));
  }
  if ((file.fMode & FMODE_WRITE) === 0) {
    throw new KernelError("EPERM", "fcntl", "the fd is not open for writing");
  }
  const valid = SEALS_6_1 | (host.profile.memfdExec ? F_SEAL_EXEC : 0);
  if ((seals & ~valid) !== 0) throw new KernelError("EINVAL", "fcntl", "unknown seal bits");
  const inode = shmemInodeOf(file);
  if (!inode) throw new KernelError("EINVAL", "fcntl", "not a memfd");
  if (inode.seals & F_SEAL_SEAL) throw new KernelError("EPERM", "fcntl", "F_SEAL_SEAL is set");
  if (seals & F_SEAL_EXEC && inode.mode & 0o111) {
    seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  }
  if (seals & F_SEAL_WRITE && !(inode.seals & F_SEAL_WRITE)) {
    if (inode.writableMappings > 0) {
      throw new KernelError("EBUSY", "fcntl", "a shared mapping may still write");
    }
    waitForPins(fs, inode);
  }
  inode.seals |= seals;
  return 0;
}

/** `memfd_wait_for_pins`: rechecks after 10, 20, 40 and 80 ms; EBUSY if pages stay pinned. */
function waitForPins(fs: ShmemFs, inode: ShmemInode): void {
  const host = fs.host;
  for (let scan = 1; scan <= 4 && inode.pinned; scan++) {
    if (host.current?.fatalSignalPending) break;
    host.clock.advance(((1 << scan) * 1e9) / 200);
  }
  if (inode.pinned) throw new KernelError("EBUSY", "fcntl", "pages of the memfd are pinned");
}
