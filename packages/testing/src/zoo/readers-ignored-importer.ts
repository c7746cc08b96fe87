// Zoo: an importer whose device writes wait for the buffer's writers only, not its readers.

import { DMA_RESV_USAGE_WRITE, type DmaBuf, type DmaFence } from "@dmabuf/core";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: every queued job waits only for the buffer's WRITE fences — the old
 * "exclusive fence" rule — so a device write overwrites bytes an earlier reader (a display
 * scanning the buffer out) has not read yet. Reads are right: they only need the writers.
 */
export class ReadersIgnoredImporter extends ReferenceImporter {
  protected override dependencies(buf: DmaBuf, _write: boolean): DmaFence[] {
    return buf.resv.getFences(DMA_RESV_USAGE_WRITE);
  }
}
