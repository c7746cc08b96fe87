// Zoo: a heap that declares contiguous buffers but hands out scattered pages.

import { heap } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: declares `contiguous: true` but takes every other page (the pages in
 * between are taken and given back), so no buffer of two pages or more is contiguous.
 */
@heap({ name: "scattered_contiguous", capabilities: { contiguous: true } })
export class ScatteredContiguousHeap extends ReferenceHeap {
  protected override allocPages(count: number): Float64Array {
    const both = super.allocPages(count * 2);
    const kept = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      kept[i] = both[2 * i] as number;
      this.freePages(both.subarray(2 * i + 1, 2 * i + 2));
    }
    return kept;
  }
}
