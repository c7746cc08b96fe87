// Zoo: an importer that maps once and never unmaps.

import {
  DMA_BIDIRECTIONAL,
  type DmaBufAttachment,
  type DmaDirection,
  type SgTable,
} from "@dmabuf/core";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: keeps its first mapping for every later transfer and detaches with it
 * still mapped.
 */
export class KeepsMappingImporter extends ReferenceImporter {
  readonly #tables = new WeakMap<DmaBufAttachment, SgTable>();

  protected override transfer<T>(
    attachment: DmaBufAttachment,
    _dir: DmaDirection,
    move: (sgt: SgTable) => T,
  ): T {
    let sgt = this.#tables.get(attachment);
    if (!sgt) {
      sgt = this.kernel.dmaBuf.mapAttachment(attachment, DMA_BIDIRECTIONAL);
      this.#tables.set(attachment, sgt);
    }
    return move(sgt);
  }
}
