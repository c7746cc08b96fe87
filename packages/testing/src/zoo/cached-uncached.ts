// Zoo: a heap that declares write-combine CPU mappings and skips syncs, but maps its buffers cached.

import {
  DMA_ATTR_SKIP_CPU_SYNC,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  heap,
  type SgTable,
} from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: it declares `cpuCaching: "write-combine"` and behaves like an uncached
 * heap towards devices (maps with DMA_ATTR_SKIP_CPU_SYNC, no maintenance in
 * beginCpuAccess/endCpuAccess), but its mmap and vmap keep the default cached memory type —
 * the `pgprot_writecombine` was forgotten. A non-coherent device then misses what the CPU
 * left in its cache.
 */
@heap({
  name: "cached-uncached",
  capabilities: { cpuAccess: true, vmap: true, cpuCaching: "write-combine" },
})
export class CachedUncachedHeap extends ReferenceHeap {
  override mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const buf = attachment.dmabuf as DmaBuf<ReferenceBuffer>;
    const table = this.tableFor(buf.priv.pfns, attachment.dev);
    return buf.priv.attachments.map(attachment, dir, table, DMA_ATTR_SKIP_CPU_SYNC);
  }

  override unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    const buf = attachment.dmabuf as DmaBuf<ReferenceBuffer>;
    buf.priv.attachments.unmap(attachment, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
  }

  override beginCpuAccess(): void {}

  override endCpuAccess(): void {}
}
