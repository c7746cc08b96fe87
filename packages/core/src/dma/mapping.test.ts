// The DMA mapping API: dma-direct and IOMMU mappings, DMA-API debugging, device ports.

import { describe, expect, it } from "vitest";
import { KernelBug } from "../errors/kernel-bug.js";
import { createKernel, type Kernel } from "../kernel.js";
import { SgTable } from "../mm/sg-table.js";
import { DMA_ATTR_SKIP_CPU_SYNC } from "./attrs.js";
import { Device } from "./device.js";
import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_NONE,
  DMA_TO_DEVICE,
  type DmaDirection,
} from "./direction.js";
import { type DmaSyncHooks, dmaContiguousSize } from "./mapping.js";

const PS = 4096;
const MiB = 1024 * 1024;

function boot(): Kernel {
  return createKernel({ ram: "64MiB" });
}

/** A table of `runs` (pfn, pages). */
function table(...runs: [number, number][]): SgTable {
  const t = new SgTable();
  for (const [pfn, pages] of runs) t.append(pfn, pages * PS);
  return t;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

function dmaSegments(sgt: SgTable): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < sgt.nents; i++) {
    out.push([sgt.dmaAddress[i] as number, sgt.dmaLength[i] as number]);
  }
  return out;
}

describe("dma-direct (no IOMMU)", () => {
  it("bus addresses are physical addresses, one DMA segment per CPU entry", () => {
    const k = boot();
    const dev = new Device({ name: "d" });
    const t = table([10, 2], [12, 1], [100, 4]);
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    expect(dmaSegments(t)).toEqual([
      [10 * PS, 2 * PS],
      [12 * PS, PS],
      [100 * PS, 4 * PS],
    ]);
    // Entries 0 and 1 touch: the leading contiguous run is 3 pages.
    expect(dmaContiguousSize(t)).toBe(3 * PS);
    expect(k.dma.liveMappings(dev)).toBe(1);
    k.dma.unmapSgtable(dev, t, DMA_TO_DEVICE);
    expect(t.nents).toBe(0);
    expect(dmaContiguousSize(t)).toBe(0);
    expect(k.dma.liveMappings()).toBe(0);
  });

  it("a page above the dma mask fails with EIO and maps nothing", () => {
    const k = boot();
    const dev = new Device({ name: "d32", dmaMask: 16 * PS - 1 });
    const t = table([2, 1], [16, 1]);
    expect(codeOf(() => k.dma.mapSgtable(dev, t, DMA_TO_DEVICE))).toBe("EIO");
    expect(t.nents).toBe(0);
    expect(k.dma.isMapped(t)).toBe(false);
    expect(codeOf(() => k.dma.mapSgtable(dev, t, DMA_NONE as DmaDirection))).toBe("EINVAL");
  });
});

describe("behind an IOMMU", () => {
  it("allocates IOVA top-down below the mask and merges the chunks into one segment", () => {
    const k = boot();
    const dev = new Device({ name: "gpu", iommu: true, dmaMask: 0xffffffff });
    const t = table([300, 256], [10, 16], [7000, 1]);
    k.dma.mapSgtable(dev, t, DMA_BIDIRECTIONAL);
    const total = (256 + 16 + 1) * PS;
    expect(dmaSegments(t)).toEqual([[2 ** 32 - total, total]]);
    expect(dmaContiguousSize(t)).toBe(total);
    expect(k.dma.iovaBytes(dev)).toBe(total);
    // A second table goes right below the first.
    const t2 = table([50, 1]);
    k.dma.mapSgtable(dev, t2, DMA_TO_DEVICE);
    expect(dmaSegments(t2)).toEqual([[2 ** 32 - total - PS, PS]]);
    k.dma.unmapSgtable(dev, t, DMA_BIDIRECTIONAL);
    expect(k.dma.iovaBytes(dev)).toBe(PS);
    // The freed range is reused from the top.
    k.dma.mapSgtable(dev, t, DMA_BIDIRECTIONAL);
    expect(t.dmaAddress[0]).toBe(2 ** 32 - total);
  });

  it("splits segments at the device's max segment size", () => {
    const k = boot();
    const dev = new Device({ name: "gpu", iommu: true, maxSegmentSize: 64 * 1024 });
    const t = table([0, 16], [100, 16], [200, 16]);
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    expect(t.nents).toBe(3);
    expect(dmaContiguousSize(t)).toBe(48 * PS);
  });

  it("reports ENOMEM when the IOVA space is exhausted", () => {
    const k = boot();
    const dev = new Device({ name: "tiny", iommu: true, dmaMask: 4 * PS - 1 });
    const t = table([0, 8]);
    expect(codeOf(() => k.dma.mapSgtable(dev, t, DMA_TO_DEVICE))).toBe("ENOMEM");
    expect(k.dma.isMapped(t)).toBe(false);
  });
});

