// struct dma_heap_ops and the heap handle a heap's allocate method receives.

import type { DmaBuf } from "../dma-buf/dma-buf.js";
import type { CpuCaching } from "../mm/caching.js";

/**
 * What a heap plugin can do, declared with {@link heap} and read by the conformance suites
 * and by users alike.
 */
export interface HeapCapabilities {
  /** Every buffer is one physically contiguous run. */
  readonly contiguous?: boolean;
  /** Buffers can be mmapped and accessed by the CPU (SYNC, mmap). Default true. */
  readonly cpuAccess?: boolean;
  /** Buffers can be vmapped by the kernel. Default true. */
  readonly vmap?: boolean;
  /** Protected (secure) memory: no CPU access at all, scrubbed on free. */
  readonly protected?: boolean;
  /** Largest allocation the heap can ever satisfy, in bytes (for the suites). */
  readonly maxAllocation?: number;
  /**
   * The memory type of the heap's CPU mappings, mmap and vmap alike (the `pgprot` its mmap op
   * sets on the VMA and its vmap uses). Default `cached`. A heap declaring `write-combine` or
   * `uncached` needs no CPU cache maintenance in beginCpuAccess/endCpuAccess; the conformance
   * suites then check that its mappings really carry that type and that the CPU and a
   * non-coherent device see each other's bytes without any sync.
   */
  readonly cpuCaching?: CpuCaching;
}

/** A registered heap (`struct dma_heap`), as its `allocate` method sees it. */
export interface DmaHeapHandle {
  /** The heap's name: /dev/dma_heap/<name>, and `exp_name` of its buffers. */
  readonly name: string;
  /** Heap-private data given at registration (`dma_heap_get_drvdata`). */
  readonly priv: unknown;
}

/**
 * A heap's methods (`struct dma_heap_ops`).
 */
export interface DmaHeapOps {
  /**
   * Allocate a buffer of `len` bytes and export it. Called by the DMA_HEAP_IOCTL_ALLOC
   * handler after it validated the request: `len` is page aligned and non-zero, `fdFlags`
   * holds only O_CLOEXEC and access-mode bits, `heapFlags` is 0. **Required**:
   * registration fails with EINVAL without it.
   * @remarks Runs in the allocating process's context (`kernel.current`): a long allocation
   * should give up with EINTR when `fatalSignalPending` is set. The buffer's file flags are
   * `fdFlags` (so the access mode becomes the file's), `expName` is the heap's name. On
   * failure nothing may stay allocated.
   * @returns the exported buffer, whose one reference passes to the caller
   * @throws KernelError ENOMEM when memory runs out; EINTR when killed.
   * @see dma_heap_ops.allocate
   */
  allocate(heap: DmaHeapHandle, len: number, fdFlags: number, heapFlags: bigint): DmaBuf;
}
