// User-space helpers over the raw ioctls: allocate from a heap, bracket CPU access, name a buffer.

import { KernelError } from "../errors/kernel-error.js";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_WRITE,
  encodeDmaBufSync,
} from "../uapi/dma-buf.js";
import {
  DMA_HEAP_IOCTL_ALLOC,
  decodeDmaHeapAllocationData,
  encodeDmaHeapAllocationData,
} from "../uapi/dma-heap.js";
import { O_CLOEXEC, O_RDONLY, O_RDWR } from "../uapi/fcntl.js";
import type { Process } from "../vfs/process.js";

/** Options of {@link allocFromHeap}. */
export interface AllocOptions {
  /** fd_flags: access mode and O_CLOEXEC of the new buffer; default O_RDWR | O_CLOEXEC. */
  fdFlags?: number;
  /** heap_flags; default 0 (no flags are defined). */
  heapFlags?: bigint;
}

/**
 * Allocates a dma-buf from a heap, the way libdmabufheap / the selftest do: DMA_HEAP_IOCTL_ALLOC
 * on a heap fd. `heap` is an open heap fd, or a heap name (then /dev/dma_heap/<name> is
 * opened read-only and closed again).
 * @returns the new dma-buf fd
 * @throws KernelError EINVAL when `len` is not a whole number of bytes in 0..2^64-1 (nothing is
 * opened); from open(): ENOENT for an unknown heap (the message lists the heaps that exist),
 * EACCES; from the ioctl: EINVAL, ENOMEM, EINTR, EMFILE.
 */
export function allocFromHeap(
  proc: Process,
  heap: number | string,
  len: number | bigint,
  options: AllocOptions = {},
): number {
  const bytes = allocLength(len);
  const heapFd = typeof heap === "string" ? openHeap(proc, heap) : heap;
  try {
    const arg = encodeDmaHeapAllocationData({
      len: bytes,
      fdFlags: options.fdFlags ?? O_RDWR | O_CLOEXEC,
      heapFlags: options.heapFlags ?? 0n,
    });
    proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg);
    return decodeDmaHeapAllocationData(arg).fd;
  } finally {
    if (typeof heap === "string") proc.close(heapFd);
  }
}

const U64_MAX = (1n << 64n) - 1n;

/** `len` as the u64 the ioctl carries. @throws KernelError EINVAL for anything else. */
function allocLength(len: number | bigint): bigint {
  const ok =
    typeof len === "bigint" ? len >= 0n && len <= U64_MAX : Number.isSafeInteger(len) && len >= 0;
  if (!ok) {
    throw new KernelError(
      "EINVAL",
      "allocFromHeap",
      `len must be a whole number of bytes from 0 to 2^64-1, not ${String(len)}`,
    );
  }
  return BigInt(len);
}

/** Opens /dev/dma_heap/<name>; an unknown name's ENOENT lists the heaps that exist. */
function openHeap(proc: Process, name: string): number {
  try {
    return proc.open(`/dev/dma_heap/${name}`, O_RDONLY | O_CLOEXEC);
  } catch (e) {
    if (!(e instanceof KernelError) || e.code !== "ENOENT") throw e;
    let heaps: string[] = [];
    try {
      heaps = proc.readdir("/dev/dma_heap").sort();
    } catch {
      // No heap directory at all: no heap registered.
    }
    const known = heaps.length > 0 ? heaps.map((h) => `"${h}"`).join(", ") : "none";
    throw new KernelError("ENOENT", "open", `no heap "${name}"; the heaps are: ${known}`);
  }
}

/** Direction of a CPU access bracket. */
export type CpuAccess = "read" | "write" | "rw";

const SYNC_DIR: Readonly<Record<CpuAccess, number>> = {
  read: DMA_BUF_SYNC_READ,
  write: DMA_BUF_SYNC_WRITE,
  rw: DMA_BUF_SYNC_RW,
};

/** Issues DMA_BUF_IOCTL_SYNC with the given flags. */
export function syncBuffer(proc: Process, fd: number, flags: number): void {
  proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(flags));
}

/**
 * Runs `fn` between DMA_BUF_IOCTL_SYNC START and END in direction `access`, so the END cannot
 * be forgotten: it is issued even when `fn` throws (and `fn`'s error is what propagates).
 * If START fails, `fn` does not run.
 * @returns what `fn` returns
 * @throws KernelError from SYNC (EBADF, ENOTTY, EINTR…), or whatever `fn` throws.
 */
export function withCpuAccess<T>(proc: Process, fd: number, access: CpuAccess, fn: () => T): T {
  const dir = SYNC_DIR[access];
  if (dir === undefined) throw new TypeError(`access must be "read", "write" or "rw"`);
  syncBuffer(proc, fd, dir);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    try {
      syncBuffer(proc, fd, dir | DMA_BUF_SYNC_END);
    } catch {
      // The callback's error is the one worth reporting.
    }
    throw e;
  }
  syncBuffer(proc, fd, dir | DMA_BUF_SYNC_END);
  return result;
}

/**
 * Names the buffer behind `fd` (DMA_BUF_SET_NAME); names show in fdinfo, bufinfo and maps.
 * @throws KernelError EINVAL for 32 bytes or more; ENOTTY for a non-dma-buf fd.
 */
export function setBufferName(proc: Process, fd: number, name: string): void {
  proc.ioctl(fd, DMA_BUF_SET_NAME, name);
}
