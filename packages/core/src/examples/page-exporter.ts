// A minimal reference exporter: a buffer of single pages, with every optional op implemented.

import type { DmaDirection } from "../dma/direction.js";
import type { DmaMappingApi } from "../dma/mapping.js";
import type { DmaBufCore } from "../dma-buf/core.js";
import type { DmaBuf, DmaBufAttachment } from "../dma-buf/dma-buf.js";
import { KernelMapping } from "../dma-buf/kernel-mapping.js";
import type { DmaBufOps } from "../dma-buf/ops.js";
import { KernelError } from "../errors/kernel-error.js";
import type { BuddyAllocator } from "../mm/buddy.js";
import type { CpuPort } from "../mm/cpu-port.js";
import type { SgTableAllocator } from "../mm/sg-alloc.js";
import type { SgTable } from "../mm/sg-table.js";
import type { Vma } from "../mm/vma.js";
import { exporter } from "../plugin/metadata.js";

/** The kernel services the example exporter uses: a subset of its `ExporterHost`. */
export interface PageExporterHost {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** The page allocator. */
  readonly buddy: BuddyAllocator;
  /** The dma-buf core. */
  readonly dmaBuf: DmaBufCore;
  /** The DMA mapping API. */
  readonly dma: DmaMappingApi;
  /** sg-table allocation (fails as `kernel.faults` says). */
  readonly sg: SgTableAllocator;
  /** The CPU port (for vmap). */
  readonly cpu: CpuPort;
}

/** The private data of a {@link PageExporter} buffer. */
export interface PageBuffer {
  /** One frame per page, in buffer order. */
  readonly pfns: Float64Array;
  /** Number of times `release` ran (exactly once is the contract). */
  releases: number;
  /** Tables currently mapped, with the device each is mapped for. */
  readonly mapped: Map<SgTable, DmaBufAttachment>;
}

/**
 * A small, complete exporter to learn from and to test importers against: it backs a buffer
 * with zeroed single pages from the page allocator and implements every optional op (attach
 * bookkeeping, CPU access, mmap, vmap). Each map builds a fresh sg table, as exporters should.
 *
 * @example
 * ```ts
 * const kernel = createKernel({ plugins: [PageExporter] });
 * const buf = kernel.plugin(PageExporter).create(3 * 4096, O_RDWR);
 * const fd = kernel.dmaBuf.fd(buf, kernel.spawn(), O_CLOEXEC);
 * ```
 */
@exporter({ name: "page-exporter" })
export class PageExporter implements DmaBufOps<PageBuffer> {
  /** @param host - the exporter's host (what `createKernel` constructs it with), or any other */
  constructor(private readonly host: PageExporterHost) {}

  /**
   * Allocates and exports a buffer of `size` bytes (rounded up to pages), file flags `flags`.
   * The caller owns the one reference.
   * @throws KernelError ENOMEM when pages run out (nothing stays allocated); EINVAL for a size
   * of 0.
   */
  create(size: number, flags: number, name = "page-exporter"): DmaBuf<PageBuffer> {
    const ps = this.host.pageSize;
    const pages = Math.ceil(size / ps);
    if (!(pages > 0)) throw new KernelError("EINVAL", "page_exporter_create", "size 0");
    const pfns = new Float64Array(pages);
    for (let i = 0; i < pages; i++) {
      const pfn = this.host.buddy.allocPages(0, { zero: true });
      if (pfn < 0) {
        for (let j = 0; j < i; j++) this.host.buddy.freePages(pfns[j] as number, 0);
        throw new KernelError("ENOMEM", "page_exporter_create");
      }
      pfns[i] = pfn;
    }
    const priv: PageBuffer = { pfns, releases: 0, mapped: new Map() };
    try {
      return this.host.dmaBuf.export({ expName: name, ops: this, size: pages * ps, flags, priv });
    } catch (e) {
      this.#free(priv);
      throw e;
    }
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.mapDmaBuf} */
  mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const priv = attachment.dmabuf.priv as PageBuffer;
    const sgt = this.host.sg.fromPages(priv.pfns, attachment.dev.maxSegmentSize);
    this.host.dma.mapSgtable(attachment.dev, sgt, dir);
    priv.mapped.set(sgt, attachment);
    return sgt;
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.unmapDmaBuf} */
  unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    (attachment.dmabuf.priv as PageBuffer).mapped.delete(sgt);
    this.host.dma.unmapSgtable(attachment.dev, sgt, dir);
  }

  /**
   * Makes device writes visible to the CPU: syncs every mapped table for the CPU in the
   * direction of the access, as the kernel's heaps do.
   * @see {@link @dmabuf/core!index.DmaBufOps.beginCpuAccess}
   */
  beginCpuAccess(buf: DmaBuf<PageBuffer>, dir: DmaDirection): void {
    for (const [sgt, a] of buf.priv.mapped) this.host.dma.syncSgtableForCpu(a.dev, sgt, dir);
  }

  /**
   * Makes CPU writes visible to devices: syncs every mapped table for its device.
   * @see {@link @dmabuf/core!index.DmaBufOps.endCpuAccess}
   */
  endCpuAccess(buf: DmaBuf<PageBuffer>, dir: DmaDirection): void {
    for (const [sgt, a] of buf.priv.mapped) this.host.dma.syncSgtableForDevice(a.dev, sgt, dir);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.mmap} */
  mmap(buf: DmaBuf<PageBuffer>, vma: Vma): void {
    const ps = this.host.pageSize;
    for (let i = 0; i < vma.pageCount; i++) {
      vma.remapPfnRange(vma.start + i * ps, buf.priv.pfns[vma.pgoff + i] as number, ps);
    }
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.vmap} */
  vmap(buf: DmaBuf<PageBuffer>): KernelMapping {
    return new KernelMapping(buf.priv.pfns, this.host.pageSize, this.host);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.release} */
  release(buf: DmaBuf<PageBuffer>): void {
    buf.priv.releases++;
    this.#free(buf.priv);
  }

  #free(priv: PageBuffer): void {
    for (const pfn of priv.pfns) this.host.buddy.freePages(pfn, 0);
  }
}
