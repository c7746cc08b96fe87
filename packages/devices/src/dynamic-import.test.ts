// Dynamic imports (dma_buf_dynamic_attach): move_notify drops the mapping, the next access re-maps.

import {
  createKernel,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type DmaBufAttachment,
  type Kernel,
  KernelError,
  type PageBuffer,
  PageExporter,
} from "@dmabuf/core";
import { O_RDWR } from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { SgEngine } from "./sg-engine.js";
import { Vgem } from "./vgem.js";

/** A page exporter that pins (so its buffers are dynamic) and moves unpinned buffers. */
class PinnableExporter extends PageExporter {
  pins = 0;
  constructor(private readonly k: Kernel) {
    super(k);
  }
  pin(_a: DmaBufAttachment): void {
    this.pins++;
  }
  unpin(_a: DmaBufAttachment): void {
    this.pins--;
  }
  /** Copies the buffer to new pages (the old ones are freed), then calls move_notify. */
  move(buf: DmaBuf<PageBuffer>): void {
    if (this.pins > 0) throw new KernelError("EBUSY", "move", "pinned");
    const ps = this.k.pageSize;
    const page = new Uint8Array(ps);
    const { pfns } = buf.priv;
    for (let i = 0; i < pfns.length; i++) {
      const pfn = this.k.buddy.allocPages(0, {});
      this.k.cpu.read((pfns[i] as number) * ps, ps, page, 0);
      this.k.cpu.write(pfn * ps, page);
      this.k.buddy.freePages(pfns[i] as number, 0);
      pfns[i] = pfn;
    }
    buf.resv.lock();
    this.k.dmaBuf.moveNotify(buf);
    buf.resv.unlock();
  }
}

function boot(moveNotify: boolean) {
  const kernel = createKernel({
    ram: "64MiB",
    moveNotify,
    plugins: [{ plugin: Vgem, config: { dynamic: true } }],
  });
  const exporter = new PinnableExporter(kernel);
  const buf = exporter.create(4 * kernel.pageSize, O_RDWR);
  return { kernel, exporter, buf, vgem: kernel.plugin(Vgem) };
}

describe("a dynamic device import", () => {
  it("attaches dynamically, is not pinned on map, and re-maps after move_notify", () => {
    const { kernel, exporter, buf, vgem } = boot(true);
    expect(vgem.dynamic).toBe(true);
    const imported = vgem.import(buf, DMA_BIDIRECTIONAL);
    expect(imported.attachment.isDynamic).toBe(true);
    expect(exporter.pins).toBe(0);
    imported.fill(0x5a);
    const before = imported.sgt;
    const oldPfns = [...buf.priv.pfns];
    exporter.move(buf);
    expect(buf.priv.pfns.some((p, i) => p !== oldPfns[i])).toBe(true);
    expect(imported.mapped).toBe(false);
    expect(buf.priv.mapped.size).toBe(0);
    expect(imported.read(0, 8)).toEqual(new Uint8Array(8).fill(0x5a));
    expect(imported.mapped).toBe(true);
    expect(imported.sgt).not.toBe(before);
    imported.write(kernel.pageSize, new Uint8Array([1, 2, 3]));
    const map = kernel.dmaBuf.vmap(buf);
    expect(map.read(kernel.pageSize, 3)).toEqual(new Uint8Array([1, 2, 3]));
    kernel.dmaBuf.vunmap(buf, map);
    imported.release();
    expect(buf.priv.mapped.size).toBe(0);
    expect(buf.attachments).toHaveLength(0);
    kernel.dmaBuf.put(buf);
  });

  it("moves while idle: a drop without a later access leaves nothing mapped at release", () => {
    const { kernel, exporter, buf, vgem } = boot(true);
    const imported = vgem.import(buf, DMA_BIDIRECTIONAL);
    exporter.move(buf);
    exporter.move(buf);
    imported.release();
    expect(buf.priv.mapped.size).toBe(0);
    kernel.dmaBuf.put(buf);
  });

  it("queued engine work re-maps at completion", () => {
    const kernel = createKernel({
      ram: "64MiB",
      moveNotify: true,
      plugins: [{ plugin: SgEngine, config: { dynamic: true } }],
    });
    const exporter = new PinnableExporter(kernel);
    const buf = exporter.create(4 * kernel.pageSize, O_RDWR);
    const engine = kernel.plugin(SgEngine);
    const imported = engine.import(buf, DMA_BIDIRECTIONAL);
    const fence = engine.fill(imported, 7);
    exporter.move(buf);
    fence.wait(true);
    expect(imported.read()).toEqual(new Uint8Array(buf.size).fill(7));
    imported.release();
    kernel.dmaBuf.put(buf);
  });

  it("without CONFIG_DMABUF_MOVE_NOTIFY is pinned on map, so the exporter cannot move it", () => {
    const { kernel, exporter, buf, vgem } = boot(false);
    const imported = vgem.import(buf, DMA_BIDIRECTIONAL);
    expect(imported.attachment.isDynamic).toBe(true);
    expect(exporter.pins).toBe(1);
    expect(() => exporter.move(buf)).toThrow(KernelError);
    imported.fill(3);
    expect(imported.mapped).toBe(true);
    imported.release();
    expect(exporter.pins).toBe(0);
    kernel.dmaBuf.put(buf);
  });

  it("a static import of the pinnable exporter is pinned on map either way", () => {
    for (const moveNotify of [true, false]) {
      const kernel = createKernel({ ram: "64MiB", moveNotify, plugins: [Vgem] });
      const exporter = new PinnableExporter(kernel);
      const buf = exporter.create(kernel.pageSize, O_RDWR);
      const imported = kernel.plugin(Vgem).import(buf, DMA_BIDIRECTIONAL);
      expect(imported.attachment.isDynamic).toBe(false);
      expect(exporter.pins).toBe(1);
      imported.release();
      expect(exporter.pins).toBe(0);
      kernel.dmaBuf.put(buf);
    }
  });
});
