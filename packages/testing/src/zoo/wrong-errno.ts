// Zoo: a heap that reports running out of memory with the wrong errno.

import { heap, KernelError } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/** Broken on purpose: fails with EINVAL instead of ENOMEM when pages run out. */
@heap({ name: "wrong_errno" })
export class WrongErrnoHeap extends ReferenceHeap {
  protected override takePage(): number {
    const pfn = this.host.buddy.allocPages(0, { zero: true });
    if (pfn < 0) throw new KernelError("EINVAL", "wrong_errno_allocate", "no pages");
    return pfn;
  }
}
