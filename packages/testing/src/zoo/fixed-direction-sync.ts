// Zoo: a heap that syncs mapped attachments with DMA_TO_DEVICE whatever the CPU access is.

import { DMA_TO_DEVICE, type DmaBuf, type DmaDirection, heap } from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: beginCpuAccess and endCpuAccess ignore the direction of the access and
 * always sync with DMA_TO_DEVICE, so a sync for the CPU never invalidates (arm64 skips the
 * invalidate for DMA_TO_DEVICE) and a read after a device write sees stale lines.
 */
@heap({ name: "fixed-direction-sync" })
export class FixedDirectionSyncHeap extends ReferenceHeap {
  override beginCpuAccess(buf: DmaBuf<ReferenceBuffer>, _dir: DmaDirection): void {
    buf.priv.attachments.syncForCpu(DMA_TO_DEVICE);
  }
  override endCpuAccess(buf: DmaBuf<ReferenceBuffer>, _dir: DmaDirection): void {
    buf.priv.attachments.syncForDevice(DMA_TO_DEVICE);
  }
}
