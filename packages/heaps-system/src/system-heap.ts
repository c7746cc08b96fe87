// The system heap (/dev/dma_heap/system): buffers of zeroed page chunks from the page allocator.

import {
  type CpuCaching,
  type Device,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type DmaBufOps,
  type DmaHeapHandle,
  type DmaHeapOps,
  HeapAttachments,
  type HeapHost,
  heap,
  KernelError,
  KernelMapping,
  SgTable,
  type Vma,
} from "@dmabuf/core";

/**
 * Page orders the heap tries, largest first: with 4 KiB pages 1 MiB, 64 KiB and 4 KiB chunks,
 * sizes chosen to match common IOMMU page sizes.
 */
const ORDERS: readonly number[] = [8, 4, 0];

/**
 * What a system-heap buffer is made of (`dmabuf->priv`), as a read-only view: the chunks in
 * allocation order and the buffer's scatter-gather table with one entry per chunk.
 *
 * @remarks Chunk `i` is `2^chunkOrders[i]` physically contiguous pages starting at frame
 * `chunkPfns[i]`, naturally aligned to its size. Chunk sizes never increase along the buffer.
 * Treat `table` as read-only: importers get private copies of it when they attach.
 */
export interface SystemHeapBuffer {
  /** Buffer length in bytes (page aligned). */
  readonly len: number;
  /** Head page frame of each chunk, in allocation order. */
  readonly chunkPfns: ArrayLike<number>;
  /** Page order of each chunk (8, 4 or 0), parallel to `chunkPfns`. */
  readonly chunkOrders: ArrayLike<number>;
  /** The buffer's sg table: one entry per chunk (length = chunk size, offset 0), unmapped. */
  readonly table: SgTable;
}

/** The private data behind every system-heap buffer. */
export class HeapBuffer implements SystemHeapBuffer {
  #chunkFirstPage: Float64Array | null = null;
  /** Attachments, in attach order, each with a private duplicate of `table`. */
  readonly attachments: HeapAttachments;

  constructor(
    host: HeapHost,
    readonly len: number,
    readonly chunkPfns: Float64Array,
    readonly chunkOrders: Uint8Array,
    readonly table: SgTable,
  ) {
    this.attachments = new HeapAttachments(host.dma);
  }

  /** First buffer page of each chunk (prefix sums of the chunk page counts), made on first use. */
  get chunkFirstPage(): Float64Array {
    if (this.#chunkFirstPage === null) {
      const n = this.chunkPfns.length;
      const first = new Float64Array(n);
      let page = 0;
      for (let i = 0; i < n; i++) {
        first[i] = page;
        page += 2 ** (this.chunkOrders[i] as number);
      }
      this.#chunkFirstPage = first;
    }
    return this.#chunkFirstPage;
  }

