// A physically contiguous heap buffer and its dma_buf_ops (shared by the CMA and carveout heaps).

import {
  type DmaBufAttachment,
  type DmaBufOps,
  type DmaDirection,
  type Kernel,
  KernelError,
  KernelMapping,
  SgTable,
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

/** What the heap keeps per attachment (`attachment.priv`). */
interface AttachmentRecord {
  /** The attaching device's hold on the buffer. */
  readonly attachment: DmaBufAttachment;
  /** This attachment's own table, built from the page array. */
  readonly table: SgTable;
  /** Whether `table` is currently DMA-mapped. */
  mapped: boolean;
}

/** The private data behind every contiguous-heap buffer. */
export class HeapBuffer implements ContiguousBuffer {
  /** Attachments, in attach order. */
  readonly attachments: AttachmentRecord[] = [];
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
   */
  constructor(
    readonly heapName: string,
    readonly region: ContiguousRegion,
    readonly basePfn: number,
    readonly pagecount: number,
    pageSize: number,
  ) {
    this.len = pagecount * pageSize;
    this.pages = new Float64Array(pagecount);
    for (let i = 0; i < pagecount; i++) this.pages[i] = basePfn + i;
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
export function contiguousBufferOps(kernel: Kernel, cpuAccess: boolean): DmaBufOps<HeapBuffer> {
  const recordOf = (attachment: DmaBufAttachment) => attachment.priv as AttachmentRecord;
  const ps = kernel.pageSize;

  const deviceOps: DmaBufOps<HeapBuffer> = {
    // One table per attachment, built from the page array: contiguous pages merge, so a
    // device with the default segment limit gets a single entry.
    attach(buf, attachment) {
      const table = SgTable.fromPfnRuns(ps, buf.priv.pages, attachment.dev.maxSegmentSize);
      const record: AttachmentRecord = { attachment, table, mapped: false };
      attachment.priv = record;
      buf.priv.attachments.push(record);
    },

    detach(buf, attachment) {
      const list = buf.priv.attachments;
      const i = list.indexOf(recordOf(attachment));
      if (i >= 0) list.splice(i, 1);
      attachment.priv = undefined;
    },

    mapDmaBuf(attachment, dir) {
      const record = recordOf(attachment);
      try {
        kernel.dma.mapSgtable(attachment.dev, record.table, dir);
      } catch (e) {
        // The CMA heap reports every mapping failure as ENOMEM.
        if (e instanceof KernelError) {
          throw new KernelError("ENOMEM", "dma_buf_map_attachment", `mapping failed: ${e.code}`);
        }
        throw e;
      }
      record.mapped = true;
      return record.table;
    },

    unmapDmaBuf(attachment, sgt, dir) {
      recordOf(attachment).mapped = false;
      kernel.dma.unmapSgtable(attachment.dev, sgt, dir);
    },

    release(buf) {
      const b = buf.priv;
      if (b.vmapCount > 0) {
        kernel.log.warn(
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
      syncAttachments(kernel, buf.priv, dir, "cpu");
    },

    endCpuAccess(buf, dir) {
      syncAttachments(kernel, buf.priv, dir, "device");
    },

    mmap(buf, vma) {
      if (!vma.shared) {
        throw new KernelError("EINVAL", "mmap", "contiguous heap buffers map shared only");
      }
      vma.ops = faultOps;
      vma.privateData = buf.priv;
      // Newer kernels insert raw PFNs (VM_PFNMAP | VM_IO); 6.1 hands out struct pages, so
      // its mappings can grow with mremap and be zapped with madvise.
      vma.pfnmap = !kernel.profile.sgtCaching;
    },

    vmap(buf) {
      const b = buf.priv;
      if (b.vmapCount > 0 && b.vaddr) {
        b.vmapCount++;
        return b.vaddr;
      }
      b.vaddr = new KernelMapping(b.pages, ps, kernel);
      b.vmapCount = 1;
      return b.vaddr;
    },

    vunmap(buf) {
      const b = buf.priv;
      if (b.vmapCount > 0 && --b.vmapCount === 0) b.vaddr = null;
    },
  };
}

/** Syncs the table of every currently mapped attachment for the CPU or for its device. */
function syncAttachments(
  kernel: Kernel,
  b: HeapBuffer,
  dir: DmaDirection,
  to: "cpu" | "device",
): void {
  for (const a of b.attachments) {
    if (!a.mapped) continue;
    if (to === "cpu") kernel.dma.syncSgtableForCpu(a.attachment.dev, a.table, dir);
    else kernel.dma.syncSgtableForDevice(a.attachment.dev, a.table, dir);
  }
}
