// Zoo: a heap that hands the same sg table to every attachment.

import { type Device, heap, type SgTable } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: caches one sg table per buffer and returns it for every mapping, so two
 * devices share (and unmap) one table.
 */
@heap({ name: "shared_table" })
export class SharedTableHeap extends ReferenceHeap {
  readonly #tables = new WeakMap<Float64Array, SgTable>();

  protected override tableFor(pfns: Float64Array, dev: Device): SgTable {
    let table = this.#tables.get(pfns);
    if (!table) {
      table = super.tableFor(pfns, dev);
      this.#tables.set(pfns, table);
    }
    return table;
  }
}
