// Zoo: an importer that uses the buffer behind an fd without taking a reference.

import type { DmaBuf, DmaBufAttachment, Process } from "@dmabuf/core";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: finds the buffer behind the fd but takes no reference of its own, so the
 * buffer is released under it when user space closes the fd.
 */
export class NoReferenceImporter extends ReferenceImporter {
  protected override acquire(proc: Process, fd: number): DmaBuf {
    const buf = this.kernel.dmaBuf.fromFile(proc.fileOf(fd, "dma_buf_get"));
    if (!buf) return this.kernel.dmaBuf.get(proc, fd);
    return buf;
  }

  protected override relinquish(buf: DmaBuf, attachment: DmaBufAttachment): void {
    if (attachment.attached) this.kernel.dmaBuf.detach(buf, attachment);
  }
}
