// The page exporter, with every call of its ops recorded: what the importer suite checks.

import {
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  exporter,
  type PageBuffer,
  PageExporter,
  type PageExporterHost,
  type SgTable,
} from "@dmabuf/core";

/** One recorded exporter op call. */
export interface TracedCall {
  /** The op. */
  readonly op: "attach" | "detach" | "map" | "unmap" | "release";
  /** The buffer's inode number. */
  readonly ino: number;
  /** The attachment's device, for attachment ops. */
  readonly dev?: string;
  /** The direction, for map and unmap. */
  readonly dir?: DmaDirection;
  /** The table, for map and unmap. */
  readonly sgt?: SgTable;
  /** The buffer's file references when the op was called (attach and detach). */
  readonly refs?: number;
}

/**
 * {@link @dmabuf/core!index.PageExporter} with its calls recorded in {@link TracedPageExporter.calls}: the
 * importer suite reads them to check what an importer did, and in which order.
 */
@exporter({ name: "page-exporter" })
export class TracedPageExporter extends PageExporter {
  /** Every op call, oldest first. */
  readonly calls: TracedCall[] = [];

  /** @param host - the exporter's host (given by `createKernel`) */
  constructor(host: PageExporterHost) {
    super(host);
  }

  /** Records the attach (the page exporter keeps no per-attachment state). */
  attach(buf: DmaBuf<PageBuffer>, attachment: DmaBufAttachment): void {
    this.calls.push({ op: "attach", ino: buf.ino, dev: attachment.dev.name });
  }

  /** Records the detach. */
  detach(buf: DmaBuf<PageBuffer>, attachment: DmaBufAttachment): void {
    this.calls.push({
      op: "detach",
      ino: buf.ino,
      dev: attachment.dev.name,
      refs: buf.file.refCount,
    });
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.mapDmaBuf} */
  override mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const sgt = super.mapDmaBuf(attachment, dir);
    const { ino } = attachment.dmabuf;
    this.calls.push({ op: "map", ino, dev: attachment.dev.name, dir, sgt });
    return sgt;
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.unmapDmaBuf} */
  override unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    const { ino } = attachment.dmabuf;
    this.calls.push({ op: "unmap", ino, dev: attachment.dev.name, dir, sgt });
    super.unmapDmaBuf(attachment, sgt, dir);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.release} */
  override release(buf: DmaBuf<PageBuffer>): void {
    this.calls.push({ op: "release", ino: buf.ino });
    super.release(buf);
  }
}
