// Zoo: a heap whose buffers are released twice.

import { type DmaBuf, heap, type KernelMapping } from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: drops the backing store itself when the last kernel mapping goes (it
 * calls its own `release` from `vunmap`), so the core's release later frees it a second time.
 */
@heap({ name: "double_release" })
export class DoubleReleaseHeap extends ReferenceHeap {
  override vunmap(buf: DmaBuf<ReferenceBuffer>, _map: KernelMapping): void {
    this.release(buf);
  }
}
