// Zoo: an importer that maps every transfer for reading.

import {
  DMA_TO_DEVICE,
  type DmaBufAttachment,
  type DmaDirection,
  type SgTable,
} from "@dmabuf/core";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: maps DMA_TO_DEVICE (device reads) also for transfers in which the
 * device writes, so a non-coherent platform never makes the written data visible to the CPU.
 */
export class WrongDirectionImporter extends ReferenceImporter {
  protected override transfer<T>(
    attachment: DmaBufAttachment,
    _dir: DmaDirection,
    move: (sgt: SgTable) => T,
  ): T {
    return super.transfer(attachment, DMA_TO_DEVICE, move);
  }
}
