// The kernel snapshot counts everything a kernel owns: CMA, hugetlb, DMA mappings, IOVA, plugin pools.

import { describe, expect, it } from "vitest";
import { Device } from "./dma/device.js";
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from "./dma/direction.js";
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
});
