// Zoo: a heap whose map_dma_buf keeps its page list when the sg-table allocation fails.

import {
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  heap,
  KernelError,
  type SgTable,
} from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: map_dma_buf gathers the buffer's page list in a page of its own (as a
 * driver's `kvmalloc_array` of page pointers does for a large buffer), builds the sg table
 * from it (`sg_alloc_table_from_pages`) and frees the list — but returns ENOMEM without
 * freeing it when the table allocation fails.
 */
@heap({ name: "leak_on_sg_fail" })
export class LeakOnSgFailHeap extends ReferenceHeap {
  override mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const buf = attachment.dmabuf as DmaBuf<ReferenceBuffer>;
    const list = this.host.buddy.allocPages(0);
    if (list < 0) throw new KernelError("ENOMEM", "leak_on_sg_fail_map", "no page for the list");
    const table = this.tableFor(buf.priv.pfns, attachment.dev);
    this.host.buddy.freePages(list, 0);
    return buf.priv.attachments.map(attachment, dir, table);
  }
}
