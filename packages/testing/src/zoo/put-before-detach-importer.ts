// Zoo: an importer that drops its reference before it detaches.

import type { DmaBuf, DmaBufAttachment } from "@dmabuf/core";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: release puts the buffer, then detaches — so when the import held the
 * last reference, the buffer is released with the device still attached, and detach runs
 * on a freed buffer.
 */
export class PutBeforeDetachImporter extends ReferenceImporter {
  protected override relinquish(buf: DmaBuf, attachment: DmaBufAttachment): void {
    this.kernel.dmaBuf.put(buf);
    this.kernel.dmaBuf.detach(buf, attachment);
  }
}
