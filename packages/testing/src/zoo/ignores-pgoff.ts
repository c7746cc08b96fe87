// Zoo: a heap whose mmap ignores the mapping's page offset.

import { type DmaBuf, heap, type Vma } from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/** Broken on purpose: maps page 0 of the buffer at the start of every mapping, whatever the offset. */
@heap({ name: "ignores_pgoff" })
export class IgnoresPgoffHeap extends ReferenceHeap {
  override mmap(buf: DmaBuf<ReferenceBuffer>, vma: Vma): void {
    const pfns = buf.priv.pfns;
    vma.ops = {
      fault: (v, pgoff) => {
        const page = pgoff - v.pgoff;
        return page < pfns.length ? (pfns[page] as number) : -1;
      },
    };
  }
}
