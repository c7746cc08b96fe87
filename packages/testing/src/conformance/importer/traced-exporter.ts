// The page exporter, with every call of its ops recorded: what the importer suite checks.

import {
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  exporter,
  KernelError,
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
  #failing: "attach" | "map" | undefined;

  /** @param host - the exporter's host (given by `createKernel`) */
  constructor(host: PageExporterHost) {
    super(host);
  }

  /**
   * Makes the next `attach` or `mapDmaBuf` fail with ENOMEM before it does anything, as an
   * exporter that runs out of memory there does (`undefined`: disarms). The failed call is
   * not recorded.
   */
  failNext(op: "attach" | "map" | undefined): void {
    this.#failing = op;
  }

  #maybeFail(op: "attach" | "map", fn: string): void {
    if (this.#failing !== op) return;
    this.#failing = undefined;
    throw new KernelError("ENOMEM", fn, "injected by the importer suite");
  }

  /** Records the attach (the page exporter keeps no per-attachment state). */
  attach(buf: DmaBuf<PageBuffer>, attachment: DmaBufAttachment): void {
    this.#maybeFail("attach", "page_exporter_attach");
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
    this.#maybeFail("map", "page_exporter_map_dma_buf");
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
