// Tests of the CMA heap: heap names per profile, alignment, ENOMEM, zeroing, mmap, vmap, attach.

import {
  allocFromHeap,
  createKernel,
  Device,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  errnoOf,
  type KernelVersion,
  withCpuAccess,
} from "@dmabuf/core";
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { getOrder } from "./cma-heap.js";
import { CmaHeap, cmaHeapAlignOrder, fragmentationStats, seedFragmentation } from "./index.js";
import { allBytes, alloc, bootCma, KiB, MiB, PS } from "./test-fixtures.js";

const RW = PROT_READ | PROT_WRITE;

describe("CMA heap names", () => {
  const boot = (profile: KernelVersion, cma: object, withSystem = false) =>
    createKernel({
      ram: "256MiB",
      profile,
      cma,
      plugins: withSystem ? [SystemHeap, CmaHeap] : [CmaHeap],
    });
  const list = (k: ReturnType<typeof boot>) => k.spawn().readdir("/dev/dma_heap");
  const camera = { name: "camera", size: "8MiB" };

  it("6.1: one heap for the default area, named after it; system registered first", () => {
    expect(list(boot("6.1", { size: "64MiB" }))).toEqual(["reserved"]);
    // The observed 6.1 kernel (heap_discovery): system has minor 0, reserved minor 1, and
    // devtmpfs lists the newest node first.
    const k = boot("6.1", { size: "64MiB" }, true);
    expect(list(k)).toEqual(["reserved", "system"]);
    const p = k.spawn();
    expect(p.readFile("/sys/class/dma_heap/reserved/dev")).toBe("254:1\n");
    expect(p.readFile("/sys/class/dma_heap/system/dev")).toBe("254:0\n");
    expect(p.readFile("/sys/class/dma_heap/reserved/uevent")).toBe(
      "MAJOR=254\nMINOR=1\nDEVNAME=dma_heap/reserved\n",
    );
  });

  it("6.1: named regions get no heap, and without a default area there is none", () => {
    expect(list(boot("6.1", { size: "64MiB", regions: [camera] }))).toEqual(["reserved"]);
    expect(list(boot("6.1", { regions: [camera] }))).toEqual([]);
    expect(list(boot("6.1", {}))).toEqual([]);
  });

  it("6.18: default_cma_region, then every area under its own name", () => {
    expect(list(boot("6.18", { size: "64MiB" }))).toEqual(["default_cma_region", "reserved"]);
    expect(list(boot("6.18", { size: "64MiB", regions: [camera] }))).toEqual([
      "default_cma_region",
      "camera",
      "reserved",
    ]);
    expect(list(boot("6.18", { size: "64MiB" }, true))).toEqual([
      "system",
      "default_cma_region",
      "reserved",
    ]);
    expect(list(boot("6.18", { regions: [camera] }))).toEqual(["camera"]);
    expect(list(boot("6.18", {}))).toEqual([]);
  });

  it("6.18: default_cma_region and reserved are the same memory", () => {
    const k = boot("6.18", { size: "64MiB" });
    const p = k.spawn();
    alloc(k, p, "default_cma_region", MiB);
    expect(fragmentationStats(k, "reserved").freePages).toBe(16384 - 256);
    const { buf } = alloc(k, p, "reserved", MiB);
    expect(buf.priv.basePfn).toBe((k.defaultCmaArea?.basePfn ?? 0) + 256);
    expect(buf.expName).toBe("reserved");
  });

  it("declares contiguous capabilities and the area size as the largest allocation", () => {
    const k = boot("6.18", { size: "64MiB", regions: [camera] });
    expect(k.heaps.find("camera")?.capabilities).toEqual({
      contiguous: true,
      cpuAccess: true,
      vmap: true,
      maxAllocation: 8 * MiB,
    });
    expect(k.heaps.find("default_cma_region")?.capabilities.maxAllocation).toBe(64 * MiB);
  });

  it("6.18: an extra area whose heap cannot be added is warned about and skipped", () => {
    const k = createKernel({
      ram: "256MiB",
      cma: { size: "8MiB", regions: [{ name: "default_cma_region", size: "8MiB" }] },
      plugins: [CmaHeap],
    });
    expect(k.spawn().readdir("/dev/dma_heap")).toEqual(["default_cma_region", "reserved"]);
    expect(k.log.records.map((r) => r.text)).toContain(
      "cma_heap: failed to add CMA heap default_cma_region",
    );
  });
});

