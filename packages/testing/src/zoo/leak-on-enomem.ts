// Zoo: a heap that keeps the pages it took when an allocation runs out of memory.

import { heap, KernelError } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/** Broken on purpose: on ENOMEM part-way through, the pages already taken are never freed. */
@heap({ name: "leak_on_enomem" })
export class LeakOnEnomemHeap extends ReferenceHeap {
  protected override allocPages(count: number): Float64Array {
    const pfns = new Float64Array(count);
    for (let n = 0; n < count; n++) {
      const pfn = this.host.buddy.allocPages(0, { zero: true });
      if (pfn < 0) throw new KernelError("ENOMEM", "leak_on_enomem_allocate");
      pfns[n] = pfn;
    }
    return pfns;
  }
}
