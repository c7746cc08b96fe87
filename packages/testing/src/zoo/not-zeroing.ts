// Zoo: a heap that hands out pages without clearing them.

import { heap, KernelError } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/** Broken on purpose: takes pages without `zero`, so freed data shows up in new buffers. */
@heap({ name: "not_zeroing" })
export class NotZeroingHeap extends ReferenceHeap {
  protected override takePage(): number {
    const pfn = this.host.buddy.allocPages(0);
    if (pfn < 0) throw new KernelError("ENOMEM", "not_zeroing_allocate");
    return pfn;
  }
}
