// The kernel snapshot counts everything a kernel owns: CMA, hugetlb, DMA mappings, IOVA, plugin pools.

import { describe, expect, it } from "vitest";
import { Device } from "./dma/device.js";
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from "./dma/direction.js";
import { PageExporter } from "./examples/page-exporter.js";
import { DmaFence } from "./fence/dma-fence.js";
import { createKernel } from "./kernel.js";
import { SgTable } from "./mm/sg-table.js";

describe("kernel.snapshot()", () => {
  it("sees pages taken from a CMA area, which the page allocator's count does not", () => {
    const k = createKernel({ ram: "64MiB", cma: { size: "8MiB" } });
    const before = k.snapshot();
    const area = k.defaultCmaArea;
    if (!area) throw new Error("no CMA area");
    const pfn = area.alloc(1024, 0);
    const after = k.snapshot();
    expect(after.freePages).toBe(before.freePages);
    expect(after.cmaPages - before.cmaPages).toBe(1024);
    area.release(pfn, 1024);
    expect(k.snapshot()).toEqual(before);
  });

  it("sees huge pages in use", () => {
    const k = createKernel({ ram: "64MiB", hugepages: 2 });
    const before = k.snapshot();
    const pfn = k.hugetlb.defaultPool.alloc(false);
    expect(pfn).toBeGreaterThanOrEqual(0);
    expect(k.snapshot().hugePages - before.hugePages).toBe(1);
  });

  it("sees live DMA mappings and the IOVA they hold, and a wrong-direction unmap still frees them", () => {
    const k = createKernel({ ram: "64MiB" });
    const before = k.snapshot();
    const gpu = new Device({ name: "gpu0", iommu: true });
    const pfn = k.buddy.allocPages(8);
    const t = new SgTable(1);
    t.append(pfn, 256 * k.pageSize);
    const afterAlloc = k.snapshot();
    k.dma.mapSgtable(gpu, t, DMA_TO_DEVICE);
    expect(k.snapshot()).toEqual({ ...afterAlloc, dmaMappings: 1, iovaBytes: 1 << 20 });
    expect([...k.dma.holders()]).toEqual([["gpu0", { mappings: 1, iovaBytes: 1 << 20 }]]);
    // DMA-API debugging warns about the direction; the mapping and its IOVA go, as in Linux.
    k.dma.unmapSgtable(gpu, t, DMA_FROM_DEVICE);
    expect(k.dma.debug.reports.map((r) => r.code)).toEqual(["DMA_API_UNMAP_WRONG_DIR"]);
    expect(k.snapshot()).toEqual(afterAlloc);
    k.buddy.freePages(pfn, 8);
    expect(k.snapshot()).toEqual(before);
  });

  it("names the holders: attachments by buffer and device, vmaps by buffer, fds by process", () => {
    const k = createKernel({ ram: "64MiB" });
    const app = k.spawn({ name: "camera" });
    const exporter = new PageExporter(k);
    const buf = exporter.create(2 * k.pageSize, 2);
    const fd = k.dmaBuf.fd(buf, app, 0);
    const gpu = new Device({ name: "gpu0" });
    const a1 = k.dmaBuf.attach(buf, gpu);
    const a2 = k.dmaBuf.attach(buf, gpu);
    const a3 = k.dmaBuf.attach(buf, new Device({ name: "isp" }));
    const map = k.dmaBuf.vmap(buf);
    k.dmaBuf.vmap(buf);
    const s = k.snapshot();
    expect(s.attachmentsByHolder).toEqual({ [`${buf.ino}:gpu0`]: 2, [`${buf.ino}:isp`]: 1 });
    expect(Object.keys(s.attachmentsByHolder)).toEqual([`${buf.ino}:gpu0`, `${buf.ino}:isp`]);
    expect(s.vmapsByBuffer).toEqual({ [String(buf.ino)]: 2 });
    expect(s.fdsByProcess).toEqual({ [`${app.pid} (camera)`]: 1 });
    k.dmaBuf.vunmap(buf, map);
    k.dmaBuf.vunmap(buf, map);
    for (const a of [a1, a2, a3]) k.dmaBuf.detach(buf, a);
    app.close(fd); // the last reference: the buffer goes
    const after = k.snapshot();
    expect([after.attachmentsByHolder, after.vmapsByBuffer, after.fdsByProcess]).toEqual([
      {},
      {},
      {},
    ]);
  });

  it("counts fence callbacks armed and not yet run or removed, by timeline", () => {
    const k = createKernel({ ram: "64MiB" });
    const ops = { getDriverName: () => "gpu", getTimelineName: () => "ring0" };
    const ctx = k.fences.contextAlloc(1);
    const f1 = new DmaFence(k.fences, ops, ctx, 1);
    const f2 = new DmaFence(k.fences, ops, ctx, 2);
    expect(k.snapshot().fenceCallbacks).toBe(0);
    const ran: number[] = [];
    f1.addCallback(() => ran.push(1));
    const cb = f1.addCallback(() => ran.push(2));
    f2.addCallback(() => ran.push(3));
    expect(k.snapshot().fenceCallbacks).toBe(3);
    expect(k.snapshot().fenceCallbacksByTimeline).toEqual({ [`gpu:ring0:${ctx}`]: 3 });
    expect(f1.removeCallback(cb)).toBe(true);
    expect(k.snapshot().fenceCallbacks).toBe(2);
    f1.signal();
    expect(k.snapshot().fenceCallbacksByTimeline).toEqual({ [`gpu:ring0:${ctx}`]: 1 });
    f2.signal();
    expect(ran).toEqual([1, 3]);
    expect([k.snapshot().fenceCallbacks, k.snapshot().fenceCallbacksByTimeline]).toEqual([0, {}]);
  });
});
