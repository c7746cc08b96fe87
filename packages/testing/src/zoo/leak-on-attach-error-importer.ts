// Zoo: an importer that keeps its buffer reference when attaching fails.

import type { Process } from "@dmabuf/core";
import type { ImportHandle } from "../conformance/importer/context.js";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: takes its reference (`dma_buf_get`), then attaches without an error path,
 * so when the exporter's attach fails the reference is never dropped and the buffer outlives
 * every fd of it.
 */
export class LeakOnAttachErrorImporter extends ReferenceImporter {
  /** {@inheritDoc ImporterUnderTest.importFd} */
  override importFd(proc: Process, fd: number): ImportHandle {
    const buf = this.acquire(proc, fd);
    return this.handle(buf, this.attachDevice(buf));
  }
}