describe("DMA-API debugging", () => {
  it("unmap of a table never mapped, and double unmap, are coded bugs (thrown when asked)", () => {
    const k = boot();
    k.dma.debug.setAllFatal(true);
    const dev = new Device({ name: "d" });
    const t = table([1, 1]);
    expect(codeOf(() => k.dma.unmapSgtable(dev, t, DMA_TO_DEVICE))).toBe(
      "DMA_API_UNMAP_NOT_MAPPED",
    );
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    k.dma.unmapSgtable(dev, t, DMA_TO_DEVICE);
    expect(codeOf(() => k.dma.unmapSgtable(dev, t, DMA_TO_DEVICE))).toBe("DMA_API_DOUBLE_UNMAP");
    expect(k.dma.debug.reports.map((r) => r.code)).toEqual([
      "DMA_API_UNMAP_NOT_MAPPED",
      "DMA_API_DOUBLE_UNMAP",
    ]);
    expect(k.log.records.filter((r) => r.level === "warn").map((r) => r.text)).toEqual([
      "DMA-API: d: device driver tries to free DMA memory it has not allocated",
      "DMA-API: d: device driver tries to free DMA memory it has already freed",
    ]);
  });

  it("unmap by another device or in another direction (thrown when asked)", () => {
    const k = boot();
    k.dma.debug.setAllFatal(true);
    const a = new Device({ name: "a" });
    const b = new Device({ name: "b" });
    const t = table([1, 1]);
    k.dma.mapSgtable(a, t, DMA_TO_DEVICE);
    expect(codeOf(() => k.dma.unmapSgtable(b, t, DMA_TO_DEVICE))).toBe("DMA_API_UNMAP_WRONG_DEV");
    expect(codeOf(() => k.dma.unmapSgtable(a, t, DMA_FROM_DEVICE))).toBe("DMA_API_UNMAP_WRONG_DIR");
    // A fatal report changed nothing: the right unmap still works.
    expect(k.dma.isMapped(t, a)).toBe(true);
    k.dma.unmapSgtable(a, t, DMA_TO_DEVICE);
  });

  it("sync of an unmapped table, or in a direction the mapping lacks (thrown when asked)", () => {
    const k = boot();
    k.dma.debug.setAllFatal(true);
    const dev = new Device({ name: "d", coherent: false });
    const t = table([1, 1]);
    expect(codeOf(() => k.dma.syncSgtableForCpu(dev, t, DMA_FROM_DEVICE))).toBe(
      "DMA_API_SYNC_NOT_MAPPED",
    );
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    expect(codeOf(() => k.dma.syncSgtableForCpu(dev, t, DMA_FROM_DEVICE))).toBe(
      "DMA_API_SYNC_WRONG_DIR",
    );
    expect(codeOf(() => k.dma.syncSgtableForDevice(dev, t, DMA_BIDIRECTIONAL))).toBe(
      "DMA_API_SYNC_WRONG_DIR",
    );
    k.dma.syncSgtableForDevice(dev, t, DMA_TO_DEVICE);
    // A bidirectional mapping may be synced either way.
    const u = table([2, 1]);
    k.dma.mapSgtable(dev, u, DMA_BIDIRECTIONAL);
    k.dma.syncSgtableForCpu(dev, u, DMA_FROM_DEVICE);
    k.dma.syncSgtableForDevice(dev, u, DMA_TO_DEVICE);
  });

  it("reports without throwing by default, as Linux warns, and not at all when disabled", () => {
    const k = boot();
    const dev = new Device({ name: "d" });
    const t = table([1, 1]);
    k.dma.unmapSgtable(dev, t, DMA_TO_DEVICE);
    expect(k.dma.debug.reports).toHaveLength(1);
    // A wrong-direction unmap is reported and still unmaps, as in Linux.
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    k.dma.unmapSgtable(dev, t, DMA_FROM_DEVICE);
    expect(k.dma.isMapped(t)).toBe(false);
    expect(k.dma.debug.reports.map((r) => r.code)).toEqual([
      "DMA_API_UNMAP_NOT_MAPPED",
      "DMA_API_UNMAP_WRONG_DIR",
    ]);
    k.dma.debug.reports.length = 0;
    k.dma.debug.enabled = false;
    k.dma.unmapSgtable(dev, t, DMA_TO_DEVICE);
    expect(k.dma.debug.reports).toHaveLength(0);
  });

  it("a segment longer than the device takes is reported, not fatal, by default", () => {
    const k = boot();
    const dev = new Device({ name: "small-seg", maxSegmentSize: 64 * 1024 });
    const t = table([0, 256]);
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    expect(k.dma.debug.reports.map((r) => r.code)).toEqual(["DMA_API_SEGMENT_TOO_LONG"]);
  });

  it("only the sync hooks of non-coherent devices run, one call per CPU range", () => {
    const k = boot();
    const log: string[] = [];
    const hooks: DmaSyncHooks = {
      syncForCpu: (d, phys, len, dir) => log.push(`cpu ${d.name} ${phys} ${len} ${dir}`),
      syncForDevice: (d, phys, len, dir) => log.push(`dev ${d.name} ${phys} ${len} ${dir}`),
    };
    k.dma.hooks = hooks;
    const nc = new Device({ name: "nc", coherent: false });
    const c = new Device({ name: "c" });
    const t = table([1, 1], [5, 2]);
    k.dma.mapSgtable(nc, t, DMA_BIDIRECTIONAL);
    k.dma.mapSgtable(c, table([9, 1]), DMA_BIDIRECTIONAL);
    k.dma.unmapSgtable(nc, t, DMA_BIDIRECTIONAL);
    expect(log).toEqual([
      `dev nc ${PS} ${PS} 0`,
      `dev nc ${5 * PS} ${2 * PS} 0`,
      `cpu nc ${PS} ${PS} 0`,
      `cpu nc ${5 * PS} ${2 * PS} 0`,
    ]);
  });
});

