// my-heap: a DMA-BUF heap of contiguous, zeroed buffers of up to 4 MiB from the page allocator.

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
export const MAX_BYTES = 4 * 1024 * 1024;

/** What a buffer of the heap is made of (`dmabuf->priv`). */
export interface MyBuffer {
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
 * The heap (`/dev/dma_heap/my_heap`): every buffer is one naturally aligned
 * block from the page allocator, zeroed, so devices without an IOMMU can scan it out. The
 * block is the smallest power of two pages that holds the buffer; the rest of it is kept with
 * the buffer and given back with it.
 */
@heap({
  name: "my_heap",
  capabilities: { contiguous: true, cpuAccess: true, vmap: true, maxAllocation: MAX_BYTES },
})
export class MyHeap implements DmaHeapOps {
  readonly #ops: DmaBufOps<MyBuffer>;

  /** @param host - the heap host the kernel constructs it with: `new MyHeap(host)` */
  constructor(readonly host: HeapHost) {
    this.#ops = bufferOps(host);
  }

  /**
   * Allocates `len` bytes (already page aligned by the ALLOC ioctl) as one zeroed block.
   * @throws KernelError ENOMEM above {@link MAX_BYTES} or when no block is free.
   */
  allocate(heap: DmaHeapHandle, len: number, fdFlags: number, _heapFlags: bigint): DmaBuf {
    const { buddy, pageSize } = this.host;
    if (len > MAX_BYTES) throw new KernelError("ENOMEM", "my_heap_allocate", "over 4 MiB");
    const pages = len / pageSize;
    const order = Math.ceil(Math.log2(pages));
    const pfn = buddy.allocPages(order, { zero: true });
    if (pfn < 0) throw new KernelError("ENOMEM", "my_heap_allocate", "no free block");
    try {
      return this.host.dmaBuf.export<MyBuffer>({
        expName: heap.name,
        owner: "my-heap",
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

/** The buffer methods of the heap, closed over its host. */
function bufferOps(host: HeapHost): DmaBufOps<MyBuffer> {
  const ps = host.pageSize;
  const attachmentsOf = (buf: DmaBuf) => (buf.priv as MyBuffer).attachments;
  return {
    attach(buf, attachment) {
      buf.priv.attachments.attach(attachment);
    },

    detach(buf, attachment) {
      buf.priv.attachments.detach(attachment);
    },

    mapDmaBuf(attachment, dir) {
      const { pfn, pages } = attachment.dmabuf.priv as MyBuffer;
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
