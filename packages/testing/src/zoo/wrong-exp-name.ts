// Zoo: a heap whose buffers carry the implementation's name instead of the heap's.

import { type DmaBuf, type DmaHeapHandle, heap } from "@dmabuf/core";
import { ReferenceHeap } from "../reference/reference-heap.js";

/** Broken on purpose: exports with `exp_name` "reference-heap" instead of the heap's name. */
@heap({ name: "wrong_exp_name" })
export class WrongExpNameHeap extends ReferenceHeap {
  override allocate(heap: DmaHeapHandle, len: number, fdFlags: number, heapFlags: bigint): DmaBuf {
    return super.allocate({ name: "reference-heap", priv: heap.priv }, len, fdFlags, heapFlags);
  }
}
