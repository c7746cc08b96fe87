// Zoo: a heap that keeps the pages it already took when a fatal signal ends an allocation.

import { heap, KernelError } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: checks for a fatal signal before each page, as it should, but on EINTR
 * returns without giving back the pages taken so far (ENOMEM is handled right).
 */
@heap({ name: "leak-on-eintr" })
export class LeakOnEintrHeap extends ReferenceHeap {
  protected override allocPages(count: number): Float64Array {
    const pfns = new Float64Array(count);
    let n = 0;
    try {
      for (; n < count; n++) {
        if (this.host.fatalSignalPending()) {
          throw new KernelError("EINTR", "leak_on_eintr_allocate", "fatal signal pending");
        }
        pfns[n] = this.takePage();
      }
    } catch (e) {
      if ((e as { code?: string }).code !== "EINTR") this.freePages(pfns.subarray(0, n));
      throw e;
    }
    return pfns;
  }
}