describe("device ports", () => {
  it("move bytes through the mapping, as the device sees it", () => {
    const k = boot();
    const dev = new Device({ name: "gpu", iommu: true });
    const t = table([40, 1], [20, 1]);
    k.memory.fill(40 * PS, PS, 0xaa);
    k.memory.fill(20 * PS, PS, 0xbb);
    k.dma.mapSgtable(dev, t, DMA_BIDIRECTIONAL);
    const port = k.dma.port(dev);
    expect(k.dma.port(dev)).toBe(port);
    const bytes = port.readTable(t, PS - 2, 4);
    expect([...bytes]).toEqual([0xaa, 0xaa, 0xbb, 0xbb]);
    // Raw bus access across the page boundary of the IOVA range.
    port.write((t.dmaAddress[0] as number) + PS - 1, new Uint8Array([1, 2]));
    expect(k.memory.read(41 * PS - 1, 1)[0]).toBe(1);
    expect(k.memory.read(20 * PS, 1)[0]).toBe(2);
    port.fillTable(t, 0, 2 * PS, 7);
    expect(k.memory.read(20 * PS + PS - 1, 1)[0]).toBe(7);
  });

  it("copy between two tables, run by run", () => {
    const k = boot();
    const dev = new Device({ name: "dma" });
    const src = table([10, 3]);
    const dst = table([30, 1], [50, 2]);
    const data = new Uint8Array(3 * PS).map((_, i) => i & 0xff);
    k.memory.write(10 * PS, data);
    k.dma.mapSgtable(dev, src, DMA_TO_DEVICE);
    k.dma.mapSgtable(dev, dst, DMA_FROM_DEVICE);
    k.dma.port(dev).copyTable(dst, 0, src, 0, 3 * PS);
    expect(k.memory.read(30 * PS, PS)).toEqual(data.subarray(0, PS));
    expect(k.memory.read(50 * PS, 2 * PS)).toEqual(data.subarray(PS));
  });

  it("fault outside a live mapping, beyond the mask, and against the mapping's direction", () => {
    const k = boot();
    const dev = new Device({ name: "d", dmaMask: 0xffffff });
    const t = table([1, 1]);
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE);
    const port = k.dma.port(dev);
    port.read(PS, PS);
    expect(codeOf(() => port.read(2 * PS, 1))).toBe("DMA_FAULT_UNMAPPED");
    expect(codeOf(() => port.read(0x1000000, 1))).toBe("DMA_FAULT_BEYOND_MASK");
    expect(codeOf(() => port.write(PS, new Uint8Array(1)))).toBe("DMA_FAULT_DIRECTION");
    k.dma.unmapSgtable(dev, t, DMA_TO_DEVICE);
    // Use after unmap: the table has no segments, the bus address no mapping.
    expect(codeOf(() => port.readTable(t, 0, 1))).toBe("DMA_FAULT_UNMAPPED");
    expect(codeOf(() => port.read(PS, 1))).toBe("DMA_FAULT_UNMAPPED");
    expect(() => port.read(PS, 1)).toThrow(KernelBug);
  });

  it("out-of-range table offsets are programming errors", () => {
    const k = boot();
    const dev = new Device({ name: "d" });
    const t = table([1, 1]);
    k.dma.mapSgtable(dev, t, DMA_BIDIRECTIONAL);
    expect(() => k.dma.port(dev).readTable(t, PS - 1, 2)).toThrow(RangeError);
    expect(() => k.dma.port(dev).readTable(t, -1, 1)).toThrow(RangeError);
  });
});

