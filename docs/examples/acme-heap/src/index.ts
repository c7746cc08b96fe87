// acme-heap: physically contiguous DMA-BUF buffers of up to 4 MiB, from the page allocator.

import {
  type DmaBuf,
  type DmaBufAttachment,
  type DmaBufOps,
  type DmaDirection,
  type DmaHeapHandle,
  type DmaHeapOps,
  heap,
  Kernel,
  KernelError,
  KernelMapping,
  SgTable,
} from "@dmabuf/core";

/** The largest buffer the heap hands out: 4 MiB. */
export const ACME_MAX_BYTES = 4 * 1024 * 1024;

/** What an acme buffer is made of (`dmabuf->priv`). */
export interface AcmeBuffer {
  /** First page frame of the buffer's block. */
  readonly pfn: number;
  /** Page order of the block (the buffer uses its first `pages` pages). */
  readonly order: number;
  /** Pages in the buffer. */
  readonly pages: number;
  /** Live attachments, each with the tables mapped for it and not yet unmapped. */
  readonly mapped: Map<DmaBufAttachment, Set<SgTable>>;
}

/**
 * The acme heap (`/dev/dma_heap/acme_contiguous`): every buffer is one naturally aligned
 * block from the page allocator, zeroed, so devices without an IOMMU can scan it out. The
 * block is the smallest power of two pages that holds the buffer; the rest of it is kept with
 * the buffer and given back with it.
 */
@heap({
  name: "acme_contiguous",
  capabilities: { contiguous: true, cpuAccess: true, vmap: true, maxAllocation: ACME_MAX_BYTES },
})
export class AcmeHeap implements DmaHeapOps {
  readonly #ops: DmaBufOps<AcmeBuffer>;

  /** @param kernel - the kernel the heap allocates from (injected) */
  constructor(readonly kernel: Kernel) {
    this.#ops = acmeBufferOps(kernel);
  }

  /**
   * Allocates `len` bytes (already page aligned by the ALLOC ioctl) as one zeroed block.
   * @throws KernelError ENOMEM above {@link ACME_MAX_BYTES} or when no block is free.
   */
  allocate(heap: DmaHeapHandle, len: number, fdFlags: number, _heapFlags: bigint): DmaBuf {
    const { buddy, pageSize } = this.kernel;
    if (len > ACME_MAX_BYTES) throw new KernelError("ENOMEM", "acme_allocate", "over 4 MiB");
    const pages = len / pageSize;
    const order = Math.ceil(Math.log2(pages));
    const pfn = buddy.allocPages(order, { zero: true });
    if (pfn < 0) throw new KernelError("ENOMEM", "acme_allocate", "no free block");
    try {
      return this.kernel.dmaBuf.export<AcmeBuffer>({
        expName: heap.name,
        owner: "acme-heap",
        ops: this.#ops,
        size: len,
        flags: fdFlags,
        priv: { pfn, order, pages, mapped: new Map() },
      });
    } catch (e) {
      buddy.freePages(pfn, order);
      throw e;
    }
  }
}

/** The buffer methods of the acme heap, closed over its kernel. */
function acmeBufferOps(kernel: Kernel): DmaBufOps<AcmeBuffer> {
  const ps = kernel.pageSize;
  const bufferOf = (a: DmaBufAttachment) => a.dmabuf.priv as AcmeBuffer;
  return {
    attach(buf, attachment) {
      buf.priv.mapped.set(attachment, new Set());
    },

    detach(buf, attachment) {
      buf.priv.mapped.delete(attachment);
    },

    mapDmaBuf(attachment, dir) {
      const b = bufferOf(attachment);
      const table = new SgTable(1);
      table.append(b.pfn, b.pages * ps);
      kernel.dma.mapSgtable(attachment.dev, table, dir);
      b.mapped.get(attachment)?.add(table);
      return table;
    },

    unmapDmaBuf(attachment, table, dir) {
      bufferOf(attachment).mapped.get(attachment)?.delete(table);
      kernel.dma.unmapSgtable(attachment.dev, table, dir);
    },

    beginCpuAccess(buf, dir: DmaDirection) {
      for (const [a, tables] of buf.priv.mapped) {
        for (const t of tables) kernel.dma.syncSgtableForCpu(a.dev, t, dir);
      }
    },

    endCpuAccess(buf, dir: DmaDirection) {
      for (const [a, tables] of buf.priv.mapped) {
        for (const t of tables) kernel.dma.syncSgtableForDevice(a.dev, t, dir);
      }
    },

    mmap(buf, vma) {
      vma.remapPfnRange(vma.start, buf.priv.pfn + vma.pgoff, vma.length);
    },

    vmap(buf) {
      const { pfn, pages } = buf.priv;
      return new KernelMapping(
        Float64Array.from({ length: pages }, (_, i) => pfn + i),
        ps,
        kernel,
      );
    },

    release(buf) {
      kernel.buddy.freePages(buf.priv.pfn, buf.priv.order);
    },
  };
}
