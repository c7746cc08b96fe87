// acme-heap: physically contiguous DMA-BUF buffers of up to 4 MiB, from the page allocator.

import {
  type DmaBuf,
  type DmaBufOps,
  type DmaHeapHandle,
  type DmaHeapOps,
  HeapAttachments,
  type HeapHost,
  heap,
  KernelError,
  KernelMapping,
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
  readonly attachments: HeapAttachments;
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

  /** @param host - the heap host the kernel constructs it with: `new AcmeHeap(host)` */
  constructor(readonly host: HeapHost) {
    this.#ops = acmeBufferOps(host);
  }

  /**
   * Allocates `len` bytes (already page aligned by the ALLOC ioctl) as one zeroed block.
   * @throws KernelError ENOMEM above {@link ACME_MAX_BYTES} or when no block is free.
   */
  allocate(heap: DmaHeapHandle, len: number, fdFlags: number, _heapFlags: bigint): DmaBuf {
    const { buddy, pageSize } = this.host;
    if (len > ACME_MAX_BYTES) throw new KernelError("ENOMEM", "acme_allocate", "over 4 MiB");
    const pages = len / pageSize;
    const order = Math.ceil(Math.log2(pages));
    const pfn = buddy.allocPages(order, { zero: true });
    if (pfn < 0) throw new KernelError("ENOMEM", "acme_allocate", "no free block");
    try {
      return this.host.dmaBuf.export<AcmeBuffer>({
        expName: heap.name,
        owner: "acme-heap",
        ops: this.#ops,
        size: len,
        flags: fdFlags,
        priv: { pfn, order, pages, attachments: new HeapAttachments(this.host.dma) },
      });
    } catch (e) {
      buddy.freePages(pfn, order);
      throw e;
    }
  }
}

/** The buffer methods of the acme heap, closed over its host. */
function acmeBufferOps(host: HeapHost): DmaBufOps<AcmeBuffer> {
  const ps = host.pageSize;
  const attachmentsOf = (buf: DmaBuf) => (buf.priv as AcmeBuffer).attachments;
  return {
    attach(buf, attachment) {
      buf.priv.attachments.attach(attachment);
    },

    detach(buf, attachment) {
      buf.priv.attachments.detach(attachment);
    },

    mapDmaBuf(attachment, dir) {
      const { pfn, pages } = attachment.dmabuf.priv as AcmeBuffer;
      const table = host.sg.alloc(1);
      table.append(pfn, pages * ps);
      return attachmentsOf(attachment.dmabuf).map(attachment, dir, table);
    },

    unmapDmaBuf(attachment, table, dir) {
      attachmentsOf(attachment.dmabuf).unmap(attachment, table, dir);
    },

    beginCpuAccess(buf, dir) {
      buf.priv.attachments.syncForCpu(dir);
    },

    endCpuAccess(buf, dir) {
      buf.priv.attachments.syncForDevice(dir);
    },

    mmap(buf, vma) {
      vma.remapPfnRange(vma.start, buf.priv.pfn + vma.pgoff, vma.length);
    },

    vmap(buf) {
      const { pfn, pages } = buf.priv;
      return new KernelMapping(
        Float64Array.from({ length: pages }, (_, i) => pfn + i),
        ps,
        host,
      );
    },

    release(buf) {
      host.buddy.freePages(buf.priv.pfn, buf.priv.order);
    },
  };
}
