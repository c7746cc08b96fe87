// A user-space process: its fd table, its address space and the syscalls it can make.

import type { ErrnoCode } from "../errors/errno.js";
import { KernelError } from "../errors/kernel-error.js";
import { type CpuHolder, Mapping } from "../mm/mapping.js";
import type { ShmemFs } from "../mm/shmem.js";
import { Vma } from "../mm/vma.js";
import type { SimClock } from "../time/clock.js";
import { traceFd, traceMmap } from "../trace/file-points.js";
import type { TraceRecorder } from "../trace/recorder.js";
import {
  F_ADD_SEALS,
  F_GET_SEALS,
  F_GETFD,
  F_GETFL,
  F_SETFD,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FASYNC,
  FD_CLOEXEC,
  FMODE_PREAD,
  FMODE_PWRITE,
  FMODE_READ,
  FMODE_WRITE,
  O_CLOEXEC,
  O_NONBLOCK,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from "../uapi/fcntl.js";
import { FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX } from "../uapi/ioctl.js";
import {
  MADV_DONTNEED,
  MADV_NORMAL,
  MADV_WILLNEED,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from "../uapi/mman.js";
import { DEFAULT_POLLMASK, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from "../uapi/poll.js";
import type { AnonInodeFs } from "./anon-inode.js";
import { EPOLL_CLOEXEC, type EpollEvent, EventPoll, eventPollFops } from "./eventpoll.js";
import type { File, IoctlArg } from "./file.js";
import { type Stat, statOf } from "./inode.js";
import { memfdCreate, memfdFcntl } from "./memfd.js";
import type { Namespace } from "./namespace.js";
import { openNode } from "./open.js";

/** What a process needs from its kernel. */
export interface ProcessHost extends CpuHolder {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** The path namespace. */
  readonly namespace: Namespace;
  /** The virtual clock (poll timeouts). */
  readonly clock: SimClock;
  /** Runs `fn` with `proc` as the current task (for fatal-signal checks and /proc/self). */
  runAs<T>(proc: Process, fn: () => T): T;
  /** Called when a process has exited. */
  reap(proc: Process): void;
  /** Creates a file for an opened pseudo file or device node. */
  readonly files: import("./file.js").FileTable;
  /** A fresh inode number for pseudo files. */
  nextPseudoIno(): number;
  /** The anonymous-inode filesystem (epoll files). */
  readonly anonInodes: AnonInodeFs;
  /** The kernel's event trace, if it has one. */
  readonly trace?: TraceRecorder;
  /** The internal tmpfs and hugetlbfs mounts (memfd_create). */
  readonly shmem: ShmemFs;
}

/** One slot of the fd table. */
interface FdEntry {
  file: File;
  cloexec: boolean;
}

/** One entry of a poll() request; `revents` is written back. */
export interface PollFd {
  /** The fd to watch; negative entries are ignored. */
  fd: number;
  /** POLL* events of interest. */
  events: number;
  /** Out: the events that are ready. */
  revents?: number;
}

/** Options for {@link Process.sendFd}. */
export interface SendFdOptions {
  /** Install the received fd with O_CLOEXEC (MSG_CMSG_CLOEXEC). */
  cloexec?: boolean;
}

/** The top of the mmap area: mappings are placed top-down below it. */
const MMAP_TOP = 0x7ffff7ff9000;

/**
 * A user-space process. Every method is a syscall: it throws {@link KernelError} with the
 * errno Linux returns and leaves the process as it was on failure.
 *
 * @example
 * ```ts
 * const p = kernel.spawn({ name: "camera" });
 * const heap = p.open("/dev/dma_heap/system", O_RDWR);
 * ```
 */
export class Process {
  /** RLIMIT_NOFILE: fds are numbered below this. */
  rlimitNofile = 1024;
  /** Set once the process has exited. */
  exited = false;
  /** A fatal signal is pending: long kernel loops give up with EINTR (`fatal_signal_pending`). */
  fatalSignalPending = false;
  readonly #fds: (FdEntry | undefined)[] = [];
  readonly #maps: Mapping[] = [];

  /**
   * @param host - the kernel
   * @param pid - process id
   * @param name - command name (`comm`)
   * @param uid - user id (0 = root)
   * @param gid - group id
   */
  constructor(
    private readonly host: ProcessHost,
    readonly pid: number,
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
  ) {}

  // ---- fd table -------------------------------------------------------------------------

  /** Open fds in ascending order. */
  fds(): number[] {
    const out: number[] = [];
    this.#fds.forEach((e, fd) => {
      if (e) out.push(fd);
    });
    return out;
  }

  /** The live mappings, lowest address first. */
  mappings(): readonly Mapping[] {
    return [...this.#maps].sort((a, b) => a.address - b.address);
  }

  /**
   * The file behind an fd (`fget` without a reference).
   * @throws KernelError EBADF when the fd is not open.
   */
  fileOf(fd: number, syscall = "fget"): File {
    const e = Number.isInteger(fd) && fd >= 0 ? this.#fds[fd] : undefined;
    if (!e) throw new KernelError("EBADF", syscall, `fd ${fd} is not open`);
    return e.file;
  }

  /** Whether fd has close-on-exec set. */
  isCloexec(fd: number): boolean {
    return this.#fds[fd]?.cloexec ?? false;
  }

  /**
   * Installs `file` at the lowest free fd, transferring the caller's reference
   * (`get_unused_fd_flags` + `fd_install`).
   * @throws KernelError EMFILE when every fd below RLIMIT_NOFILE is in use (the reference is
   * then still the caller's).
   */
  installFd(file: File, flags: number, syscall = "fd_install"): number {
    const fd = this.#lowestFreeFd(syscall);
    this.#fds[fd] = { file, cloexec: (flags & O_CLOEXEC) !== 0 };
    if (this.host.trace?.on) traceFd(this.host.trace, "fd-install", fd, file);
    return fd;
  }

  /**
   * The fd the next {@link Process.installFd} will use (`get_unused_fd_flags`): drivers call
   * it first so that EMFILE comes before their other errors, as in Linux.
   * @throws KernelError EMFILE when every fd below RLIMIT_NOFILE is in use.
   */
  unusedFd(syscall = "get_unused_fd_flags"): number {
    return this.#lowestFreeFd(syscall);
  }

  #lowestFreeFd(syscall: string): number {
    for (let fd = 0; fd < this.rlimitNofile; fd++) if (!this.#fds[fd]) return fd;
    throw new KernelError("EMFILE", syscall);
  }

  // ---- syscalls -------------------------------------------------------------------------

  #enter<T>(syscall: string, fn: () => T): T {
    if (this.exited) throw new KernelError("ESRCH", syscall, `process ${this.pid} has exited`);
    return this.host.runAs(this, fn);
  }

  /**
   * open(2). Opens a device node or pseudo file.
   * @throws KernelError ENOENT, ENOTDIR, EACCES (permission bits), ENXIO/ENODEV from the
   * driver, EMFILE.
   */
  open(path: string, flags: number): number {
    return this.#enter("open", () => {
      const file = openNode(this.host, this, path, flags);
      try {
        return this.installFd(file, flags, "open");
      } catch (e) {
        file.put();
        throw e;
      }
    });
  }

  /**
   * close(2).
   * @throws KernelError EBADF when the fd is not open.
   */
  close(fd: number): void {
    this.#enter("close", () => {
      const file = this.fileOf(fd, "close");
      this.#fds[fd] = undefined;
      if (this.host.trace?.on) traceFd(this.host.trace, "fd-close", fd, file);
      file.put();
    });
  }

  /**
   * dup(2): a new fd (lowest free) for the same file, without close-on-exec.
   * @throws KernelError EBADF, EMFILE.
   */
  dup(fd: number): number {
    return this.#enter("dup", () => {
      const file = this.fileOf(fd, "dup");
      const nfd = this.#lowestFreeFd("dup");
      this.#fds[nfd] = { file: file.get(), cloexec: false };
      return nfd;
    });
  }

  /**
   * fcntl(2) for F_GETFD, F_SETFD, F_GETFL, and F_ADD_SEALS / F_GET_SEALS of a memfd (see
   * {@link Process.memfdCreate}).
   * @throws KernelError EBADF, EINVAL for other commands; for the seal commands EPERM (fd not
   * open for writing, F_SEAL_SEAL set), EINVAL (unknown seal bits, not a memfd), EBUSY
   * (F_SEAL_WRITE while a writable shared mapping exists or pages are pinned).
   */
  fcntl(fd: number, cmd: number, arg = 0): number {
    return this.#enter("fcntl", () => {
      const file = this.fileOf(fd, "fcntl");
      const entry = this.#fds[fd] as FdEntry;
      switch (cmd) {
        case F_GETFD:
          return entry.cloexec ? FD_CLOEXEC : 0;
        case F_SETFD:
          entry.cloexec = (arg & FD_CLOEXEC) !== 0;
          return 0;
        case F_GETFL:
          return file.fFlags;
        case F_ADD_SEALS:
        case F_GET_SEALS:
          return memfdFcntl(this.host.shmem, file, cmd, arg);
        default:
          throw new KernelError("EINVAL", "fcntl", `command ${cmd} is not modelled`);
      }
    });
  }

  /**
   * ioctl(2). The generic requests FIOCLEX, FIONCLEX, FIONBIO and FIOASYNC are handled for
   * every fd, as the VFS does; every other request goes to the file. `arg` is the C struct's bytes, which the kernel reads and writes back in place,
   * a string for DMA_BUF_SET_NAME, or `null` for a NULL pointer.
   * @returns the ioctl's return value (0, or a new fd for ioctls that create one)
   * @throws KernelError EBADF, ENOTTY for a file without ioctls, and whatever the driver
   * returns.
   */
  ioctl(fd: number, request: number, arg: IoctlArg = null): number {
    return this.#enter("ioctl", () => {
      const file = this.fileOf(fd, "ioctl");
      const entry = this.#fds[fd] as FdEntry;
      switch (request >>> 0) {
        case FIOCLEX:
          entry.cloexec = true;
          return 0;
        case FIONCLEX:
          entry.cloexec = false;
          return 0;
        case FIONBIO:
        case FIOASYNC: {
          if (!(arg instanceof Uint8Array) || arg.length < 4) {
            throw new KernelError("EFAULT", "ioctl", "bad user pointer");
          }
          const on = new DataView(arg.buffer, arg.byteOffset, 4).getInt32(0, true) !== 0;
          const bit = request >>> 0 === FIONBIO ? O_NONBLOCK : FASYNC;
          file.fFlags = on ? file.fFlags | bit : file.fFlags & ~bit;
          return 0;
        }
      }
      if (!file.fops.ioctl) throw new KernelError("ENOTTY", "ioctl");
      file.get();
      try {
        return file.fops.ioctl(file, request >>> 0, arg, this);
      } finally {
        file.put();
      }
    });
  }

  /**
   * mmap(2) of a file. Returns a {@link Mapping} whose loads and stores go through the page
   * table and the CPU port.
   * @throws KernelError EINVAL (length 0, unaligned offset, bad map type), EBADF, ENODEV (file
   * cannot be mapped), EACCES (access mode does not allow the protection), EOVERFLOW, ENOMEM
   * (no address space), and whatever the driver's mmap method returns.
   */
  mmap(fd: number, length: number, prot: number, flags: number, offset = 0): Mapping {
    return this.#enter("mmap", () => {
      const ps = this.host.pageSize;
      if (!Number.isInteger(length) || !Number.isInteger(offset) || offset < 0) {
        throw new KernelError("EINVAL", "mmap", "length and offset must be integers");
      }
      if (offset % ps !== 0) throw new KernelError("EINVAL", "mmap", "unaligned offset");
      const file = this.fileOf(fd, "mmap");
      if (length === 0) throw new KernelError("EINVAL", "mmap", "zero length");
      const len = Math.ceil(length / ps) * ps;
      const pgoff = offset / ps;
      if (!Number.isSafeInteger(pgoff + len / ps)) throw new KernelError("EOVERFLOW", "mmap");
      const type = flags & MAP_TYPE;
      if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) {
        throw new KernelError("EINVAL", "mmap", "mapping type must be shared or private");
      }
      if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) {
        throw new KernelError("EINVAL", "mmap", "unknown protection bits");
      }
      if ((file.fMode & FMODE_READ) === 0) {
        throw new KernelError("EACCES", "mmap", "file not open for reading");
      }
      if (type !== MAP_PRIVATE && prot & PROT_WRITE && (file.fMode & FMODE_WRITE) === 0) {
        throw new KernelError("EACCES", "mmap", "shared writable mapping of a read-only file");
      }
      // do_mmap checks the access mode before it looks for the file's mmap method.
      if (!file.fops.mmap) throw new KernelError("ENODEV", "mmap", "file cannot be mapped");
      const start = this.#findGap(len);
      const vma = new Vma(
        start,
        len,
        pgoff,
        prot,
        type === MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED,
        file,
        ps,
      );
      if (type !== MAP_PRIVATE && (file.fMode & FMODE_WRITE) === 0) vma.mayWrite = false;
      file.get();
      try {
        file.fops.mmap(file, vma);
      } catch (e) {
        vma.file.put();
        throw e;
      }
      if (vma.file !== file) {
        // The driver redirected the mapping to another file (dma_buf_mmap does this).
        file.put();
      }
      const m = new Mapping(vma, this.host);
      this.#maps.push(m);
      if (this.host.trace?.on) traceMmap(this.host.trace, "mmap", vma.file, start, len);
      return m;
    });
  }

  #findGap(len: number): number {
    let top = MMAP_TOP;
    for (const m of [...this.#maps].sort((a, b) => b.address - a.address)) {
      if (m.vma.end <= top - len) break;
      top = Math.min(top, m.vma.start);
    }
    if (top - len < 0x10000) throw new KernelError("ENOMEM", "mmap", "address space full");
    return top - len;
  }

  /**
   * munmap(2) of a whole mapping; drops the mapping's file reference.
   * @throws KernelError EINVAL when the mapping is not (or no longer) mapped in this process.
   */
  munmap(mapping: Mapping): void {
    this.#enter("munmap", () => {
      const i = this.#maps.indexOf(mapping);
      if (i < 0) throw new KernelError("EINVAL", "munmap", "not a mapping of this process");
      this.#maps.splice(i, 1);
      if (this.host.trace?.on)
        traceMmap(this.host.trace, "munmap", mapping.vma.file, mapping.address, mapping.length);
      mapping.markUnmapped();
      mapping.vma.ops?.close?.(mapping.vma);
      mapping.vma.file.put();
    });
  }

  /**
   * mremap(2) of a whole mapping to `newLength` bytes with MREMAP_MAYMOVE. Shrinking keeps the
   * first pages in place; growing moves the mapping to a free range with the same pages and
   * leaves the new tail to fault in through the driver. A mapping of raw page frames
   * (VM_PFNMAP, as remapPfnRange makes) cannot grow, as in Linux.
   * @returns the resized mapping (the old handle is unmapped)
   * @throws KernelError EINVAL (not a live mapping, zero length); EFAULT (growing a PFN
   * mapping); ENOMEM (no free address range).
   */
  mremap(mapping: Mapping, newLength: number): Mapping {
    return this.#enter("mremap", () => {
      const i = this.#maps.indexOf(mapping);
      if (i < 0 || !(newLength > 0)) throw new KernelError("EINVAL", "mremap");
      const old = mapping.vma;
      const len = Math.ceil(newLength / old.pageSize) * old.pageSize;
      if (len > old.length && old.pfnmap) {
        throw new KernelError("EFAULT", "mremap", "cannot grow a PFN mapping");
      }
      const start = len > old.length ? this.#findGap(len) : old.start;
      const vma = new Vma(start, len, old.pgoff, old.prot, old.flags, old.file, old.pageSize);
      const kept = Math.min(vma.pageCount, old.pageCount);
      vma.pfns.set(old.pfns.subarray(0, kept));
      vma.ops = old.ops;
      vma.privateData = old.privateData;
      vma.pfnmap = old.pfnmap;
      vma.mayWrite = old.mayWrite;
      for (const [page, copy] of old.cowPages) if (page < kept) vma.cowPages.set(page, copy);
      vma.ops?.open?.(vma);
      old.ops?.close?.(old);
      const m = new Mapping(vma, this.host);
      mapping.markUnmapped();
      this.#maps[i] = m;
      return m;
    });
  }

  /**
   * madvise(2) over a whole mapping. MADV_DONTNEED drops the page table (pages fault in again
   * through the driver) and private copies; it is refused for PFN mappings. MADV_NORMAL,
   * MADV_RANDOM, MADV_SEQUENTIAL and MADV_WILLNEED are accepted and change nothing.
   * @throws KernelError EINVAL (not a live mapping, unknown advice, DONTNEED on a PFN mapping).
   */
  madvise(mapping: Mapping, advice: number): void {
    this.#enter("madvise", () => {
      if (!this.#maps.includes(mapping)) throw new KernelError("EINVAL", "madvise");
      const vma = mapping.vma;
      if (advice >= MADV_NORMAL && advice <= MADV_WILLNEED) return;
      if (advice !== MADV_DONTNEED) throw new KernelError("EINVAL", "madvise", `advice ${advice}`);
      if (vma.pfnmap) throw new KernelError("EINVAL", "madvise", "PFN mapping");
      vma.pfns.fill(-1);
      vma.cowPages.clear();
    });
  }

  /**
   * lseek(2).
   * @throws KernelError EBADF, ESPIPE (not seekable), EINVAL (the file refuses).
   */
  lseek(fd: number, offset: number, whence: number): number {
    return this.#enter("lseek", () => {
      const file = this.fileOf(fd, "lseek");
      if (file.fops.llseek) return file.fops.llseek(file, offset, whence);
      throw new KernelError("ESPIPE", "lseek");
    });
  }

  /**
   * memfd_create(2): an anonymous in-memory file, open O_RDWR, named `/memfd:<name> (deleted)`
   * in /proc. Its pages come from the page allocator on first write, fault or pin (with
   * MFD_HUGETLB: 2 MiB pages from the `hugepages` pool). Without MFD_ALLOW_SEALING it starts
   * sealed with F_SEAL_SEAL.
   * @param name - the name after `memfd:` (at most 249 bytes; it is cut at a NUL), or `null`
   * for a NULL pointer
   * @param flags - MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB with an MFD_HUGE_* size; 6.3+
   * also MFD_NOEXEC_SEAL and MFD_EXEC
   * @returns the new fd
   * @throws KernelError EINVAL (unknown flags, a size field without MFD_HUGETLB, MFD_EXEC with
   * MFD_NOEXEC_SEAL, name longer than 249 bytes); EFAULT (`null` name); EMFILE; ENODEV (no
   * huge page pool of the requested size).
   */
  memfdCreate(name: string | null, flags: number): number {
    return this.#enter("memfd_create", () => memfdCreate(this.host.shmem, this, name, flags));
  }

  /**
   * fstat(2).
   * @throws KernelError EBADF.
   */
  fstat(fd: number): Stat {
    return this.#enter("fstat", () => statOf(this.fileOf(fd, "fstat").inode));
  }

  /**
   * fstatfs(2): the filesystem's magic number and block size.
   * @throws KernelError EBADF.
   */
  fstatfs(fd: number): { fType: number; fBsize: number } {
    return this.#enter("fstatfs", () => ({
      fType: this.fileOf(fd, "fstatfs").identity.fsMagic,
      fBsize: this.host.pageSize,
    }));
  }

  /**
   * pread(2): read at an offset without moving the file position.
   * @throws KernelError EINVAL (negative offset); EBADF; ESPIPE when the file has no positional reads (dma-bufs, heap
   * and other character devices without pread); EINVAL when it cannot be read.
   */
  pread(fd: number, count: number, offset: number): Uint8Array {
    return this.#enter("pread64", () => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new KernelError("EINVAL", "pread64");
      const file = this.fileOf(fd, "pread64");
      if ((file.fMode & FMODE_READ) === 0) throw new KernelError("EBADF", "pread64");
      if ((file.fMode & FMODE_PREAD) === 0) throw new KernelError("ESPIPE", "pread64");
      if (!file.fops.read) throw new KernelError("EINVAL", "pread64");
      const saved = file.pos;
      file.pos = offset;
      try {
        return file.fops.read(file, count);
      } finally {
        file.pos = saved;
      }
    });
  }

  /**
   * pwrite(2): write at an offset without moving the file position.
   * @returns the number of bytes written (short when a seal stops the write part way)
   * @throws KernelError EINVAL (negative offset, or the file cannot be written); EBADF (not
   * open, or not open for writing); ESPIPE (no positional writes); and what the file's write
   * method throws (memfd: EPERM under a write or grow seal).
   */
  pwrite(fd: number, bytes: Uint8Array, offset: number): number {
    return this.#enter("pwrite64", () => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new KernelError("EINVAL", "pwrite64");
      const file = this.fileOf(fd, "pwrite64");
      if ((file.fMode & FMODE_PWRITE) === 0) throw new KernelError("ESPIPE", "pwrite64");
      if ((file.fMode & FMODE_WRITE) === 0) throw new KernelError("EBADF", "pwrite64");
      if (!file.fops.write) throw new KernelError("EINVAL", "pwrite64");
      const saved = file.pos;
      file.pos = offset;
      try {
        return file.fops.write(file, bytes);
      } finally {
        file.pos = saved;
      }
    });
  }

  /**
   * ftruncate(2): dispatched to the file's `truncate` method (a memfd's).
   * @throws KernelError EINVAL (negative length; a file without a truncate method, i.e. not a
   * regular file, or not open for writing); EBADF; and what the method throws (memfd: EPERM
   * under a shrink or grow seal, EINVAL for a hugetlbfs size that is not a whole huge page).
   */
  ftruncate(fd: number, length: number): void {
    this.#enter("ftruncate", () => {
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new KernelError("EINVAL", "ftruncate", "negative length");
      }
      const file = this.fileOf(fd, "ftruncate");
      if (!file.fops.truncate || (file.fMode & FMODE_WRITE) === 0) {
        throw new KernelError("EINVAL", "ftruncate", "not a regular file open for writing");
      }
      file.fops.truncate(file, length);
    });
  }

  /**
   * fallocate(2) with mode 0, FALLOC_FL_KEEP_SIZE or FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
   * dispatched to the file's `fallocate` method (a memfd's).
   * @throws KernelError EBADF (not open, or not open for writing); EINVAL (negative offset,
   * length not positive); EOPNOTSUPP (other modes, a hole punch without KEEP_SIZE, a regular
   * file without the method); ENODEV (neither a regular file nor a directory, e.g. a dma-buf);
   * and what the method throws (memfd: EPERM under seals, ENOMEM/ENOSPC).
   */
  fallocate(fd: number, mode: number, offset: number, length: number): void {
    this.#enter("fallocate", () => {
      const file = this.fileOf(fd, "fallocate");
      if (
        !Number.isSafeInteger(offset) ||
        offset < 0 ||
        !Number.isSafeInteger(length) ||
        length <= 0
      ) {
        throw new KernelError("EINVAL", "fallocate", "bad offset or length");
      }
      if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) {
        throw new KernelError("EOPNOTSUPP", "fallocate", `mode ${mode}`);
      }
      if (mode & FALLOC_FL_PUNCH_HOLE && !(mode & FALLOC_FL_KEEP_SIZE)) {
        throw new KernelError("EOPNOTSUPP", "fallocate", "PUNCH_HOLE needs KEEP_SIZE");
      }
      if ((file.fMode & FMODE_WRITE) === 0) throw new KernelError("EBADF", "fallocate");
      const type = file.inode.mode & S_IFMT;
      if (type !== S_IFREG && type !== S_IFDIR) throw new KernelError("ENODEV", "fallocate");
      if (!file.fops.fallocate) throw new KernelError("EOPNOTSUPP", "fallocate");
      file.fops.fallocate(file, mode, offset, length);
    });
  }

  /**
   * fsync(2). No file in the model has an fsync method.
   * @throws KernelError EBADF; EINVAL.
   */
  fsync(fd: number): void {
    this.#enter("fsync", () => {
      this.fileOf(fd, "fsync");
      throw new KernelError("EINVAL", "fsync", "the file cannot be synced");
    });
  }

  /**
   * mprotect(2) of a whole mapping.
   * @throws KernelError EINVAL (not a live mapping of this process, unknown bits); EACCES
   * (write access to a shared mapping of a file not open for writing, or any access to a file
   * not open for reading).
   */
  mprotect(mapping: Mapping, prot: number): void {
    this.#enter("mprotect", () => {
      if (!this.#maps.includes(mapping)) {
        throw new KernelError("EINVAL", "mprotect", "not a mapping of this process");
      }
      if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) {
        throw new KernelError("EINVAL", "mprotect", "unknown protection bits");
      }
      const vma = mapping.vma;
      if (vma.shared && prot & PROT_WRITE && !vma.mayWrite) {
        throw new KernelError("EACCES", "mprotect", "file not open for writing, or write-sealed");
      }
      vma.prot = prot;
    });
  }

  /**
   * read(2) of up to `count` bytes.
   * @throws KernelError EBADF (not open, or not open for reading), EINVAL (the file cannot be
   * read).
   */
  read(fd: number, count: number): Uint8Array {
    return this.#enter("read", () => {
      const file = this.fileOf(fd, "read");
      if ((file.fMode & FMODE_READ) === 0) throw new KernelError("EBADF", "read");
      if (!file.fops.read) throw new KernelError("EINVAL", "read");
      return file.fops.read(file, count);
    });
  }

  /**
   * write(2).
   * @throws KernelError EBADF (not open, or not open for writing), EINVAL (the file cannot be
   * written).
   */
  write(fd: number, bytes: Uint8Array): number {
    return this.#enter("write", () => {
      const file = this.fileOf(fd, "write");
      if ((file.fMode & FMODE_WRITE) === 0) throw new KernelError("EBADF", "write");
      if (!file.fops.write) throw new KernelError("EINVAL", "write");
      return file.fops.write(file, bytes);
    });
  }

  /**
   * poll(2). Fills in `revents` of each entry and returns the number of entries with events.
   * A positive `timeoutMs` waits on the virtual clock; a negative one waits until something
   * is ready.
   * @throws KernelError EINVAL when more fds than RLIMIT_NOFILE are passed; EINTR when the
   * timeout is infinite and no pending event can make any fd ready (the model reports such a
   * wait instead of hanging).
   */
  poll(fds: PollFd[], timeoutMs: number): number {
    return this.#enter("poll", () => {
      if (fds.length > this.rlimitNofile) throw new KernelError("EINVAL", "poll");
      const scan = (): number => {
        let ready = 0;
        for (const p of fds) {
          p.revents = 0;
          if (p.fd < 0) continue;
          const e = this.#fds[p.fd];
          if (!e) p.revents = POLLNVAL;
          else {
            const mask = e.file.fops.poll ? e.file.fops.poll(e.file, p.events) : DEFAULT_POLLMASK;
            p.revents = mask & (p.events | POLLERR | POLLHUP);
          }
          if (p.revents) ready++;
        }
        return ready;
      };
      let ready = scan();
      if (ready === 0 && timeoutMs !== 0) {
        const clock = this.host.clock;
        const deadline = timeoutMs < 0 ? Number.POSITIVE_INFINITY : clock.now + timeoutMs * 1e6;
        const start = clock.now;
        const ok = clock.runUntil(() => {
          ready = scan();
          return ready > 0;
        }, deadline);
        if (this.host.trace?.on)
          this.host.trace.emit("wait", { start, text: ok ? "poll: ready" : "poll: timeout" });
        if (!ok && timeoutMs < 0) {
          // An infinite wait that no pending event can end: reported, not hung.
          throw new KernelError("EINTR", "poll", "no pending event can make these fds ready");
        }
      }
      return ready;
    });
  }

  /**
   * select(2) over read and write sets, built on the files' poll methods.
   * @returns the ready fds of each set and their total count
   * @throws KernelError EBADF for a closed fd in either set; as {@link Process.poll}.
   */
  select(
    readFds: readonly number[],
    writeFds: readonly number[],
    timeoutMs: number,
  ): { count: number; readable: number[]; writable: number[] } {
    for (const fd of [...readFds, ...writeFds]) this.fileOf(fd, "select");
    const fds: PollFd[] = [
      ...readFds.map((fd) => ({ fd, events: POLLIN })),
      ...writeFds.map((fd) => ({ fd, events: POLLOUT })),
    ];
    this.poll(fds, timeoutMs);
    const readable = readFds.filter(
      (_fd, i) => ((fds[i]?.revents ?? 0) & (POLLIN | POLLERR | POLLHUP)) !== 0,
    );
    const writable = writeFds.filter(
      (_fd, i) => ((fds[readFds.length + i]?.revents ?? 0) & (POLLOUT | POLLERR)) !== 0,
    );
    return { count: readable.length + writable.length, readable, writable };
  }

  /**
   * epoll_create1(2): a new epoll instance.
   * @throws KernelError EINVAL (flags other than EPOLL_CLOEXEC); EMFILE.
   */
  epollCreate(flags = 0): number {
    return this.#enter("epoll_create1", () => {
      if (flags & ~EPOLL_CLOEXEC) throw new KernelError("EINVAL", "epoll_create1");
      this.unusedFd("epoll_create1");
      const file = this.host.anonInodes.getFile("[eventpoll]", eventPollFops, new EventPoll(), 2);
      return this.installFd(file, flags, "epoll_create1");
    });
  }

  /**
   * epoll_ctl(2).
   * @throws KernelError EBADF (either fd); EINVAL (`epfd` is not an epoll, or is `fd`, bad
   * op); EPERM (the file cannot be polled); EEXIST; ENOENT.
   */
  epollCtl(epfd: number, op: number, fd: number, events = 0): void {
    this.#enter("epoll_ctl", () => {
      const ep = this.fileOf(epfd, "epoll_ctl");
      const target = this.fileOf(fd, "epoll_ctl");
      if (!(ep.privateData instanceof EventPoll)) throw new KernelError("EINVAL", "epoll_ctl");
      ep.privateData.ctl(op, fd, target, events, ep);
    });
  }

  /**
   * epoll_wait(2): the ready watched files (level-triggered), waiting on the virtual clock.
   * @throws KernelError EBADF; EINVAL (not an epoll, `maxEvents` < 1); EINTR for an infinite
   * wait nothing can end.
   */
  epollWait(epfd: number, maxEvents: number, timeoutMs: number): EpollEvent[] {
    return this.#enter("epoll_wait", () => {
      const ep = this.fileOf(epfd, "epoll_wait");
      if (!(ep.privateData instanceof EventPoll) || !(maxEvents >= 1)) {
        throw new KernelError("EINVAL", "epoll_wait");
      }
      const watch = ep.privateData;
      let ready = watch.ready(maxEvents);
      if (ready.length === 0 && timeoutMs !== 0) {
        const clock = this.host.clock;
        const deadline = timeoutMs < 0 ? Number.POSITIVE_INFINITY : clock.now + timeoutMs * 1e6;
        const ok = clock.runUntil(() => {
          ready = watch.ready(maxEvents);
          return ready.length > 0;
        }, deadline);
        if (!ok && timeoutMs < 0) {
          throw new KernelError("EINTR", "epoll_wait", "no pending event can make a file ready");
        }
      }
      return ready;
    });
  }

  /**
   * Reads a whole pseudo file (procfs, sysfs, debugfs) as text: open, read, close.
   * @throws KernelError ENOENT, EISDIR, EACCES.
   */
  readFile(path: string): string {
    return this.#enter("read", () => {
      const file = openNode(this.host, this, path, 0);
      try {
        if (!file.fops.read) throw new KernelError("EINVAL", "read");
        return new TextDecoder().decode(file.fops.read(file, Number.MAX_SAFE_INTEGER));
      } finally {
        file.put();
      }
    });
  }

  /**
   * Lists a directory (names only, without `.` and `..`).
   * @throws KernelError ENOENT, ENOTDIR.
   */
  readdir(path: string): string[] {
    return this.#enter("getdents64", () => {
      const node = this.host.namespace.resolve(path, "getdents64", { follow: true });
      if (node.kind !== "dir") throw new KernelError("ENOTDIR", "getdents64", path);
      return node.list();
    });
  }

  /**
   * readlink(2), e.g. of /proc/self/fd/N.
   * @throws KernelError ENOENT, EINVAL (not a link).
   */
  readlink(path: string): string {
    return this.#enter("readlink", () => {
      const node = this.host.namespace.resolve(path, "readlink", { follow: false });
      if (node.kind !== "link") throw new KernelError("EINVAL", "readlink", path);
      return node.target();
    });
  }

  /**
   * Hands an fd to another process the way SCM_RIGHTS does: the receiver gets its own fd
   * (lowest free) for the same open file.
   * @returns the fd number in `to`
   * @throws KernelError EBADF (fd not open here), EMFILE (no free fd in the receiver), ESRCH
   * (either side has exited).
   */
  sendFd(fd: number, to: Process, options: SendFdOptions = {}): number {
    return this.#enter("sendmsg", () => {
      const file = this.fileOf(fd, "sendmsg");
      if (to.exited) throw new KernelError("ESRCH", "sendmsg", "receiver has exited");
      file.get();
      try {
        return to.installFd(file, options.cloexec ? O_CLOEXEC : 0, "recvmsg");
      } catch (e) {
        file.put();
        throw e;
      }
    });
  }

  /** exit(2): closes every fd and unmaps every mapping. */
  exit(): void {
    if (this.exited) return;
    this.host.runAs(this, () => {
      for (const m of [...this.#maps]) this.munmap(m);
      this.#fds.forEach((e, fd) => {
        if (e) this.close(fd);
      });
    });
    this.exited = true;
    this.host.reap(this);
  }

  /** Delivers SIGKILL: pending kernel loops that check for fatal signals give up. */
  kill(): void {
    this.fatalSignalPending = true;
  }
}

/** The errno a syscall raised, or null: handy in tests and tables. */
export function errnoOf(fn: () => unknown): ErrnoCode | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof KernelError) return e.code;
    throw e;
  }
}
