// Zoo: an importer that queues device work but does not declare asyncWork.

import type { ImporterCapabilities } from "../conformance/importer/context.js";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: its imports queue device work (`queueRead`, `queueWrite`) like
 * {@link ReferenceImporter}'s, but it declares nothing, so a suite trusting the declaration
 * would skip every case that checks queued work and its fences.
 */
export class UndeclaredAsyncImporter extends ReferenceImporter {
  /** Declares no asynchronous work, although its imports queue it. */
  static override readonly capabilities: Partial<ImporterCapabilities> = {};
}
