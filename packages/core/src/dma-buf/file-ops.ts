// The dma-buf file's methods: llseek, ioctl (SYNC, SET_NAME), mmap, poll, fdinfo, release.

import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaDirection,
} from "../dma/direction.js";
import { KernelError } from "../errors/kernel-error.js";
import { DMA_RESV_USAGE_READ, DMA_RESV_USAGE_WRITE } from "../fence/dma-resv.js";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_NAME_LEN,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_SIZE,
  DMA_BUF_SYNC_VALID_FLAGS_MASK,
  DMA_BUF_SYNC_WRITE,
  view,
} from "../uapi/dma-buf.js";
import { SEEK_END, SEEK_SET } from "../uapi/fcntl.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import type { File, FileOperations, IoctlArg } from "../vfs/file.js";
import type { DmaBufCore } from "./core.js";
import type { DmaBuf } from "./dma-buf.js";

/**
 * Reads `size` bytes of an ioctl argument (`copy_from_user`).
 * @throws KernelError EFAULT for a NULL pointer or a too-short buffer.
 */
export function copyFromUser(arg: IoctlArg, size: number, syscall: string): Uint8Array {
  if (!(arg instanceof Uint8Array) || arg.length < size) {
    throw new KernelError("EFAULT", syscall, "bad user pointer");
  }
  return arg.subarray(0, size);
}

/**
 * Reads a NUL-terminated user string of at most `max` bytes including the NUL
 * (`strndup_user`).
 * @throws KernelError EFAULT (NULL, or bytes end before a NUL); EINVAL (longer than `max`).
 */
export function strndupUser(arg: IoctlArg, max: number, syscall: string): string {
  if (arg === null) throw new KernelError("EFAULT", syscall, "NULL string");
  if (typeof arg === "string") {
    const nul = arg.indexOf("\0");
    const s = nul >= 0 ? arg.slice(0, nul) : arg;
    if (new TextEncoder().encode(s).length + 1 > max) {
      throw new KernelError("EINVAL", syscall, "string too long");
    }
    return s;
  }
  const limit = Math.min(arg.length, max);
  const nul = arg.subarray(0, limit).indexOf(0);
  if (nul < 0) {
    if (arg.length >= max) throw new KernelError("EINVAL", syscall, "string too long");
    throw new KernelError("EFAULT", syscall, "string not terminated");
  }
  return new TextDecoder().decode(arg.subarray(0, nul));
}

/** The SYNC direction bits as a DMA direction. */
function syncDirection(flags: bigint): DmaDirection {
  switch (Number(flags & BigInt(DMA_BUF_SYNC_RW))) {
    case DMA_BUF_SYNC_READ:
      return DMA_FROM_DEVICE;
    case DMA_BUF_SYNC_WRITE:
      return DMA_TO_DEVICE;
    case DMA_BUF_SYNC_RW:
      return DMA_BIDIRECTIONAL;
    default:
      throw new KernelError("EINVAL", "ioctl", "DMA_BUF_IOCTL_SYNC without a direction");
  }
}

/** Builds the file methods shared by every dma-buf file of one kernel. */
export function dmaBufFileOperations(core: DmaBufCore): FileOperations {
  const bufOf = (file: File): DmaBuf => file.privateData as DmaBuf;
  return {
    llseek(file, offset, whence) {
      if (offset !== 0) throw new KernelError("EINVAL", "lseek", "only offset 0 is supported");
      if (whence === SEEK_END) return bufOf(file).size;
      if (whence === SEEK_SET) return 0;
      throw new KernelError("EINVAL", "lseek", "only SEEK_SET and SEEK_END are supported");
    },
    ioctl(file, cmd, arg: IoctlArg) {
      const buf = bufOf(file);
      switch (cmd) {
        case DMA_BUF_IOCTL_SYNC: {
          const bytes = copyFromUser(arg, DMA_BUF_SYNC_SIZE, "ioctl");
          const flags = view(bytes).getBigUint64(0, true);
          if (flags & ~BigInt(DMA_BUF_SYNC_VALID_FLAGS_MASK)) {
            throw new KernelError("EINVAL", "ioctl", "unknown DMA_BUF_IOCTL_SYNC flags");
          }
          const dir = syncDirection(flags);
          if (flags & BigInt(DMA_BUF_SYNC_END)) core.endCpuAccess(buf, dir);
          else core.beginCpuAccess(buf, dir);
          return 0;
        }
        case DMA_BUF_SET_NAME_A:
        case DMA_BUF_SET_NAME_B:
          core.setName(buf, strndupUser(arg, DMA_BUF_NAME_LEN, "ioctl"));
          return 0;
        default:
          throw new KernelError("ENOTTY", "ioctl", `0x${cmd.toString(16)} is not a dma-buf ioctl`);
      }
    },
    mmap(file, vma) {
      core.mmapInternal(bufOf(file), vma);
    },
    poll(file, events) {
      const resv = bufOf(file).resv;
      let mask = 0;
      if (events & POLLOUT && resv.testSignaled(DMA_RESV_USAGE_READ)) mask |= POLLOUT;
      if (events & POLLIN && resv.testSignaled(DMA_RESV_USAGE_WRITE)) mask |= POLLIN;
      return mask;
    },
    showFdinfo(file) {
      const buf = bufOf(file);
      return (
        `size:\t${buf.size}\ncount:\t${file.refCount}\nexp_name:\t${buf.expName}\n` +
        (buf.name !== null ? `name:\t${buf.name}\n` : "")
      );
    },
    release(file) {
      core.release(bufOf(file));
    },
  };
}
