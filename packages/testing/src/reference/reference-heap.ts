// The minimal correct heap: zeroed single pages, every buffer op, written against public exports.

import {
  type Device,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaBufOps,
  type DmaDirection,
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

/** A {@link ReferenceHeap} buffer's private data (`dmabuf->priv`). */
export interface ReferenceBuffer {
  /** The page frame of every page, in buffer order. */
  readonly pfns: Float64Array;
  /** The live attachments, with the tables mapped for them; each map gets a fresh one. */
  readonly attachments: HeapAttachments;
}

/**
 * The smallest heap that passes every case of the heap suite: copy it to start a heap of your
 * own. Buffers are zeroed single pages from the page allocator (so never contiguous); every
 * map builds a fresh sg table of the pages (physically consecutive pages merge into one
 * entry); CPU access syncs every mapped attachment; user mappings fault pages in on first
 * touch; vmap maps the page list.
 *
 * The heap is its own `DmaBufOps` table (like {@link @dmabuf/core!index.PageExporter}), so variants override one
 * method; the conformance suite's zoo of broken heaps does exactly that.
 *
 * @example
 * ```ts
 * const kernel = createKernel({ ram: "64MiB", plugins: [ReferenceHeap] });
 * const fd = allocFromHeap(kernel.spawn(), "pages", 3 * 4096);
 * ```
 */
@heap({ name: "pages", capabilities: { cpuAccess: true, vmap: true } })
export class ReferenceHeap implements DmaHeapOps, DmaBufOps<ReferenceBuffer> {
  /**
   * @param host - what the heap allocates from and exports with (given by `createKernel`)
   */
  constructor(readonly host: HeapHost) {}

  /**
   * Allocates `len` bytes of zeroed pages and exports them (`dma_heap_ops.allocate`). The
   * ALLOC ioctl has already checked the request: `len` is a non-zero page multiple.
   * @throws KernelError ENOMEM when pages run out; EINTR when the allocating process has a
   * fatal signal pending; the export's EINVAL. Nothing stays allocated on failure.
   */
  allocate(heap: DmaHeapHandle, len: number, fdFlags: number, _heapFlags: bigint): DmaBuf {
    const pfns = this.allocPages(len / this.host.pageSize);
    try {
      return this.host.dmaBuf.export<ReferenceBuffer>({
        expName: heap.name,
        owner: "reference-heap",
        ops: this,
        size: len,
        flags: fdFlags,
        priv: { pfns, attachments: new HeapAttachments(this.host.dma) },
      });
    } catch (e) {
      this.freePages(pfns);
      throw e;
    }
  }

  /**
   * Takes `count` zeroed pages, checking for a fatal signal before each one.
   * @throws KernelError ENOMEM, EINTR; the pages taken so far are given back first.
   */
  protected allocPages(count: number): Float64Array {
    const pfns = new Float64Array(count);
    let n = 0;
    try {
      for (; n < count; n++) {
        if (this.host.fatalSignalPending()) {
          throw new KernelError("EINTR", "reference_heap_allocate", "fatal signal pending");
        }
        pfns[n] = this.takePage();
      }
    } catch (e) {
      this.freePages(pfns.subarray(0, n));
      throw e;
    }
    return pfns;
  }

  /**
   * One zeroed page from the page allocator.
   * @throws KernelError ENOMEM when none is free.
   */
  protected takePage(): number {
    const pfn = this.host.buddy.allocPages(0, { zero: true });
    if (pfn < 0) throw new KernelError("ENOMEM", "reference_heap_allocate", "out of pages");
    return pfn;
  }

  /** Gives pages back to the page allocator. */
  protected freePages(pfns: Float64Array): void {
    for (const pfn of pfns) this.host.buddy.freePages(pfn, 0);
  }

  /** A fresh, unmapped sg table of a buffer's pages (`pfns`, in buffer order) for `dev`. */
  protected tableFor(pfns: Float64Array, dev: Device): SgTable {
    return this.host.sg.fromPages(pfns, dev.maxSegmentSize);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.attach} */
  attach(buf: DmaBuf<ReferenceBuffer>, attachment: DmaBufAttachment): void {
    buf.priv.attachments.attach(attachment);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.detach} */
  detach(buf: DmaBuf<ReferenceBuffer>, attachment: DmaBufAttachment): void {
    buf.priv.attachments.detach(attachment);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.mapDmaBuf} */
  mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const buf = attachment.dmabuf as DmaBuf<ReferenceBuffer>;
    const table = this.tableFor(buf.priv.pfns, attachment.dev);
    return buf.priv.attachments.map(attachment, dir, table);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.unmapDmaBuf} */
  unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    (attachment.dmabuf as DmaBuf<ReferenceBuffer>).priv.attachments.unmap(attachment, sgt, dir);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.beginCpuAccess} */
  beginCpuAccess(buf: DmaBuf<ReferenceBuffer>, dir: DmaDirection): void {
    buf.priv.attachments.syncForCpu(dir);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.endCpuAccess} */
  endCpuAccess(buf: DmaBuf<ReferenceBuffer>, dir: DmaDirection): void {
    buf.priv.attachments.syncForDevice(dir);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.mmap} */
  mmap(buf: DmaBuf<ReferenceBuffer>, vma: Vma): void {
    const pfns = buf.priv.pfns;
    vma.ops = { fault: (_vma, pgoff) => (pgoff < pfns.length ? (pfns[pgoff] as number) : -1) };
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.vmap} */
  vmap(buf: DmaBuf<ReferenceBuffer>): KernelMapping {
    return new KernelMapping(buf.priv.pfns, this.host.pageSize, this.host);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.vunmap} */
  vunmap(_buf: DmaBuf<ReferenceBuffer>, _map: KernelMapping): void {}

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.release} */
  release(buf: DmaBuf<ReferenceBuffer>): void {
    this.freePages(buf.priv.pfns);
  }
}
