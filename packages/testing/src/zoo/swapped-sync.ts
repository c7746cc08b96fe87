// Zoo: a heap whose CPU-access ops sync in the wrong order: for the device first, the CPU after.

import type { DmaBuf, DmaDirection } from "@dmabuf/core";
import { heap } from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: beginCpuAccess syncs mapped attachments for the device (a clean) and
 * endCpuAccess for the CPU (an invalidate) — the two swapped — so the CPU reads stale lines
 * and its writes are dropped before a non-coherent device sees them.
 */
@heap({ name: "swapped-sync" })
export class SwappedSyncHeap extends ReferenceHeap {
  override beginCpuAccess(buf: DmaBuf<ReferenceBuffer>, dir: DmaDirection): void {
    buf.priv.attachments.syncForDevice(dir);
  }
  override endCpuAccess(buf: DmaBuf<ReferenceBuffer>, dir: DmaDirection): void {
    buf.priv.attachments.syncForCpu(dir);
  }
}
