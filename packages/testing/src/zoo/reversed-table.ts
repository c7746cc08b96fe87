// Zoo: a heap whose sg table lists the buffer's chunks in the wrong order.

import { type Device, heap, type SgTable } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: builds each sg table from the pages in reverse, so the device sees the
 * buffer's chunks in another order than the CPU does.
 */
@heap({ name: "reversed_table" })
export class ReversedTableHeap extends ReferenceHeap {
  protected override tableFor(pfns: Float64Array, dev: Device): SgTable {
    return super.tableFor(pfns.slice().reverse(), dev);
  }
}
