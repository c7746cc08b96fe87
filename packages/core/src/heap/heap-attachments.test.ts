// Tests of HeapAttachments: per-attachment and per-map tables, CPU-access syncs, errors.

import { describe, expect, it } from "vitest";
import { Device } from "../dma/device.js";
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from "../dma/direction.js";
import type { DmaBuf } from "../dma-buf/dma-buf.js";
import { KernelError } from "../errors/kernel-error.js";
import { type PageBuffer, PageExporter } from "../examples/page-exporter.js";
import { createKernel, type Kernel } from "../kernel.js";
import { SgTable } from "../mm/sg-table.js";
import { O_RDWR } from "../uapi/fcntl.js";
import { HeapAttachments } from "./heap-attachments.js";

const PS = 4096;

interface Rig {
  kernel: Kernel;
  buf: DmaBuf<PageBuffer>;
  helper: HeapAttachments;
  /** Every cache-maintenance call of the DMA API, as [kind, device, phys, length, dir]. */
  syncs: [string, string, number, number, number][];
  /** A fresh, unmapped table of the buffer's pages. */
  table(): SgTable;
}

function boot(pages = 2): Rig {
  const kernel = createKernel({ ram: "64MiB", plugins: [PageExporter] });
  const buf = kernel.plugin(PageExporter).create(pages * PS, O_RDWR);
  const syncs: Rig["syncs"] = [];
  kernel.dma.hooks = {
    syncForCpu: (dev, phys, len, dir) => syncs.push(["cpu", dev.name, phys, len, dir]),
    syncForDevice: (dev, phys, len, dir) => syncs.push(["device", dev.name, phys, len, dir]),
  };
  const table = () => SgTable.fromPfnRuns(PS, buf.priv.pfns);
  return { kernel, buf, helper: new HeapAttachments(kernel.dma), syncs, table };
}

const dev = (name: string) => new Device({ name, coherent: false });

