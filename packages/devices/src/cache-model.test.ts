// The write-back cache model: CPU port, maintenance, snooping, eviction, and what it reports.

import {
  allocFromHeap,
  createKernel,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  type Kernel,
  syncBuffer,
} from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import {
  CacheModel,
  type CacheModelConfigInput,
  cacheModelOf,
  installCacheModel,
} from "./cache-model.js";
import { isCoherencyError } from "./coherency.js";
import { MemcpyEngine } from "./memcpy-engine.js";

const PS = 4096;

function boot(config: CacheModelConfigInput = {}, coherent = false) {
  const kernel = createKernel({
    ram: "32MiB",
    plugins: [
      SystemHeap,
      { plugin: CacheModel, config },
      { plugin: MemcpyEngine, config: { name: "dev0", coherent } },
    ],
  });
  return { kernel, cache: kernel.plugin(CacheModel), dma: kernel.plugin(MemcpyEngine) };
}

/** A buffer of `len` bytes: fd, shared mapping, physical address of its first page. */
function buffer(kernel: Kernel, len: number) {
  const proc = kernel.spawn({ name: "app" });
  const fd = allocFromHeap(proc, "system", len, { fdFlags: O_RDWR | O_CLOEXEC });
  const map = proc.mmap(fd, len, PROT_READ | PROT_WRITE, MAP_SHARED);
  const phys = (map.vma.pfns[0] as number) * PS;
  return { proc, fd, map, phys, sync: (f: number) => syncBuffer(proc, fd, f) };
}