describe("CMA heap alignment: min(get_order(len), 8)", () => {
  const cases: [string, number, number][] = [
    ["4 KiB", 4 * KiB, 0],
    ["8 KiB", 8 * KiB, 1],
    ["12 KiB", 12 * KiB, 2],
    ["1 MiB", MiB, 8],
    ["3 MiB (order 10, capped)", 3 * MiB, 8],
  ];
  it.each(cases)("%s → order %i", (_name, len, order) => {
    expect(cmaHeapAlignOrder(len, PS)).toBe(order);
    const { kernel, proc } = bootCma();
    const base = kernel.defaultCmaArea?.basePfn as number;
    // With the area's first page pinned, the buffer starts at the next aligned frame.
    seedFragmentation(kernel, "default_cma_region", "#");
    const { buf } = alloc(kernel, proc, "default_cma_region", len);
    expect(buf.priv.basePfn).toBe(base + 2 ** order);
    expect(buf.priv.basePfn % 2 ** order).toBe(0);
    expect(buf.priv.pagecount).toBe(len / PS);
    expect(buf.size).toBe(len);
  });

  it("get_order rounds up to a power of two pages", () => {
    expect([1, 4096, 4097, 8192, 12288, 16384, 16385].map((n) => getOrder(n, PS))).toEqual([
      0, 0, 1, 1, 2, 2, 3,
    ]);
  });
});

