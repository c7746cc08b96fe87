// Zoo: a heap that unmaps every table as DMA_BIDIRECTIONAL, whatever it was mapped with.

import {
  DMA_BIDIRECTIONAL,
  type DmaBufAttachment,
  type DmaDirection,
  heap,
  type SgTable,
} from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: `unmapDmaBuf` ignores the direction the importer mapped with and unmaps
 * DMA_BIDIRECTIONAL. Linux's DMA-API debugging warns ("device driver frees DMA memory with
 * different direction") and the unmap goes on; the suites fail the case that saw the warning.
 */
@heap({ name: "wrong-unmap-direction" })
export class WrongUnmapDirectionHeap extends ReferenceHeap {
  override unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, _dir: DmaDirection): void {
    super.unmapDmaBuf(attachment, sgt, DMA_BIDIRECTIONAL);
  }
}
