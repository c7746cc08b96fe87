// Zoo: an exporter that caches one sg table per buffer and hands it to every attachment.

import {
  type DmaBufAttachment,
  type DmaDirection,
  exporter,
  type PageBuffer,
  PageExporter,
  type PageExporterHost,
  type SgTable,
} from "@dmabuf/core";

/**
 * Broken on purpose: the page exporter, but `mapDmaBuf` returns one cached table per buffer,
 * so two devices share (and unmap) one table.
 */
@exporter({ name: "caching-exporter" })
export class CachingExporter extends PageExporter {
  readonly #tables = new WeakMap<PageBuffer, SgTable>();

  /** @param host - the exporter's host (given by `createKernel`) */
  constructor(host: PageExporterHost) {
    super(host);
  }

  override mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const priv = attachment.dmabuf.priv as PageBuffer;
    let table = this.#tables.get(priv);
    if (!table) {
      table = super.mapDmaBuf(attachment, dir);
      this.#tables.set(priv, table);
    }
    return table;
  }

  override unmapDmaBuf(_attachment: DmaBufAttachment, _sgt: SgTable, _dir: DmaDirection): void {}
}