describe("CMA heap ENOMEM on a fragmented area", () => {
  /** A 2 MiB area: pages 0-15 free, then every other page pinned. */
  const fragmented = () => {
    const { kernel, proc } = bootCma("2MiB");
    const seed = seedFragmentation(
      kernel,
      "default_cma_region",
      `${".".repeat(16)}${"#.".repeat(248)}`,
    );
    return {
      kernel,
      proc,
      seed,
      area: kernel.defaultCmaArea as NonNullable<typeof kernel.defaultCmaArea>,
    };
  };

  it("fails exactly when no aligned free run exists, and works once the blocker is freed", () => {
    const { kernel, proc, area } = fragmented();
    // The blocking buffer: 4 KiB, first fit at the area's first page.
    const blocker = alloc(kernel, proc, "default_cma_region", 4 * KiB);
    expect(blocker.buf.priv.basePfn).toBe(area.basePfn);
    expect(area.availableCount).toBe(15 + 248);
    // 64 KiB needs 16 free pages at a 16-page boundary: none left, although 263 are free.
    const before = kernel.snapshot();
    const available = area.availableCount;
    expect(errnoOf(() => allocFromHeap(proc, "default_cma_region", 64 * KiB))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    expect(area.availableCount).toBe(available);
    expect(fragmentationStats(kernel, "default_cma_region")).toMatchObject({
      freePages: 263,
      largestFreeRun: 15,
      freeRuns: 249,
      histogram: [248, 0, 0, 1],
      allocFailures: 1,
    });
    // 8 KiB still fits: 2 aligned pages at 2-3.
    const small = alloc(kernel, proc, "default_cma_region", 8 * KiB);
    expect(small.buf.priv.basePfn).toBe(area.basePfn + 2);
    proc.close(small.fd);
    proc.close(blocker.fd);
    const { buf } = alloc(kernel, proc, "default_cma_region", 64 * KiB);
    expect(buf.priv.basePfn).toBe(area.basePfn);
  });

  it("logs a rate-limited alloc-failed line when the search fails", () => {
    const { kernel, proc } = fragmented();
    alloc(kernel, proc, "default_cma_region", 4 * KiB);
    for (let i = 0; i < 12; i++) {
      expect(errnoOf(() => allocFromHeap(proc, "default_cma_region", 64 * KiB))).toBe("ENOMEM");
    }
    const failed = kernel.log.records.filter((r) => r.text.includes("alloc failed"));
    expect(failed).toHaveLength(10);
    expect(failed[0]).toMatchObject({
      level: "err",
      text: "cma: cma_alloc: reserved: alloc failed, req-size: 16 pages, ret: -12",
    });
    kernel.clock.advance(5e9);
    expect(errnoOf(() => allocFromHeap(proc, "default_cma_region", 64 * KiB))).toBe("ENOMEM");
    const texts = kernel.log.records.map((r) => r.text);
    expect(texts.slice(-2)).toEqual([
      "cma_alloc: 2 callbacks suppressed",
      "cma: cma_alloc: reserved: alloc failed, req-size: 16 pages, ret: -12",
    ]);
  });

  it("a request larger than the area fails with nothing logged and nothing leaked", () => {
    const { kernel, proc } = bootCma("64MiB", { profile: "6.1" });
    const before = kernel.snapshot();
    expect(errnoOf(() => allocFromHeap(proc, "reserved", 64 * MiB + PS))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    expect(kernel.log.records).toEqual([]);
    expect(kernel.defaultCmaArea?.availableCount).toBe(16384);
  });

  it("a fatal signal while zeroing gives the pages back and fails with ENOMEM, not EINTR", () => {
    const { kernel, proc } = bootCma();
    const heapFd = proc.open("/dev/dma_heap/default_cma_region", 0);
    const before = kernel.snapshot();
    proc.kill();
    expect(errnoOf(() => allocFromHeap(proc, heapFd, MiB))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    expect(kernel.defaultCmaArea?.availableCount).toBe(16384);
  });
});

describe("CMA heap buffers", () => {
  it("are zeroed, also when they reuse freed pages", () => {
    const { kernel, proc } = bootCma();
    const first = alloc(kernel, proc, "default_cma_region", MiB);
    const m = proc.mmap(first.fd, MiB, RW, MAP_SHARED);
    withCpuAccess(proc, first.fd, "write", () => m.fill(0xff));
    proc.munmap(m);
    proc.close(first.fd);
    const again = alloc(kernel, proc, "default_cma_region", MiB);
    expect(again.buf.priv.basePfn).toBe(first.buf.priv.basePfn);
    const m2 = proc.mmap(again.fd, MiB, PROT_READ, MAP_SHARED);
    expect(allBytes(m2.read(), 0)).toBe(true);
  });

  it("are exported under the heap's name with the fd flags", () => {
    const { kernel, proc } = bootCma("64MiB", { profile: "6.1" });
    const { fd, buf } = alloc(kernel, proc, "reserved", 12 * KiB);
    expect(buf.expName).toBe("reserved");
    expect(buf.owner).toBe("heaps-cma");
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toContain("exp_name:\treserved\n");
  });
});

describe("CMA heap mmap", () => {
  it("refuses private mappings with EINVAL, leaking nothing", () => {
    const { kernel, proc } = bootCma();
    const { fd } = alloc(kernel, proc, "default_cma_region", 4 * PS);
    const before = kernel.snapshot();
    for (const len of [PS, 4 * PS]) {
      for (const prot of [PROT_READ, RW]) {
        expect(errnoOf(() => proc.mmap(fd, len, prot, MAP_PRIVATE))).toBe("EINVAL");
      }
    }
    expect(kernel.snapshot()).toEqual(before);
  });

  it("faults pages in on first touch", () => {
    const { kernel, proc } = bootCma();
    const { fd, buf } = alloc(kernel, proc, "default_cma_region", 4 * PS);
    const m = proc.mmap(fd, 4 * PS, RW, MAP_SHARED);
    const populated = () => Array.from(m.vma.pfns).filter((p) => p >= 0).length;
    expect(populated()).toBe(0);
    m.read(PS + 5, 1);
    expect(populated()).toBe(1);
    expect(m.vma.pfns[1]).toBe(buf.priv.basePfn + 1);
    m.fill(0x11);
    expect(populated()).toBe(4);
    expect(Array.from(m.vma.pfns)).toEqual([0, 1, 2, 3].map((i) => buf.priv.basePfn + i));
  });

  it("maps from the page offset: page 0 of a mapping at offset 2 is buffer page 2", () => {
    const { kernel, proc } = bootCma();
    const { fd, buf } = alloc(kernel, proc, "default_cma_region", 4 * PS);
    const whole = proc.mmap(fd, 4 * PS, RW, MAP_SHARED);
    whole.fill(0xab, 2 * PS, PS);
    const tail = proc.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED, 2 * PS);
    expect(tail.read(0, 1)).toEqual(new Uint8Array([0xab]));
    expect(tail.vma.pfns[0]).toBe(buf.priv.basePfn + 2);
  });

  it.each(["6.1", "6.18"] as const)(
    "%s: the fault handler raises SIGBUS at and past the page count (the fixed bound)",
    (profile) => {
      const { kernel, proc } = bootCma("64MiB", { profile });
      const heap = profile === "6.1" ? "reserved" : "default_cma_region";
      const { fd, buf } = alloc(kernel, proc, heap, 4 * PS);
      const m = proc.mmap(fd, 4 * PS, PROT_READ, MAP_SHARED);
      const fault = m.vma.ops?.fault;
      expect(fault).toBeTypeOf("function");
      const at = (pgoff: number) => fault?.(m.vma, pgoff);
      expect(at(0)).toBe(buf.priv.basePfn);
      expect(at(3)).toBe(buf.priv.basePfn + 3);
      // Observed 6.1.176: mremap_grown_tail_access → SIGBUS, i.e. page 4 of 4 has no page.
      expect(at(4)).toBe(-1);
      expect(at(5)).toBe(-1);
      expect(at(-1)).toBe(-1);
      // Through a mapping the bounds check of mmap keeps every touch below the page count.
      expect(errnoOf(() => proc.mmap(fd, 5 * PS, PROT_READ, MAP_SHARED))).toBe("EINVAL");
    },
  );
});

describe("CMA heap vmap", () => {
  it("is refcounted: one heap mapping for every core user, gone with the last", () => {
    const { kernel, proc } = bootCma();
    const { fd, buf } = alloc(kernel, proc, "default_cma_region", 2 * PS);
    const a = kernel.dmaBuf.vmap(buf);
    const b = kernel.dmaBuf.vmap(buf);
    expect(b).toBe(a);
    expect(buf.vmappingCounter).toBe(2);
    expect(buf.priv.vmapCount).toBe(1);
    expect(Array.from(a.pfns)).toEqual([buf.priv.basePfn, buf.priv.basePfn + 1]);
    a.write(PS, new Uint8Array([1, 2, 3]));
    const m = proc.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED);
    expect(m.read(PS, 3)).toEqual(new Uint8Array([1, 2, 3]));
    kernel.dmaBuf.vunmap(buf, a);
    expect(buf.priv.vmapCount).toBe(1);
    kernel.dmaBuf.vunmap(buf, b);
    expect(buf.priv.vmapCount).toBe(0);
    expect(buf.priv.vaddr).toBeNull();
  });

  it("counts its own users when called directly, and WARNs when released still vmapped", () => {
    const { kernel, proc } = bootCma();
    const area = kernel.defaultCmaArea as NonNullable<typeof kernel.defaultCmaArea>;
    const { fd, buf } = alloc(kernel, proc, "default_cma_region", 2 * PS);
    // A driver calling the exporter's vmap itself, bypassing dma_buf_vmap, and never vunmapping.
    const map = buf.ops.vmap?.(buf);
    expect(buf.ops.vmap?.(buf)).toBe(map);
    expect(buf.priv.vmapCount).toBe(2);
    proc.close(fd);
    const warns = kernel.log.records.filter((r) => r.level === "warn");
    expect(warns).toEqual([
      expect.objectContaining({
        text: `default_cma_region: buffer ${buf.ino} released while vmapped (2 users)`,
      }),
    ]);
    expect(buf.priv.vmapCount).toBe(0);
    expect(area.availableCount).toBe(area.count);
  });
});

describe("CMA heap attachments", () => {
  it("give every attachment its own table, coalesced into one entry", () => {
    const { kernel, proc } = bootCma();
    const { buf } = alloc(kernel, proc, "default_cma_region", MiB);
    const a1 = kernel.dmaBuf.attach(buf, new Device({ name: "isp" }));
    const a2 = kernel.dmaBuf.attach(buf, new Device({ name: "gpu" }));
    const t1 = kernel.dmaBuf.mapAttachment(a1, DMA_BIDIRECTIONAL);
    const t2 = kernel.dmaBuf.mapAttachment(a2, DMA_FROM_DEVICE);
    expect(t1).not.toBe(t2);
    expect(t1.entryCount).toBe(1);
    expect(t1.nents).toBe(1);
    expect(t1.pfn[0]).toBe(buf.priv.basePfn);
    expect(t1.length[0]).toBe(MiB);
    expect(t1.dmaAddress[0]).toBe(buf.priv.basePfn * PS);
    kernel.dmaBuf.unmapAttachment(a1, t1, DMA_BIDIRECTIONAL);
    expect(t1.nents).toBe(0);
    kernel.dmaBuf.detach(buf, a1);
    kernel.dmaBuf.unmapAttachment(a2, t2, DMA_FROM_DEVICE);
    kernel.dmaBuf.detach(buf, a2);
    expect(buf.priv.attachments).toEqual([]);
  });

  it("split at the device's segment limit, still one contiguous run", () => {
    const { kernel, proc } = bootCma();
    const { buf } = alloc(kernel, proc, "default_cma_region", MiB);
    const a = kernel.dmaBuf.attach(buf, new Device({ name: "dma", maxSegmentSize: 64 * KiB }));
    const t = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect(t.entryCount).toBe(16);
    expect(t.isContiguous(PS)).toBe(true);
  });

  it("report any mapping failure as ENOMEM", () => {
    const { kernel, proc } = bootCma();
    const { buf } = alloc(kernel, proc, "default_cma_region", MiB);
    // The area sits at the top of 256 MiB: a 32-bit-minus device cannot reach it.
    const a = kernel.dmaBuf.attach(buf, new Device({ name: "low", dmaMask: 0xffffff }));
    const before = kernel.snapshot();
    expect(errnoOf(() => kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
  });

  it("sync mapped attachments on SYNC start and end, and only those", () => {
    const { kernel, proc } = bootCma();
    const { fd, buf } = alloc(kernel, proc, "default_cma_region", 2 * PS);
    const calls: string[] = [];
    kernel.dma.hooks = {
      syncForCpu: (dev, phys, len) => calls.push(`cpu ${dev.name} ${phys} ${len}`),
      syncForDevice: (dev, phys, len) => calls.push(`dev ${dev.name} ${phys} ${len}`),
    };
    const mapped = kernel.dmaBuf.attach(buf, new Device({ name: "nc", coherent: false }));
    kernel.dmaBuf.attach(buf, new Device({ name: "idle", coherent: false }));
    kernel.dmaBuf.mapAttachment(mapped, DMA_BIDIRECTIONAL);
    calls.length = 0;
    withCpuAccess(proc, fd, "rw", () => {});
    const phys = buf.priv.basePfn * PS;
    expect(calls).toEqual([`cpu nc ${phys} ${2 * PS}`, `dev nc ${phys} ${2 * PS}`]);
  });
});