describe("the CPU port", () => {
  it("is write-back: RAM changes at clean, lines stay cached; flush drops them", () => {
    const { kernel, cache } = boot();
    const { map, phys } = buffer(kernel, PS);
    expect(kernel.cpu).toBe(cache);
    map.fill(0xab, 0, 128);
    expect(map.read(0, 1)[0]).toBe(0xab);
    expect(kernel.memory.read(phys, 1)[0]).toBe(0);
    expect([cache.isDirty(phys), cache.isDirty(phys + 64), cache.isDirty(phys + 128)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(cache.clean(phys, PS)).toBe(2);
    expect(kernel.memory.read(phys, 128).every((b) => b === 0xab)).toBe(true);
    expect([cache.isCached(phys), cache.isDirty(phys)]).toEqual([true, false]);
    map.fill(0xcd, 0, 64);
    expect(cache.flush(phys, PS)).toBe(2);
    expect([cache.isCached(phys), cache.dirtyLines]).toEqual([false, 0]);
    expect(kernel.memory.read(phys, 1)[0]).toBe(0xcd);
  });

  it("write-allocates lines written in part, so a clean keeps the other bytes", () => {
    const { kernel, cache } = boot();
    const { map, phys } = buffer(kernel, PS);
    kernel.memory.fill(phys, 64, 0x11);
    map.write(10, new Uint8Array([1, 2, 3]));
    expect(cache.stats.lineFills).toBe(1);
    cache.clean(phys, 64);
    const line = kernel.memory.read(phys, 64);
    expect([line[9], line[10], line[12], line[13]]).toEqual([0x11, 1, 3, 0x11]);
  });

  it("invalidate discards dirty data", () => {
    const { kernel, cache } = boot();
    const { map, phys } = buffer(kernel, PS);
    map.fill(0x77, 0, 64);
    expect(cache.invalidate(phys, PS)).toBe(1);
    expect(map.read(0, 1)[0]).toBe(0);
    // Reported as lost CPU writes, against the buffer the user mapping shows.
    const [v] = cache.checker.violations;
    expect(v?.kind).toBe("cpu-dirty-discarded");
    expect([v?.buffer?.ino, v?.offset, v?.length]).toEqual([1, 0, 64]);
  });

  it("vmaps go through it too", () => {
    const { kernel, cache } = boot();
    const { proc, fd, phys } = buffer(kernel, PS);
    const buf = kernel.dmaBuf.get(proc, fd);
    const vaddr = kernel.dmaBuf.vmap(buf);
    vaddr.fill(9, 0, 8);
    expect(cache.isDirty(phys)).toBe(true);
    expect(kernel.memory.read(phys, 1)[0]).toBe(0);
    kernel.dmaBuf.vunmap(buf, vaddr);
    kernel.dmaBuf.put(buf);
  });

  it("drops lines of memory the kernel rewrote behind it (zeroed pages)", () => {
    const { kernel, cache } = boot();
    const a = buffer(kernel, 64 * 1024);
    a.map.fill(0xff);
    const { phys } = a;
    a.proc.exit();
    expect(cache.isDirty(phys)).toBe(true);
    // The same pages come back zeroed by the page allocator: no stale line survives.
    const b = buffer(kernel, 64 * 1024);
    expect(b.phys).toBe(phys);
    expect(cache.isCached(phys)).toBe(false);
    expect(b.map.read().every((x) => x === 0)).toBe(true);
  });

  it("is installed once per kernel", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const m = installCacheModel(kernel);
    expect(cacheModelOf(kernel)).toBe(m);
    expect(() => installCacheModel(kernel)).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(cacheModelOf(createKernel({ ram: "16MiB" }))).toBeUndefined();
    expect(() => installCacheModel(createKernel({ ram: "16MiB" }), { lineSize: 48 })).toThrow();
  });

  it("installs through the device host only: a second CPU cache is refused, wrapping cpu is harmless", () => {
    const kernel = createKernel({ ram: "16MiB", plugins: [CacheModel] });
    const m = kernel.plugin(CacheModel);
    expect(kernel.cpu).toBe(m);
    expect(Object.isFrozen(m.host)).toBe(true);
    // Another cache on the same kernel: EEXIST, and the installed model stays in force.
    const e = (() => {
      try {
        m.host.installCpuCache(m, { sync: m.syncHooks, bus: m.bus, onMemoryWrite: () => {} });
      } catch (err) {
        return err as { code?: string; syscall?: string };
      }
      return undefined;
    })();
    expect([e?.code, e?.syscall]).toEqual(["EEXIST", "cpu_cache_install"]);
    expect(kernel.dma.hooks).toBe(m.syncHooks);
    expect(kernel.dma.bus).toBe(m.bus);
    // An author who wraps the CPU port does not hide the model from cacheModelOf.
    const inner = kernel.cpu;
    kernel.cpu = {
      read: (phys, length, dst, at) => inner.read(phys, length, dst, at),
      write: (phys, src) => inner.write(phys, src),
      fill: (phys, length, value) => inner.fill(phys, length, value),
    };
    expect(cacheModelOf(kernel)).toBe(m);
  });
});

describe("devices and the cache", () => {
  it("a coherent device snoops: reads see dirty CPU lines, writes drop the CPU's copies", () => {
    const { kernel, cache, dma } = boot({}, true);
    const b = buffer(kernel, PS);
    const dev = dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
    b.map.fill(0x42, 0, 100);
    expect(dev.read(0, 100).every((x) => x === 0x42)).toBe(true);
    expect(cache.isDirty(b.phys)).toBe(false);
    dev.fill(0x24, 0, 64);
    expect(cache.isCached(b.phys)).toBe(false);
    expect(b.map.read(0, 1)[0]).toBe(0x24);
    expect(cache.checker.violations).toEqual([]);
  });

  it("SYNC START drops CPU writes that never got their END", () => {
    const { kernel, cache, dma } = boot();
    const b = buffer(kernel, PS);
    dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
    b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
    b.map.fill(0x99);
    b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    expect(b.map.read(0, 1)[0]).toBe(0);
    const [v] = cache.checker.violations;
    expect([v?.kind, v?.writer, v?.reader, v?.length]).toEqual([
      "cpu-dirty-discarded",
      "CPU",
      "dev0",
      PS,
    ]);
  });

  it("a partial CPU write into a line a device wrote is reported, a whole-line one is not", () => {
    const { kernel, cache, dma } = boot();
    const b = buffer(kernel, PS);
    const dev = dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
    dev.fill(1);
    b.map.fill(2, 64, 64);
    expect(cache.checker.violations).toEqual([]);
    b.map.fill(2, 130, 4);
    const [v] = cache.checker.violations;
    expect([v?.kind, v?.offset, v?.length]).toEqual(["cpu-write-device-written", 128, 64]);
  });

  it("a non-coherent device writing over dirty CPU lines is reported", () => {
    const { kernel, cache, dma } = boot();
    const b = buffer(kernel, PS);
    const dev = dma.importFd(b.proc, b.fd, DMA_FROM_DEVICE);
    b.map.fill(3, 0, 64);
    dev.fill(4);
    expect(cache.checker.violations.map((v) => v.kind)).toEqual(["device-write-cpu-dirty"]);
    // The later write-back really does overwrite the device's bytes, as on hardware.
    b.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    expect(kernel.memory.read(b.phys, 1)[0]).toBe(3);
    expect(kernel.memory.read(b.phys + 64, 1)[0]).toBe(4);
  });

  it("fatal: the first violation throws before anything changes", () => {
    const { kernel, cache, dma } = boot({ fatal: true });
    const b = buffer(kernel, PS);
    const dev = dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
    b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    b.map.fill(5);
    let caught: unknown;
    try {
      dev.read();
    } catch (e) {
      caught = e;
    }
    expect(isCoherencyError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: "DMA_COHERENCY_VIOLATION" });
    expect(isCoherencyError(caught) && caught.violation.kind).toBe("device-read-cpu-dirty");
    expect(cache.checker.violations).toEqual([]);
    b.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    expect(dev.read().every((x) => x === 5)).toBe(true);
  });

  it("merges a loop of small accesses into one report, and logs it once", () => {
    const { kernel, cache, dma } = boot();
    const b = buffer(kernel, PS);
    const dev = dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
    dev.fill(8);
    for (let off = 0; off < PS; off += 16) b.map.read(off, 16);
    expect(cache.checker.violations).toHaveLength(1);
    expect(cache.checker.violations[0]?.length).toBe(PS);
    const lines = kernel.log.records.filter((r) => r.text.startsWith("coherency:"));
    // The one log line gives the merged report's size, not the first access's.
    expect(lines.map((r) => r.text)).toEqual([
      `coherency: ${cache.checker.violations[0]?.message}`,
    ]);
    expect(lines[0]?.text).toContain(`${PS} bytes`);
    expect(cache.checker.report()).toMatch(/^#1 \[0\.000000\] cpu-read-device-written: /);
    cache.checker.clear();
    expect(cache.checker.report()).toBe("no coherency violations\n");
  });

  it("makes DMA-API debugging's detach report fatal when asked (dmaDebugFatal)", () => {
    const { kernel, dma } = boot({ dmaDebugFatal: true });
    const b = buffer(kernel, PS);
    const dev = dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
    expect(() => kernel.dmaBuf.detach(dev.buf, dev.attachment)).toThrow(
      expect.objectContaining({ code: "DMA_API_DETACH_MAPPED" }),
    );
    expect(dev.attachment.attached).toBe(true);
    dev.release();
    expect(kernel.dma.liveMappings()).toBe(0);
  });
});

describe("platform sync policy", () => {
  it("flush-for-device drops lines a device may overwrite: a forgotten START reads fresh bytes", () => {
    for (const [policy, seen] of [
      ["clean", 0],
      ["flush", 0x66],
    ] as const) {
      const { kernel, cache, dma } = boot({ syncForDevice: policy });
      const b = buffer(kernel, PS);
      const dev = dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
      b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
      b.map.read();
      b.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
      dev.fill(0x66);
      expect(b.map.read(0, 1)[0]).toBe(seen);
      // Either way the missing SYNC START is a bug, and reported.
      expect(cache.checker.violations.map((v) => v.kind)).toEqual(["cpu-read-device-written"]);
    }
  });
});

describe("realistic mode", () => {
  const small = { mode: "realistic", capacity: 4096, associativity: 4 } as const;

  it("holds at most its capacity, writing dirty lines back as they are evicted", () => {
    const { kernel, cache } = boot(small);
    const b = buffer(kernel, 16 * PS);
    b.map.fill(0x3c);
    expect(cache.cachedLines).toBe(64);
    expect(cache.stats.evictions).toBe(16 * 64 - 64);
    expect(cache.stats.writeBacks).toBe(16 * 64 - 64);
    // Everything but the last 4 KiB written reached RAM on its own.
    expect(kernel.memory.read(b.phys, PS).every((x) => x === 0x3c)).toBe(true);
  });

  it("a line the access pushes out before its turn is written back and fetched again", () => {
    // One set of four lines: the first fill leaves lines 1–4 cached and dirty.
    const { kernel, cache } = boot({ mode: "realistic", capacity: 256, associativity: 4 });
    const { phys } = buffer(kernel, PS);
    cache.fill(phys, 4 * 64 + 1, 0x11);
    expect(cache.stats).toEqual({
      lineFills: 1,
      writeBacks: 1,
      evictions: 1,
      invalidated: 0,
      uncachedAccesses: 0,
      accessNs: 100 + 4 * 0.5, // one miss, four hits
    });
    // Line 0 evicts line 1 (its old data reaches RAM), then line 1 is written in part: fetched.
    cache.write(phys, new Uint8Array(65).fill(0x22));
    expect(cache.stats).toEqual({
      lineFills: 2,
      writeBacks: 3,
      evictions: 3,
      invalidated: 0,
      uncachedAccesses: 0,
      accessNs: 102 + 100 + 0.5, // line 1 fetched (a miss), line 0 written whole (no fetch)
    });
    expect([cache.isCached(phys + 64), cache.isDirty(phys + 64)]).toEqual([true, true]);
    expect(cache.isCached(phys + 128)).toBe(false);
    expect(kernel.memory.read(phys + 64, 64).every((x) => x === 0x11)).toBe(true);
    const line1 = new Uint8Array(64);
    cache.read(phys + 64, 64, line1, 0);
    expect([line1[0], line1[1], line1[63]]).toEqual([0x22, 0x11, 0x11]);
    expect(cache.cachedLines).toBe(4);
  });

  it("a missing END shows up only where lines are still cached — as stale data", () => {
    const { kernel, cache, dma } = boot(small);
    const b = buffer(kernel, 16 * PS);
    const dev = dma.importFd(b.proc, b.fd, DMA_BIDIRECTIONAL);
    b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    b.map.fill(0x3c);
    const seen = dev.read();
    const stale = seen.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);
    expect(stale).toBe(cache.dirtyLines * 64);
    expect(stale).toBeGreaterThan(0);
    expect(stale).toBeLessThanOrEqual(4096);
    expect(cache.checker.violations.every((v) => v.kind === "device-read-cpu-dirty")).toBe(true);
  });
});