  /** Index of the chunk holding buffer page `page` (binary search). */
  chunkAt(page: number): number {
    const first = this.chunkFirstPage;
    let lo = 0;
    let hi = first.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((first[mid] as number) <= page) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Growable parallel arrays of the chunks taken so far during one allocation. */
class ChunkList {
  pfns: Float64Array;
  orders: Uint8Array;
  count = 0;

  constructor(capacity: number) {
    this.pfns = new Float64Array(Math.max(1, capacity));
    this.orders = new Uint8Array(Math.max(1, capacity));
  }

  push(pfn: number, order: number): void {
    if (this.count === this.pfns.length) {
      const pfns = new Float64Array(this.count * 2);
      pfns.set(this.pfns);
      const orders = new Uint8Array(this.count * 2);
      orders.set(this.orders);
      this.pfns = pfns;
      this.orders = orders;
    }
    this.pfns[this.count] = pfn;
    this.orders[this.count] = order;
    this.count++;
  }
}

/** Number of chunks the greedy split of `len` takes when no allocation falls back. */
function greedyChunkCount(len: number, pageSize: number): number {
  let n = 0;
  let rest = len;
  for (const order of ORDERS) {
    const size = pageSize * 2 ** order;
    n += Math.floor(rest / size);
    rest %= size;
  }
  return n;
}

/**
 * The system heap (`/dev/dma_heap/system`): every buffer is a list of zeroed, naturally
 * aligned page chunks taken greedily from the page allocator, largest order first
 * ([8, 4, 0]: 1 MiB, 64 KiB, 4 KiB with 4 KiB pages). Buffers are not physically contiguous;
 * importers get a private copy of the buffer's sg table per attachment; user mappings are
 * populated in full at mmap time; kernel mappings (vmap) are refcounted by the core.
 *
 * Registered by `createKernel` when listed in its `plugins`, constructed with its `HeapHost`.
 *
 * @example
 * ```ts
 * const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap] });
 * const proc = kernel.spawn();
 * const heapFd = proc.open("/dev/dma_heap/system", O_RDWR);
 * const data = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR | O_CLOEXEC });
 * proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, data);
 * const { fd } = decodeDmaHeapAllocationData(data);
 * ```
 */
@heap({ name: "system", capabilities: { contiguous: false, cpuAccess: true, vmap: true } })
export class SystemHeap implements DmaHeapOps {
  /**
   * Fault-injection hook for tests, called right after chunk number `chunkIndex` (0-based,
   * head frame `pfn`, page order `order`) was taken and before the next chunk's fatal-signal
   * check; `undefined` (the default) does nothing. Use it to deliver a signal mid-allocation
   * (`proc.kill()`: the next check fails the allocation with EINTR) or to change memory
   * pressure between chunks. An exception it throws fails the allocation like an allocator
   * error: the chunks taken so far are freed and the exception propagates.
   */
  afterChunk: ((chunkIndex: number, pfn: number, order: number) => void) | undefined = undefined;

  /** The exporter methods shared by every buffer of this heap. */
  readonly #ops: DmaBufOps<HeapBuffer>;

  /** @param host - what the heap allocates from and exports with (given by `createKernel`) */
  constructor(readonly host: HeapHost) {
    this.#ops = systemHeapBufferOps(host, "cached");
  }

  /**
   * Allocates and exports a buffer of `len` bytes (`system_heap_allocate`). Called by the
   * DMA_HEAP_IOCTL_ALLOC handler, which has already validated the request: `len` is a non-zero
   * multiple of the page size, `fdFlags` holds only O_CLOEXEC and access-mode bits, and
   * `heapFlags` is 0 (the system heap defines none).
   *
   * Chunks are taken greedily, orders [8, 4, 0]: an order is skipped while the rest to
   * allocate is smaller than its chunk, or when it exceeds the order of the previous chunk (so
   * chunk sizes never increase). Every page comes zeroed from the page allocator, also when
   * it reuses freed memory.
   *
   * @remarks Runs in the allocating process's context: before each chunk a pending fatal
   * signal (`kernel.current.fatalSignalPending`) ends the allocation. On any failure every
   * chunk already taken is freed; nothing stays allocated.
   * @param heap - the heap being allocated from; its name becomes the buffer's `expName`
   * @param len - length in bytes, page aligned, non-zero
   * @param fdFlags - file flags of the buffer (the access mode becomes the file's)
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
    return allocateSystemBuffer(this.host, heap, len, fdFlags, this.#ops, this.afterChunk);
  }
}

/**
 * `system_heap_do_allocate`: takes the chunks, builds the table and exports the buffer with
 * `ops`. With `flushDevice` (the uncached variant) the pages are zeroed through the CPU's
 * cached linear mapping, as `__GFP_ZERO` clears pages with the CPU, then that cache is
 * flushed once by mapping and unmapping the table for the heap's own (non-coherent) device.
 * Without it the page allocator hands the pages out zeroed.
 */
export function allocateSystemBuffer(
  host: HeapHost,
  heap: DmaHeapHandle,
  len: number,
  fdFlags: number,
  ops: DmaBufOps<HeapBuffer>,
  afterChunk: ((chunkIndex: number, pfn: number, order: number) => void) | undefined,
  flushDevice?: Device,
): DmaBuf<SystemHeapBuffer> {
  const ps = host.pageSize;
  const chunks = new ChunkList(greedyChunkCount(len, ps));
  let buffer: HeapBuffer;
  try {
    let remaining = len;
    let maxOrder = ORDERS[0] as number;
    while (remaining > 0) {
      if (host.fatalSignalPending()) {
        throw new KernelError("EINTR", "dma_heap_ioctl_allocate", "fatal signal pending");
      }
      let pfn = -1;
      let order = 0;
      for (const o of ORDERS) {
        if (o > maxOrder || remaining < ps * 2 ** o) continue;
        pfn = host.buddy.allocPages(o, { zero: flushDevice === undefined });
        if (pfn >= 0) {
          order = o;
          break;
        }
      }
      if (pfn < 0) {
        throw new KernelError("ENOMEM", "dma_heap_ioctl_allocate", "out of pages");
      }
      chunks.push(pfn, order);
      remaining -= ps * 2 ** order;
      maxOrder = order;
      if (flushDevice) host.cpu.fill(pfn * ps, ps * 2 ** order, 0);
      afterChunk?.(chunks.count - 1, pfn, order);
    }
    const n = chunks.count;
    const table = host.sg.alloc(n);
    for (let i = 0; i < n; i++) {
      table.append(chunks.pfns[i] as number, ps * 2 ** (chunks.orders[i] as number));
    }
    buffer = new HeapBuffer(host, len, chunks.pfns.slice(0, n), chunks.orders.slice(0, n), table);
  } catch (e) {
    freeChunks(host, chunks.pfns, chunks.orders, chunks.count);
    throw e;
  }
  if (flushDevice) {
    // The zeroing above left the pages' lines dirty in the CPU cache: write them back and
    // drop them before any uncached mapping exists, or a later write-back would overwrite
    // what is stored through it.
    host.dma.mapSgtable(flushDevice, buffer.table, DMA_BIDIRECTIONAL);
    host.dma.unmapSgtable(flushDevice, buffer.table, DMA_BIDIRECTIONAL);
  }
  try {
    return host.dmaBuf.export({
      expName: heap.name,
      owner: "heaps-system",
      ops,
      size: len,
      flags: fdFlags,
      priv: buffer,
    });
  } catch (e) {
    freeChunks(host, buffer.chunkPfns, buffer.chunkOrders, buffer.chunkPfns.length);
    throw e;
  }
}

/** Gives `count` chunks back to the page allocator. */
function freeChunks(host: HeapHost, pfns: Float64Array, orders: Uint8Array, count: number): void {
  for (let i = 0; i < count; i++) {
    host.buddy.freePages(pfns[i] as number, orders[i] as number);
  }
}

/**
 * The system heap's `dma_buf_ops`, closed over its kernel. With `caching` other than
 * `cached` (the uncached variant) user and kernel mappings get that memory type, device
 * mappings skip the CPU sync, and CPU access needs no maintenance.
 */
export function systemHeapBufferOps(host: HeapHost, caching: CpuCaching): DmaBufOps<HeapBuffer> {
  const attachmentsOf = (buf: DmaBuf) => (buf.priv as HeapBuffer).attachments;
  const cached = caching === "cached";
  const attrs = cached ? 0 : DMA_ATTR_SKIP_CPU_SYNC;
  return {
    attach(buf, attachment) {
      buf.priv.attachments.attach(attachment, host.sg.dup(buf.priv.table));
    },

    detach(buf, attachment) {
      buf.priv.attachments.detach(attachment);
    },

    mapDmaBuf(attachment, dir) {
      return attachmentsOf(attachment.dmabuf).map(attachment, dir, undefined, attrs);
    },

    unmapDmaBuf(attachment, sgt, dir) {
      attachmentsOf(attachment.dmabuf).unmap(attachment, sgt, dir, attrs);
    },

    // A vmap needs no cache maintenance of its own here: the modelled CPU caches are indexed
    // by physical address, so the kernel mapping and the pages share their lines (Linux's
    // vmap-range invalidate/flush only matters for aliasing caches). Only the devices'
    // mappings are synced, and none when the CPU's mappings are uncached.
    beginCpuAccess(buf, dir) {
      if (cached) buf.priv.attachments.syncForCpu(dir);
    },

    endCpuAccess(buf, dir) {
      if (cached) buf.priv.attachments.syncForDevice(dir);
    },

    mmap(buf, vma) {
      vma.caching = caching;
      mmapChunks(buf.priv, vma);
    },

    vmap(buf) {
      const b = buf.priv;
      const ps = host.pageSize;
      const pfns = new Float64Array(b.len / ps);
      let k = 0;
      for (let i = 0; i < b.chunkPfns.length; i++) {
        const head = b.chunkPfns[i] as number;
        const pages = 2 ** (b.chunkOrders[i] as number);
        for (let j = 0; j < pages; j++) pfns[k++] = head + j;
      }
      return new KernelMapping(pfns, ps, host, caching);
    },

    release(buf) {
      const b = buf.priv;
      freeChunks(host, b.chunkPfns, b.chunkOrders, b.chunkPfns.length);
    },
  };
}

/**
 * Populates `vma` with the buffer's pages from page `vma.pgoff` on. Linux 6.x remaps one page
 * per call; on a private (copy-on-write) mapping only a call covering the whole mapping is
 * allowed, so a private mapping of more than one page fails with EINVAL at its first page
 * while a one-page private mapping works (as observed on 6.1). A shared mapping gets one call
 * per run of a chunk: the same page table, fewer calls.
 */
function mmapChunks(b: HeapBuffer, vma: Vma): void {
  const ps = vma.pageSize;
  const end = vma.end;
  let addr = vma.start;
  let i = b.chunkAt(vma.pgoff);
  let skip = vma.pgoff - (b.chunkFirstPage[i] as number);
  for (; addr < end && i < b.chunkPfns.length; i++, skip = 0) {
    const pages = Math.min(2 ** (b.chunkOrders[i] as number) - skip, (end - addr) / ps);
    const pfn = (b.chunkPfns[i] as number) + skip;
    if (vma.isCow) {
      for (let p = 0; p < pages; p++) vma.remapPfnRange(addr + p * ps, pfn + p, ps);
    } else {
      vma.remapPfnRange(addr, pfn, pages * ps);
    }
    addr += pages * ps;
  }
}
