// my-exporter: a DMA-BUF exporter whose buffers are zeroed single pages, with every optional op.

import {
  type DmaBuf,
  type DmaBufAttachment,
  type DmaBufOps,
  type DmaDirection,
  type ExporterHost,
  exporter,
  KernelError,
  KernelMapping,
  type SgTable,
  type Vma,
} from "@dmabuf/core";

/** The private data of a {@link MyExporter} buffer. */
export interface MyBuffer {
  /** One frame per page, in buffer order. */
  readonly pfns: Float64Array;
  /** Number of times `release` ran (exactly once is the contract). */
  releases: number;
  /** Tables currently mapped, with the device each is mapped for. */
  readonly mapped: Map<SgTable, DmaBufAttachment>;
}

/**
 * An exporter that backs a buffer
 * with zeroed single pages from the page allocator and implements every optional op (attach
 * bookkeeping, CPU access, mmap, vmap). Each map builds a fresh sg table, as exporters should.
 */
@exporter({ name: "my-exporter" })
export class MyExporter implements DmaBufOps<MyBuffer> {
  /** @param host - the exporter host the kernel constructs it with: `new MyExporter(host)` */
  constructor(private readonly host: ExporterHost) {}

  /**
   * Allocates and exports a buffer of `size` bytes (rounded up to pages), file flags `flags`.
   * The caller owns the one reference.
   * @throws KernelError ENOMEM when pages run out (nothing stays allocated); EINVAL for a size
   * of 0.
   */
  create(size: number, flags: number, name = "my-exporter"): DmaBuf<MyBuffer> {
    const ps = this.host.pageSize;
    const pages = Math.ceil(size / ps);
    if (!(pages > 0)) throw new KernelError("EINVAL", "my_exporter_create", "size 0");
    const pfns = new Float64Array(pages);
    for (let i = 0; i < pages; i++) {
      const pfn = this.host.buddy.allocPages(0, { zero: true });
      if (pfn < 0) {
        for (let j = 0; j < i; j++) this.host.buddy.freePages(pfns[j] as number, 0);
        throw new KernelError("ENOMEM", "my_exporter_create");
      }
      pfns[i] = pfn;
    }
    const priv: MyBuffer = { pfns, releases: 0, mapped: new Map() };
    try {
      return this.host.dmaBuf.export({ expName: name, ops: this, size: pages * ps, flags, priv });
    } catch (e) {
      this.#free(priv);
      throw e;
    }
  }

  /** {@inheritDoc @dmabuf/core!DmaBufOps.mapDmaBuf} */
  mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const priv = attachment.dmabuf.priv as MyBuffer;
    const sgt = this.host.sg.fromPages(priv.pfns, attachment.dev.maxSegmentSize);
    this.host.dma.mapSgtable(attachment.dev, sgt, dir);
    priv.mapped.set(sgt, attachment);
    return sgt;
  }

  /** {@inheritDoc @dmabuf/core!DmaBufOps.unmapDmaBuf} */
  unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    (attachment.dmabuf.priv as MyBuffer).mapped.delete(sgt);
    this.host.dma.unmapSgtable(attachment.dev, sgt, dir);
  }

  /**
   * Makes device writes visible to the CPU: syncs every mapped table for the CPU in the
   * direction of the access, as the kernel's heaps do.
   * @see {@link @dmabuf/core!DmaBufOps.beginCpuAccess}
   */
  beginCpuAccess(buf: DmaBuf<MyBuffer>, dir: DmaDirection): void {
    for (const [sgt, a] of buf.priv.mapped) this.host.dma.syncSgtableForCpu(a.dev, sgt, dir);
  }

  /**
   * Makes CPU writes visible to devices: syncs every mapped table for its device.
   * @see {@link @dmabuf/core!DmaBufOps.endCpuAccess}
   */
  endCpuAccess(buf: DmaBuf<MyBuffer>, dir: DmaDirection): void {
    for (const [sgt, a] of buf.priv.mapped) this.host.dma.syncSgtableForDevice(a.dev, sgt, dir);
  }

  /** {@inheritDoc @dmabuf/core!DmaBufOps.mmap} */
  mmap(buf: DmaBuf<MyBuffer>, vma: Vma): void {
    const ps = this.host.pageSize;
    for (let i = 0; i < vma.pageCount; i++) {
      vma.remapPfnRange(vma.start + i * ps, buf.priv.pfns[vma.pgoff + i] as number, ps);
    }
  }

  /** {@inheritDoc @dmabuf/core!DmaBufOps.vmap} */
  vmap(buf: DmaBuf<MyBuffer>): KernelMapping {
    return new KernelMapping(buf.priv.pfns, this.host.pageSize, this.host);
  }

  /** {@inheritDoc @dmabuf/core!DmaBufOps.release} */
  release(buf: DmaBuf<MyBuffer>): void {
    buf.priv.releases++;
    this.#free(buf.priv);
  }

  #free(priv: MyBuffer): void {
    for (const pfn of priv.pfns) this.host.buddy.freePages(pfn, 0);
  }
}