describe("HeapAttachments", () => {
  it("maps and unmaps the attachment's own table", () => {
    const { kernel, buf, helper, table } = boot();
    const a = kernel.dmaBuf.attach(buf, dev("isp"));
    const own = table();
    helper.attach(a, own);
    expect(helper.attachments()).toEqual([a]);
    expect(helper.mappedCount).toBe(0);
    expect(helper.map(a, DMA_BIDIRECTIONAL)).toBe(own);
    expect(helper.mappedCount).toBe(1);
    expect(own.nents).toBe(own.entryCount);
    expect(own.nents).toBeGreaterThan(0);
    helper.unmap(a, own, DMA_BIDIRECTIONAL);
    expect(helper.mappedCount).toBe(0);
    expect(own.nents).toBe(0);
    expect(helper.map(a, DMA_TO_DEVICE)).toBe(own);
    helper.unmap(a, own, DMA_TO_DEVICE);
    helper.detach(a);
    expect(helper.attachments()).toEqual([]);
    kernel.dmaBuf.detach(buf, a);
    kernel.dmaBuf.put(buf);
    expect(kernel.dma.debug.reports).toEqual([]);
  });

  it("maps a table given per map, several at once", () => {
    const { kernel, buf, helper, table } = boot();
    const a = kernel.dmaBuf.attach(buf, dev("gpu"));
    helper.attach(a);
    const t1 = table();
    const t2 = table();
    expect(helper.map(a, DMA_BIDIRECTIONAL, t1)).toBe(t1);
    expect(helper.map(a, DMA_FROM_DEVICE, t2)).toBe(t2);
    expect(helper.mappedCount).toBe(2);
    helper.unmap(a, t1, DMA_BIDIRECTIONAL);
    expect(helper.mappedCount).toBe(1);
    expect(t1.nents).toBe(0);
    expect(t2.nents).toBe(1);
    helper.unmap(a, t2, DMA_FROM_DEVICE);
    expect(helper.mappedCount).toBe(0);
    helper.detach(a);
    kernel.dmaBuf.detach(buf, a);
    kernel.dmaBuf.put(buf);
    expect(kernel.dma.debug.reports).toEqual([]);
  });

  it("syncs only mapped tables, attachments in attach order, tables in map order", () => {
    const { kernel, buf, helper, syncs, table } = boot(1);
    const pfn = buf.priv.pfns[0] as number;
    const a = kernel.dmaBuf.attach(buf, dev("a"));
    const b = kernel.dmaBuf.attach(buf, dev("b"));
    const c = kernel.dmaBuf.attach(buf, dev("c"));
    helper.attach(a);
    helper.attach(b, table());
    helper.attach(c, table());
    const b1 = helper.map(b, DMA_BIDIRECTIONAL);
    const a1 = helper.map(a, DMA_BIDIRECTIONAL, table());
    const a2 = helper.map(a, DMA_BIDIRECTIONAL, table());
    helper.unmap(a, a1, DMA_BIDIRECTIONAL);
    const a3 = helper.map(a, DMA_BIDIRECTIONAL, table());
    syncs.length = 0;
    helper.syncForCpu(DMA_FROM_DEVICE);
    expect(syncs).toEqual([
      ["cpu", "a", pfn * PS, PS, DMA_FROM_DEVICE],
      ["cpu", "a", pfn * PS, PS, DMA_FROM_DEVICE],
      ["cpu", "b", pfn * PS, PS, DMA_FROM_DEVICE],
    ]);
    syncs.length = 0;
    helper.syncForDevice(DMA_TO_DEVICE);
    expect(syncs).toEqual([
      ["device", "a", pfn * PS, PS, DMA_TO_DEVICE],
      ["device", "a", pfn * PS, PS, DMA_TO_DEVICE],
      ["device", "b", pfn * PS, PS, DMA_TO_DEVICE],
    ]);
    helper.unmap(a, a2, DMA_BIDIRECTIONAL);
    helper.unmap(a, a3, DMA_BIDIRECTIONAL);
    helper.unmap(b, b1, DMA_BIDIRECTIONAL);
    syncs.length = 0;
    helper.syncForCpu(DMA_BIDIRECTIONAL);
    helper.syncForDevice(DMA_BIDIRECTIONAL);
    expect(syncs).toEqual([]);
    for (const x of [a, b, c]) {
      helper.detach(x);
      kernel.dmaBuf.detach(buf, x);
    }
    kernel.dmaBuf.put(buf);
    expect(kernel.dma.debug.reports).toEqual([]);
  });

  it("records nothing when a map fails, and refuses unknown attachments", () => {
    const { kernel, buf, helper, table } = boot();
    const a = kernel.dmaBuf.attach(buf, dev("isp"));
    expect(() => helper.map(a, DMA_BIDIRECTIONAL, table())).toThrow(TypeError);
    expect(() => helper.unmap(a, table(), DMA_BIDIRECTIONAL)).toThrow(TypeError);
    helper.detach(a);
    helper.attach(a);
    expect(() => helper.map(a, DMA_BIDIRECTIONAL)).toThrow(TypeError);
    let caught: unknown;
    try {
      helper.map(a, 7 as typeof DMA_BIDIRECTIONAL, table());
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KernelError);
    expect((caught as KernelError).code).toBe("EINVAL");
    expect(helper.mappedCount).toBe(0);
    helper.detach(a);
    expect(helper.attachments()).toEqual([]);
    kernel.dmaBuf.detach(buf, a);
    kernel.dmaBuf.put(buf);
    expect(kernel.dma.debug.reports).toEqual([]);
  });

  it("backs a heap's buffer ops through the dma-buf core", () => {
    const { kernel, syncs } = boot();
    interface Priv {
      readonly pfn: number;
      readonly attachments: HeapAttachments;
    }
    const pfn = kernel.buddy.allocPages(0, { zero: true });
    const buf = kernel.dmaBuf.export<Priv>({
      expName: "tiny",
      size: PS,
      flags: O_RDWR,
      priv: { pfn, attachments: new HeapAttachments(kernel.dma) },
      ops: {
        attach: (b, a) => b.priv.attachments.attach(a, SgTable.fromPfnRuns(PS, [b.priv.pfn])),
        detach: (b, a) => b.priv.attachments.detach(a),
        mapDmaBuf: (a, dir) => (a.dmabuf.priv as Priv).attachments.map(a, dir),
        unmapDmaBuf: (a, sgt, dir) => (a.dmabuf.priv as Priv).attachments.unmap(a, sgt, dir),
        beginCpuAccess: (b, dir) => b.priv.attachments.syncForCpu(dir),
        endCpuAccess: (b, dir) => b.priv.attachments.syncForDevice(dir),
        release: (b) => kernel.buddy.freePages(b.priv.pfn, 0),
      },
    });
    const a = kernel.dmaBuf.attach(buf, dev("dsp"));
    const sgt = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect(buf.priv.attachments.mappedCount).toBe(1);
    syncs.length = 0;
    kernel.dmaBuf.beginCpuAccess(buf, DMA_FROM_DEVICE);
    kernel.dmaBuf.endCpuAccess(buf, DMA_TO_DEVICE);
    expect(syncs).toEqual([
      ["cpu", "dsp", pfn * PS, PS, DMA_FROM_DEVICE],
      ["device", "dsp", pfn * PS, PS, DMA_TO_DEVICE],
    ]);
    kernel.dmaBuf.unmapAttachment(a, sgt, DMA_BIDIRECTIONAL);
    expect(buf.priv.attachments.mappedCount).toBe(0);
    kernel.dmaBuf.detach(buf, a);
    expect(buf.priv.attachments.attachments()).toEqual([]);
    kernel.dmaBuf.put(buf);
    expect(kernel.dma.debug.reports).toEqual([]);
  });
});
