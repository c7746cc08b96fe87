// Zoo: a heap that re-validates fd_flags itself and refuses valid ones.

import { type DmaBuf, type DmaHeapHandle, heap, KernelError } from "@dmabuf/core";
import { O_ACCMODE, O_RDWR } from "@dmabuf/core/uapi";
import { ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: checks the flags again (implementors never re-validate) and refuses
 * every access mode but O_RDWR with EACCES, where Linux allocates a read-only buffer.
 */
@heap({ name: "revalidating_flags" })
export class RevalidatingFlagsHeap extends ReferenceHeap {
  override allocate(heap: DmaHeapHandle, len: number, fdFlags: number, heapFlags: bigint): DmaBuf {
    if ((fdFlags & O_ACCMODE) !== O_RDWR) {
      throw new KernelError("EACCES", "revalidating_flags_allocate", "only O_RDWR buffers");
    }
    return super.allocate(heap, len, fdFlags, heapFlags);
  }
}
