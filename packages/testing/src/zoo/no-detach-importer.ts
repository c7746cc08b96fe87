// Zoo: an importer that drops its reference without detaching.

import type { DmaBuf, DmaBufAttachment } from "@dmabuf/core";
import { ReferenceImporter } from "../reference/reference-importer.js";

/** Broken on purpose: release drops the reference but leaves the device attached. */
export class NoDetachImporter extends ReferenceImporter {
  protected override relinquish(buf: DmaBuf, _attachment: DmaBufAttachment): void {
    this.kernel.dmaBuf.put(buf);
  }
}
