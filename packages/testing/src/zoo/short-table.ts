// Zoo: a heap whose sg table misses the buffer's last page.

import { type Device, heap, type SgTable } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/** Broken on purpose: describes every page but the last one in the sg table. */
@heap({ name: "short_table" })
export class ShortTableHeap extends ReferenceHeap {
  protected override tableFor(pfns: Float64Array, dev: Device): SgTable {
    return super.tableFor(pfns.subarray(0, Math.max(1, pfns.length - 1)), dev);
  }
}
