// Zoo: a dynamic importer that ignores move_notify and keeps using its first mapping.

import {
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  type SgTable,
} from "@dmabuf/core";
import type { ConformanceTarget } from "../cli/target.js";
import type { ImporterCapabilities } from "../conformance/importer/context.js";
import { ReferenceImporter } from "../reference/reference-importer.js";

/**
 * Broken on purpose: attaches dynamically (`dma_buf_dynamic_attach`) but its `moveNotify`
 * does nothing, so after the exporter moves the buffer it keeps reading and writing through
 * the mapping it made before the move (the old pages). It maps once (DMA_BIDIRECTIONAL) and
 * unmaps before it detaches, so everything else it does is correct.
 */
export class StaleMappingImporter extends ReferenceImporter {
  /** {@inheritDoc ReferenceImporter.capabilities} */
  static override readonly capabilities: Partial<ImporterCapabilities> = {
    asyncWork: true,
    dynamic: true,
  };

  readonly #tables = new Map<DmaBufAttachment, SgTable>();

  protected override attachDevice(buf: DmaBuf): DmaBufAttachment {
    return this.kernel.dmaBuf.dynamicAttach(buf, this.device, { moveNotify: () => {} });
  }

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

  protected override relinquish(buf: DmaBuf, attachment: DmaBufAttachment): void {
    const sgt = this.#tables.get(attachment);
    if (sgt) this.kernel.dmaBuf.unmapAttachment(attachment, sgt, DMA_BIDIRECTIONAL);
    this.#tables.delete(attachment);
    super.relinquish(buf, attachment);
  }
}

/** How `dmabuf-conformance` runs it: a dynamic importer, in a kernel with move notification. */
export const conformance: ConformanceTarget[] = [
  {
    suite: "importer",
    options: {
      name: "StaleMappingImporter",
      importer: (kernel) => new StaleMappingImporter(kernel),
      capabilities: StaleMappingImporter.capabilities,
      kernelConfig: { moveNotify: true },
    },
  },
];
