// Zoo: an importer whose release tears the import down while its device jobs are still queued.

import { DMA_BIDIRECTIONAL } from "@dmabuf/core";
import { type ImportState, ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: release unmaps the mapping its queued jobs use, detaches
 * and drops its reference at once, without waiting for the jobs (a driver whose close path
 * neither waits for the buffer's fences nor lets its jobs hold the object). A job that runs
 * afterwards DMAs through an unmapped table — freed pages, once the import was the last
 * reference.
 */
export class ReleaseWhileBusyImporter extends ReferenceImporter {
  protected override endImport(state: ImportState): void {
    if (state.released) return;
    state.released = true;
    const sgt = state.jobMapping;
    if (sgt) this.kernel.dmaBuf.unmapAttachment(state.attachment, sgt, DMA_BIDIRECTIONAL);
    state.jobMapping = undefined;
    state.pending = 0;
    this.relinquish(state.buf, state.attachment);
  }
}
