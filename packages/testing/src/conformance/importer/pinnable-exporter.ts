// A page exporter that can pin and move its buffers: what the dynamic-importer cases import.

import {
  type DmaBuf,
  type DmaBufAttachment,
  exporter,
  KernelError,
  type PageBuffer,
  PageExporter,
  type PageExporterHost,
} from "@dmabuf/core";

/**
 * {@link @dmabuf/core!index.PageExporter} with `pin`/`unpin` (so its buffers are *dynamic*) and
 * {@link PinnablePageExporter.move}, which moves an unpinned buffer to new pages and tells the
 * dynamic importers (`dma_buf_move_notify`). The old pages stay allocated, with their old
 * contents, until the buffer is released, so an importer that keeps using a mapping made
 * before the move reads stale data instead of faulting.
 */
@exporter({ name: "pinnable-page-exporter" })
export class PinnablePageExporter extends PageExporter {
  readonly #host: PageExporterHost;
  readonly #pins = new WeakMap<DmaBuf, number>();
  readonly #retired = new WeakMap<DmaBuf, number[]>();

  /** @param host - the exporter's host (given by `createKernel`) */
  constructor(host: PageExporterHost) {
    super(host);
    this.#host = host;
  }

  /** How many pins the buffer holds now (by dynamic importers and by pin-on-map). */
  pinCount(buf: DmaBuf): number {
    return this.#pins.get(buf) ?? 0;
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.pin} */
  pin(attachment: DmaBufAttachment): void {
    this.#pins.set(attachment.dmabuf, this.pinCount(attachment.dmabuf) + 1);
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.unpin} */
  unpin(attachment: DmaBufAttachment): void {
    this.#pins.set(attachment.dmabuf, this.pinCount(attachment.dmabuf) - 1);
  }

  /**
   * Moves `buf` to newly allocated pages, copying its contents, then calls
   * `dma_buf_move_notify` with the reservation lock held. Mappings made before the move keep
   * pointing at the old pages.
   * @throws KernelError EBUSY when the buffer is pinned; ENOMEM when pages run out (nothing
   * moved).
   */
  move(buf: DmaBuf<PageBuffer>): void {
    if (this.pinCount(buf) > 0) throw new KernelError("EBUSY", "pinnable_exporter_move", "pinned");
    const { buddy, cpu, pageSize: ps } = this.#host;
    const pfns = buf.priv.pfns;
    const fresh: number[] = [];
    for (let i = 0; i < pfns.length; i++) {
      const pfn = buddy.allocPages(0, { zero: true });
      if (pfn < 0) {
        for (const p of fresh) buddy.freePages(p, 0);
        throw new KernelError("ENOMEM", "pinnable_exporter_move");
      }
      fresh.push(pfn);
    }
    const page = new Uint8Array(ps);
    const retired = this.#retired.get(buf) ?? [];
    for (const [i, pfn] of fresh.entries()) {
      cpu.read((pfns[i] as number) * ps, ps, page, 0);
      cpu.write(pfn * ps, page);
      retired.push(pfns[i] as number);
      pfns[i] = pfn;
    }
    this.#retired.set(buf, retired);
    buf.resv.lock();
    try {
      this.#host.dmaBuf.moveNotify(buf);
    } finally {
      buf.resv.unlock();
    }
  }

  /** {@inheritDoc @dmabuf/core!index.DmaBufOps.release} */
  override release(buf: DmaBuf<PageBuffer>): void {
    for (const pfn of this.#retired.get(buf) ?? []) this.#host.buddy.freePages(pfn, 0);
    this.#retired.delete(buf);
    super.release(buf);
  }
}
