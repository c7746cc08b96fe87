// A physically contiguous heap buffer and its dma_buf_ops (shared by the CMA and carveout heaps).

import {
  type DmaBuf,
  type DmaBufAttachment,
  type DmaBufOps,
  type DmaMappingApi,
  HeapAttachments,
  type HeapHost,
  KernelError,
  KernelMapping,
  type Vma,
  type VmaOperations,
} from "@dmabuf/core";
import type { ContiguousRegion } from "./region.js";

/**
 * What a contiguous-heap buffer is (`dmabuf->priv`), as a read-only view: one physically
 * contiguous run of `pagecount` page frames from `basePfn`.
 */
export interface ContiguousBuffer {
  /** Name of the heap the buffer came from. */
  readonly heapName: string;
  /** Buffer length in bytes (page aligned). */
  readonly len: number;
  /** Number of pages. */
  readonly pagecount: number;
  /** First page frame; page `i` of the buffer is frame `basePfn + i`. */
  readonly basePfn: number;
  /** The page array: frame of every page, in buffer order. */
  readonly pages: Float64Array;
  /** Kernel mapping users of the heap's own vmap count (0 when not vmapped). */
  readonly vmapCount: number;
}

/** The private data behind every contiguous-heap buffer. */
export class HeapBuffer implements ContiguousBuffer {
  /** The attachments, each with its own table, and what is mapped for them. */
  readonly records: HeapAttachments;
  /** The heap's own vmap count. */
  vmapCount = 0;
  /** The kernel mapping while `vmapCount > 0`. */
  vaddr: KernelMapping | null = null;
  /** {@inheritDoc ContiguousBuffer.pages} */
  readonly pages: Float64Array;
  /** {@inheritDoc ContiguousBuffer.len} */
  readonly len: number;

  /**
   * @param heapName - the heap's name
   * @param region - where the pages come from and go back to
   * @param basePfn - first frame
   * @param pagecount - number of pages
   * @param pageSize - page size in bytes
   * @param dma - the DMA mapping API attachments are mapped with
   */
  constructor(
    readonly heapName: string,
    readonly region: ContiguousRegion,
    readonly basePfn: number,
    readonly pagecount: number,
    pageSize: number,
    dma: DmaMappingApi,
  ) {
    this.records = new HeapAttachments(dma);
    this.len = pagecount * pageSize;
    this.pages = new Float64Array(pagecount);
    for (let i = 0; i < pagecount; i++) this.pages[i] = basePfn + i;
  }

  /** The live attachments, in attach order. */
  get attachments(): DmaBufAttachment[] {
    return this.records.attachments();
  }

  /**
   * The page a fault at buffer page `pgoff` maps, or -1 (SIGBUS) past the end.
   * @remarks Linux 6.1 tested `pgoff > pagecount` here, letting the page one past the end
   * through (a read past the page array), later fixed to `>=` and backported to 6.1.y; the
   * observed 6.1.176 raises SIGBUS on that page (`mmap.mremap_grown_tail_access`). There is
   * no page behind it to hand out, so both profiles use the fixed bound.
   */
  faultPfn(pgoff: number): number {
    if (!Number.isInteger(pgoff) || pgoff < 0 || pgoff >= this.pagecount) return -1;
    return this.basePfn + pgoff;
  }
}

const faultOps: VmaOperations = {
  fault(vma: Vma, pgoff: number): number {
    return (vma.privateData as HeapBuffer).faultPfn(pgoff);
  },
};

/**
 * The dma_buf_ops of contiguous-heap buffers, closed over their kernel. With `cpuAccess`
 * false (protected memory) the table has no `mmap`, `vmap`, `vunmap`, `beginCpuAccess` or
 * `endCpuAccess`, so the core refuses mmap and vmap with EINVAL and SYNC has nothing to do.
 */
export function contiguousBufferOps(host: HeapHost, cpuAccess: boolean): DmaBufOps<HeapBuffer> {
  const recordsOf = (buf: DmaBuf) => (buf.priv as HeapBuffer).records;
  const ps = host.pageSize;

  const deviceOps: DmaBufOps<HeapBuffer> = {
    // One table per attachment, built from the page array: contiguous pages merge, so a
    // device with the default segment limit gets a single entry.
    attach(buf, attachment) {
      const table = host.sg.fromPages(buf.priv.pages, attachment.dev.maxSegmentSize);
      buf.priv.records.attach(attachment, table);
    },

    detach(buf, attachment) {
      buf.priv.records.detach(attachment);
    },

    mapDmaBuf(attachment, dir) {
      try {
        return recordsOf(attachment.dmabuf).map(attachment, dir);
      } catch (e) {
        // The CMA heap reports every mapping failure as ENOMEM.
        if (e instanceof KernelError) {
          throw new KernelError("ENOMEM", "dma_buf_map_attachment", `mapping failed: ${e.code}`);
        }
        throw e;
      }
    },

    unmapDmaBuf(attachment, sgt, dir) {
      recordsOf(attachment.dmabuf).unmap(attachment, sgt, dir);
    },

    release(buf) {
      const b = buf.priv;
      if (b.vmapCount > 0) {
        host.log.warn(
          `${b.heapName}: buffer ${buf.ino} released while vmapped (${b.vmapCount} users)`,
        );
        b.vmapCount = 0;
        b.vaddr = null;
      }
      b.region.releasePages(b.basePfn, b.pagecount);
    },
  };
  if (!cpuAccess) return deviceOps;

  return {
    ...deviceOps,

    // As in the system heap: the modelled caches are physically indexed, so the vmap range
    // needs no maintenance of its own; only mapped attachments are synced.
    beginCpuAccess(buf, dir) {
      buf.priv.records.syncForCpu(dir);
    },

    endCpuAccess(buf, dir) {
      buf.priv.records.syncForDevice(dir);
    },

    mmap(buf, vma) {
      if (!vma.shared) {
        throw new KernelError("EINVAL", "mmap", "contiguous heap buffers map shared only");
      }
      vma.ops = faultOps;
      vma.privateData = buf.priv;
      // Newer kernels insert raw PFNs (VM_PFNMAP | VM_IO); 6.1 hands out struct pages, so
      // its mappings can grow with mremap and be zapped with madvise.
      vma.pfnmap = !host.profile.sgtCaching;
    },

    vmap(buf) {
      const b = buf.priv;
      if (b.vmapCount > 0 && b.vaddr) {
        b.vmapCount++;
        return b.vaddr;
      }
      b.vaddr = new KernelMapping(b.pages, ps, host);
      b.vmapCount = 1;
      return b.vaddr;
    },

    vunmap(buf) {
      const b = buf.priv;
      if (b.vmapCount > 0 && --b.vmapCount === 0) b.vaddr = null;
    },
  };
}
