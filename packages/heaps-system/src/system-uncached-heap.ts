// The system-uncached heap (/dev/dma_heap/system-uncached): system-heap pages, write-combined CPU mappings.

import type { DmaBufOps } from "@dmabuf/core";
import {
  Device,
  type DmaBuf,
  type DmaHeapHandle,
  type DmaHeapOps,
  type HeapHost,
  heap,
} from "@dmabuf/core";
import {
  allocateSystemBuffer,
  type HeapBuffer,
  type SystemHeapBuffer,
  systemHeapBufferOps,
} from "./system-heap.js";

/**
 * The uncached system heap (`/dev/dma_heap/system-uncached`), as Android kernels ship it:
 * buffers are made of the same page chunks as the {@link SystemHeap}'s, but every CPU mapping
 * of them — user mmap and kernel vmap — is write-combined (`pgprot_writecombine`: the CPU
 * caches never hold the buffer), so devices and the CPU share it without cache maintenance.
 *
 * - **Allocation**: pages are zeroed by the CPU through its cached linear mapping, then the
 *   cache is flushed once, by mapping and unmapping the buffer's table for the heap's own
 *   non-coherent device (`system-uncached`, DMA_BIDIRECTIONAL): no dirty line of the buffer
 *   is left to be written back over what is later stored through the uncached mappings.
 * - **Device mappings** are made with {@link @dmabuf/core!index.DMA_ATTR_SKIP_CPU_SYNC}: map and unmap do no
 *   cache maintenance.
 * - **CPU access** (`beginCpuAccess`/`endCpuAccess`, i.e. DMA_BUF_IOCTL_SYNC) does nothing:
 *   there is nothing cached to clean or invalidate. User space still brackets its access
 *   with SYNC, as the ABI asks.
 *
 * Declares `cpuCaching: "write-combine"`, so the conformance suites check that its
 * mappings are write-combined instead of requiring syncs. Mainline Linux has no such heap;
 * Android's is the system heap's code with an `uncached` flag.
 *
 * Registered by `createKernel` when listed in its `plugins`, constructed with its `HeapHost`.
 *
 * @example
 * ```ts
 * const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap, SystemUncachedHeap] });
 * const proc = kernel.spawn();
 * const heapFd = proc.open("/dev/dma_heap/system-uncached", O_RDWR);
 * const fd = allocFromHeap(proc, heapFd, 4096);
 * const map = proc.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
 * map.vma.caching; // "write-combine"
 * ```
 */
@heap({
  name: "system-uncached",
  capabilities: { contiguous: false, cpuAccess: true, vmap: true, cpuCaching: "write-combine" },
})
export class SystemUncachedHeap implements DmaHeapOps {
  /**
   * The heap's own device (`dma_heap_get_dev`): non-coherent, 64-bit mask. Allocation maps
   * and unmaps each new buffer for it once, which flushes the zeroed pages out of the CPU
   * cache. Not registered with the platform; it never holds a mapping after an allocation.
   */
  readonly device: Device = new Device({ name: "system-uncached", coherent: false });

  /** Fault-injection hook for tests: as {@link SystemHeap.afterChunk}. */
  afterChunk: ((chunkIndex: number, pfn: number, order: number) => void) | undefined = undefined;

  /** The exporter methods shared by every buffer of this heap. */
  readonly #ops: DmaBufOps<HeapBuffer>;

  /** @param host - what the heap allocates from and exports with (given by `createKernel`) */
  constructor(readonly host: HeapHost) {
    this.#ops = systemHeapBufferOps(host, "write-combine");
  }

  /**
   * Allocates and exports a buffer of `len` bytes (`system_uncached_heap_allocate`). Called
   * by the DMA_HEAP_IOCTL_ALLOC handler after it validated the request (`len` page aligned
   * and non-zero, `heapFlags` 0).
   *
   * Chunks are taken as by {@link SystemHeap.allocate} (orders 8, 4, 0, largest first). Each
   * is zeroed by the CPU through the cached linear mapping; once the table is built, it is
   * mapped and unmapped for {@link SystemUncachedHeap.device} (DMA_BIDIRECTIONAL), which
   * cleans and then invalidates the buffer's lines.
   *
   * @remarks Runs in the allocating process's context: a pending fatal signal ends the
   * allocation before the next chunk. On any failure every chunk already taken is freed.
   * @param heap - the heap being allocated from; its name becomes the buffer's `expName`
   * @param len - length in bytes, page aligned, non-zero
   * @param fdFlags - file flags of the buffer
   * @param _heapFlags - heap flags; always 0
   * @returns the exported buffer; its one reference passes to the caller
   * @throws KernelError ENOMEM when no chunk of any allowed order is available; EINTR when
   * the allocating process has a fatal signal pending; the export's error (EINVAL).
   * @see dma_heap_ops.allocate
   */
  allocate(
    heap: DmaHeapHandle,
    len: number,
    fdFlags: number,
    _heapFlags: bigint,
  ): DmaBuf<SystemHeapBuffer> {
    return allocateSystemBuffer(
      this.host,
      heap,
      len,
      fdFlags,
      this.#ops,
      this.afterChunk,
      this.device,
    );
  }
}