describe("devices", () => {
  it("are registered by name, once", () => {
    const k = boot();
    const d = new Device({ name: "cam" });
    k.dma.addDevice(d);
    expect(k.dma.findDevice("cam")).toBe(d);
    expect(k.dma.devices()).toEqual([d]);
    expect(codeOf(() => k.dma.addDevice(new Device({ name: "cam" })))).toBe("EEXIST");
    expect(MiB).toBeGreaterThan(0);
  });
});

describe("DMA_ATTR_SKIP_CPU_SYNC", () => {
  function recording(k: Kernel): string[] {
    const calls: string[] = [];
    k.dma.hooks = {
      syncForCpu: (_d, phys, len, dir) => calls.push(`cpu ${phys}+${len} dir ${dir}`),
      syncForDevice: (_d, phys, len, dir) => calls.push(`device ${phys}+${len} dir ${dir}`),
    };
    return calls;
  }

  it("map and unmap with the attribute do no cache maintenance; without it they do", () => {
    const k = boot();
    const calls = recording(k);
    const dev = new Device({ name: "nc", coherent: false });
    const t = table([100, 2]);
    k.dma.mapSgtable(dev, t, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
    expect(t.nents).toBe(1);
    expect(k.dma.isMapped(t, dev)).toBe(true);
    k.dma.unmapSgtable(dev, t, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
    expect(calls).toEqual([]);
    k.dma.mapSgtable(dev, t, DMA_BIDIRECTIONAL);
    k.dma.unmapSgtable(dev, t, DMA_BIDIRECTIONAL);
    expect(calls).toEqual([
      `device ${100 * PS}+${2 * PS} dir 0`,
      `cpu ${100 * PS}+${2 * PS} dir 0`,
    ]);
    expect(DMA_ATTR_SKIP_CPU_SYNC).toBe(32);
  });

  it("explicit syncs of a mapping made with the attribute still do their maintenance", () => {
    const k = boot();
    const calls = recording(k);
    const dev = new Device({ name: "nc", coherent: false });
    const t = table([7, 1]);
    k.dma.mapSgtable(dev, t, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    k.dma.syncSgtableForCpu(dev, t, DMA_FROM_DEVICE);
    k.dma.syncSgtableForDevice(dev, t, DMA_FROM_DEVICE);
    expect(calls).toEqual([`cpu ${7 * PS}+${PS} dir 2`, `device ${7 * PS}+${PS} dir 2`]);
    k.dma.unmapSgtable(dev, t, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    expect(k.dma.debug.reports).toEqual([]);
  });

  it("DMA-API debugging checks such mappings as any other and does not compare map and unmap attributes", () => {
    const k = boot();
    recording(k);
    const dev = new Device({ name: "nc", coherent: false });
    const t = table([9, 1]);
    k.dma.mapSgtable(dev, t, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    k.dma.syncSgtableForCpu(dev, t, DMA_FROM_DEVICE);
    k.dma.unmapSgtable(dev, t, DMA_FROM_DEVICE);
    k.dma.unmapSgtable(dev, t, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    expect(k.dma.debug.reports.map((r) => r.code)).toEqual([
      "DMA_API_SYNC_WRONG_DIR",
      "DMA_API_UNMAP_WRONG_DIR",
      "DMA_API_DOUBLE_UNMAP",
    ]);
    expect(k.dma.liveMappings(dev)).toBe(0);
  });
});
