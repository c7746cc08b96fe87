// Zoo: a heap that does no cache maintenance for mapped devices around CPU access.

import type { DmaBuf, DmaDirection } from "@dmabuf/core";
import { heap } from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: has beginCpuAccess/endCpuAccess but syncs no mapped attachment, so a
 * non-coherent device and the CPU see stale data.
 */
@heap({ name: "unsynced" })
export class UnsyncedHeap extends ReferenceHeap {
  override beginCpuAccess(_buf: DmaBuf<ReferenceBuffer>, _dir: DmaDirection): void {}
  override endCpuAccess(_buf: DmaBuf<ReferenceBuffer>, _dir: DmaDirection): void {}
}
