// Fault injection fails exactly the Nth allocation at a point, or kills the caller after N pages.

import { describe, expect, it } from "vitest";
import { Device } from "../dma/device.js";
import { DMA_TO_DEVICE } from "../dma/direction.js";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel } from "../kernel.js";
import { SgTable } from "../mm/sg-table.js";

describe("kernel.faults", () => {
  it("fails the Nth page allocation from now, once, and counts them", () => {
    const k = createKernel({ ram: "16MiB" });
    k.faults.failNth("page", 3);
    const a = k.buddy.allocPages(0);
    const b = k.buddy.allocPages(2);
    expect(k.buddy.allocPages(0)).toBe(-1);
    const c = k.buddy.allocPages(0);
    expect([a, b, c].every((p) => p >= 0)).toBe(true);
    expect(k.faults.count("page")).toBe(4);
    k.faults.reset();
    expect(k.faults.count("page")).toBe(0);
  });

  it("fails a CMA area allocation as a page allocation", () => {
    const k = createKernel({ ram: "64MiB", cma: { size: "8MiB" } });
    k.faults.failNth("page", 1);
    expect(k.defaultCmaArea?.alloc(16, 0)).toBe(-1);
    expect(k.defaultCmaArea?.usedPages).toBe(0);
    expect(k.defaultCmaArea?.alloc(16, 0)).toBeGreaterThanOrEqual(0);
  });

  it("fails the Nth IOVA allocation: the mapping fails with ENOMEM and holds nothing", () => {
    const k = createKernel({ ram: "16MiB" });
    const dev = new Device({ name: "gpu0", iommu: true });
    const t = new SgTable(1);
    t.append(k.buddy.allocPages(0), k.pageSize);
    const before = k.snapshot();
    k.faults.failNth("iova", 1);
    expect(() => k.dma.mapSgtable(dev, t, DMA_TO_DEVICE)).toThrow(
      expect.objectContaining({ code: "ENOMEM" }),
    );
    expect(k.snapshot()).toEqual(before);
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    expect(k.snapshot().iovaBytes).toBe(k.pageSize);
  });

  it("fails the Nth sg-table allocation with ENOMEM, whichever helper makes it", () => {
    const k = createKernel({ ram: "16MiB" });
    const t = new SgTable(1);
    t.append(7, k.pageSize);
    k.faults.failNth("sg", 3);
    expect(k.sg.alloc(4).entryCount).toBe(0);
    expect(k.sg.dup(t).pfn[0]).toBe(7);
    expect(() => k.sg.fromPages([1, 2, 3])).toThrow(
      expect.objectContaining({ code: "ENOMEM", syscall: "sg_alloc_table_from_pages" }),
    );
    expect(k.sg.fromPages([1, 2, 3]).entryCount).toBe(1);
    expect(k.faults.count("sg")).toBe(4);
    expect(k.faults.count("page")).toBe(0);
  });

  it("fails an exporter's map_dma_buf at its sg table: ENOMEM to the importer, nothing held", () => {
    const k = createKernel({ ram: "16MiB" });
    const buf = new PageExporter(k).create(3 * k.pageSize, 2);
    const a = k.dmaBuf.attach(buf, new Device({ name: "gpu0", iommu: true }));
    const before = k.snapshot();
    k.faults.failNth("sg", 1);
    expect(() => k.dmaBuf.mapAttachment(a, DMA_TO_DEVICE)).toThrow(
      expect.objectContaining({ code: "ENOMEM", syscall: "sg_alloc_table_from_pages" }),
    );
    expect(k.snapshot()).toEqual(before);
    k.dmaBuf.unmapAttachment(a, k.dmaBuf.mapAttachment(a, DMA_TO_DEVICE), DMA_TO_DEVICE);
    k.dmaBuf.detach(buf, a);
    k.dmaBuf.put(buf);
  });

  it("kills the running process after the Nth page allocation, which itself succeeds", () => {
    const k = createKernel({ ram: "16MiB" });
    const proc = k.spawn();
    k.faults.fatalSignalAfterPages(2);
    k.runAs(proc, () => {
      expect(k.buddy.allocPages(0)).toBeGreaterThanOrEqual(0);
      expect(proc.fatalSignalPending).toBe(false);
      expect(k.buddy.allocPages(0)).toBeGreaterThanOrEqual(0);
      expect(proc.fatalSignalPending).toBe(true);
    });
  });

  it("rejects a count that is not a positive integer", () => {
    const k = createKernel({ ram: "16MiB" });
    expect(() => k.faults.failNth("page", 0)).toThrow(RangeError);
    expect(() => k.faults.fatalSignalAfterPages(1.5)).toThrow(RangeError);
  });
});
