// Trace points of the dma-buf core: device mappings, with their direction and first IOVA.

import type { Device } from "../dma/device.js";
import type { DmaBuf } from "../dma-buf/dma-buf.js";
import type { SgTable } from "../mm/sg-table.js";
import type { TraceRecorder } from "./recorder.js";

/** Records a device mapping of `buf` made or removed, with the table's first DMA address. */
export function traceMapping(
  trace: TraceRecorder,
  kind: "map" | "unmap",
  buf: DmaBuf,
  dev: Device,
  sgt: SgTable,
  dir: number,
): void {
  const iova = sgt.nents > 0 ? sgt.dmaAddress[0] : undefined;
  trace.emit(kind, {
    buf: buf.ino,
    dev: dev.name,
    dir,
    bytes: sgt.totalLength(),
    ...(iova !== undefined ? { iova } : {}),
  });
}
