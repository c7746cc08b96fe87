// include/uapi/linux/dma-heap.h: the ALLOC ioctl and struct dma_heap_allocation_data.

import { O_ACCMODE, O_CLOEXEC } from "./fcntl.js";
import { _IOWR } from "./ioctl.js";
import { copyBytes, getU32, getU64, setU32, setU64 } from "./le-bytes.js";

/** ioctl type byte of heap requests ('H'). */
export const DMA_HEAP_IOC_MAGIC = 0x48;
/** Size of `struct dma_heap_allocation_data`: u64 len; u32 fd; u32 fd_flags; u64 heap_flags. */
export const DMA_HEAP_ALLOCATION_DATA_SIZE = 24;
/** Allocate a buffer: `_IOWR('H', 0, struct dma_heap_allocation_data)` = 0xC0184800. */
export const DMA_HEAP_IOCTL_ALLOC = _IOWR(DMA_HEAP_IOC_MAGIC, 0, DMA_HEAP_ALLOCATION_DATA_SIZE);
/** fd_flags the ALLOC ioctl accepts: O_CLOEXEC | O_ACCMODE. */
export const DMA_HEAP_VALID_FD_FLAGS = O_CLOEXEC | O_ACCMODE;
/** heap_flags the ALLOC ioctl accepts: none are defined. */
export const DMA_HEAP_VALID_HEAP_FLAGS = 0n;

/** `struct dma_heap_allocation_data` as a value. */
export interface DmaHeapAllocationData {
  /** Requested length in bytes (u64). */
  len: bigint;
  /** Out: the new dma-buf fd; must be 0 on input. */
  fd: number;
  /** O_CLOEXEC and access-mode bits for the new fd and file. */
  fdFlags: number;
  /** Heap-specific flags (u64); none are defined. */
  heapFlags: bigint;
}

/** Encodes `struct dma_heap_allocation_data` (24 bytes, little-endian, x86-64). */
export function encodeDmaHeapAllocationData(arg: Partial<DmaHeapAllocationData>): Uint8Array {
  const b = new Uint8Array(DMA_HEAP_ALLOCATION_DATA_SIZE);
  setU64(b, 0, arg.len ?? 0n);
  setU32(b, 8, (arg.fd ?? 0) >>> 0);
  setU32(b, 12, (arg.fdFlags ?? 0) >>> 0);
  setU64(b, 16, arg.heapFlags ?? 0n);
  return b;
}

/** Decodes `struct dma_heap_allocation_data` (missing trailing bytes read as zero). */
export function decodeDmaHeapAllocationData(bytes: Uint8Array): DmaHeapAllocationData {
  const b = new Uint8Array(DMA_HEAP_ALLOCATION_DATA_SIZE);
  copyBytes(b, bytes, Math.min(bytes.length, DMA_HEAP_ALLOCATION_DATA_SIZE));
  return {
    len: getU64(b, 0),
    fd: getU32(b, 8),
    fdFlags: getU32(b, 12),
    heapFlags: getU64(b, 16),
  };
}
