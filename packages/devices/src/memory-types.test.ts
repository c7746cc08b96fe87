// CPU mappings by memory type under the cache model: cached, write-combine and uncached accesses.

import {
  allocFromHeap,
  createKernel,
  Device,
  DMA_BIDIRECTIONAL,
  type Kernel,
  KernelMapping,
  syncBuffer,
} from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_WRITE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { SystemHeap, SystemUncachedHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { CPU_ACCESS_COST_NS } from "./access-cost.js";
import { CacheModel, cacheModelOf } from "./cache-model.js";

const PS = 4096;

function boot(mode: "checking" | "realistic" = "checking") {
  const kernel = createKernel({
    ram: "64MiB",
    plugins: [SystemHeap, SystemUncachedHeap, { plugin: CacheModel, config: { mode } }],
  });
  const cache = cacheModelOf(kernel) as CacheModel;
  const proc = kernel.spawn();
  return { kernel, cache, proc };
}

/** A buffer of `heap` mmapped shared, with a non-coherent device keeping it mapped. */
function mapped(kernel: Kernel, proc: ReturnType<Kernel["spawn"]>, heap: string, size = 2 * PS) {
  const fd = allocFromHeap(proc, heap, size);
  const buf = kernel.dmaBuf.get(proc, fd);
  const m = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
  const dev = new Device({ name: "nc-dev", coherent: false });
  const att = kernel.dmaBuf.attach(buf, dev);
  const sgt = kernel.dmaBuf.mapAttachment(att, DMA_BIDIRECTIONAL);
  const port = kernel.dma.port(dev);
  return {
    fd,
    buf,
    m,
    phys: (sgt.pfn[0] as number) * PS,
    devRead: () => port.readTable(sgt, 0, size, new Uint8Array(size), 0, buf),
    devWrite: (bytes: Uint8Array) => port.writeTable(sgt, 0, bytes, buf),
  };
}

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255);

describe("the CPU port honours the memory type of the mapping", () => {
  it("a cached mapping keeps stores in the cache: a non-coherent device reads stale memory and the checker reports it", () => {
    const { kernel, cache, proc } = boot();
    const b = mapped(kernel, proc, "system");
    expect(b.m.vma.caching).toBe("cached");
    const data = bytes(2 * PS, 1);
    b.m.write(0, data);
    expect(cache.dirtyLines).toBe((2 * PS) / 64);
    expect(cache.stats.uncachedAccesses).toBe(0);
    expect(b.devRead()).toEqual(new Uint8Array(2 * PS));
    expect(cache.checker.violations.map((v) => v.kind)).toEqual(["device-read-cpu-dirty"]);
  });

  it("a write-combine mmap posts stores to RAM and loads from RAM: exact bytes both ways, no line, no violation, no sync", () => {
    const { kernel, cache, proc } = boot();
    const b = mapped(kernel, proc, "system-uncached");
    expect(b.m.vma.caching).toBe("write-combine");
    const fills = cache.stats.lineFills;
    const data = bytes(2 * PS, 3);
    b.m.write(0, data);
    const ram = new Uint8Array(64);
    kernel.memory.read(b.phys, 64, ram, 0);
    expect(ram).toEqual(data.subarray(0, 64));
    expect(b.devRead()).toEqual(data);
    const back = bytes(2 * PS, 9);
    b.devWrite(back);
    expect(b.m.read()).toEqual(back);
    b.m.fill(0xab, 100, 10);
    expect(b.devRead().subarray(98, 112)).toEqual(
      Uint8Array.from([
        back[98] as number,
        back[99] as number,
        ...new Array(10).fill(0xab),
        back[110] as number,
        back[111] as number,
      ]),
    );
    expect(cache.checker.violations).toEqual([]);
    expect(cache.cachedLines).toBe(0);
    expect(cache.stats.lineFills).toBe(fills);
    expect(cache.stats.uncachedAccesses).toBe(3);
  });

  it("the vmap of the uncached heap is write-combined too, and an uncached KernelMapping bypasses the cache", () => {
    const { kernel, cache, proc } = boot();
    const b = mapped(kernel, proc, "system-uncached");
    const map = kernel.dmaBuf.vmap(b.buf);
    expect(map.caching).toBe("write-combine");
    map.write(PS, bytes(16, 5));
    expect(b.devRead().subarray(PS, PS + 16)).toEqual(bytes(16, 5));
    kernel.dmaBuf.vunmap(b.buf, map);
    const raw = new KernelMapping(Float64Array.of(b.phys / PS), PS, kernel, "uncached");
    b.devWrite(bytes(2 * PS, 2));
    expect(raw.read(0, 8)).toEqual(bytes(8, 2));
    expect(cache.checker.violations).toEqual([]);
    expect(cache.cachedLines).toBe(0);
  });

  it("an uncached or write-combine read of lines a cached alias holds dirty is reported: it read stale memory", () => {
    const { kernel, cache, proc } = boot();
    const b = mapped(kernel, proc, "system");
    expect(b.m.vma.caching).toBe("cached");
    const wcAlias = new KernelMapping(Float64Array.of(b.phys / PS), PS, kernel, "write-combine");
    b.m.fill(0x5a, 100, 30); // lines 1 and 2 of the buffer dirty
    expect([...wcAlias.read(96, 4)]).toEqual([0, 0, 0, 0]);
    const [v] = cache.checker.violations;
    expect(cache.checker.violations).toHaveLength(1);
    expect([v?.kind, v?.buffer?.ino, v?.offset, v?.length, v?.writer, v?.reader]).toEqual([
      "uncached-read-cpu-dirty",
      b.buf.ino,
      64,
      64,
      "CPU",
      "CPU",
    ]);
    expect(v?.message).toBe(
      `the CPU read buffer ${b.buf.ino} (unnamed) [system] at offset 0x40, 64 bytes through an ` +
        "uncached or write-combine mapping while the CPU held it dirty in cache through a cached " +
        "mapping: the read saw stale memory; no DMA_BUF_IOCTL_SYNC END|WRITE " +
        "(dma_buf_end_cpu_access) to write the cached mapping's stores back before the " +
        "uncached or write-combine read",
    );
    // An uncached read of lines that are clean, or not cached, reports nothing.
    wcAlias.read(256, 64);
    expect(cache.checker.violations).toHaveLength(1);
    // With the sync the cached writes reach RAM first, and the read is clean and exact.
    syncBuffer(proc, b.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    expect([...wcAlias.read(100, 2)]).toEqual([0x5a, 0x5a]);
    expect(cache.checker.violations).toHaveLength(1);
  });

  it("an uncached read of a dirty line is thrown in fatal mode before it reads", () => {
    const kernel = createKernel({
      ram: "64MiB",
      plugins: [SystemHeap, { plugin: CacheModel, config: { fatal: true } }],
    });
    const proc = kernel.spawn();
    const b = mapped(kernel, proc, "system");
    const raw = new KernelMapping(Float64Array.of(b.phys / PS), PS, kernel, "uncached");
    b.m.fill(1, 0, 8);
    expect(() => raw.read(0, 8)).toThrow(
      expect.objectContaining({ code: "DMA_COHERENCY_VIOLATION" }),
    );
  });

  it("an uncached store leaves a dirty line of a cached alias alone: its later write-back overwrites the store", () => {
    const { kernel, cache, proc } = boot();
    const b = mapped(kernel, proc, "system-uncached");
    const cachedAlias = new KernelMapping(Float64Array.of(b.phys / PS), PS, kernel);
    cachedAlias.fill(0x11, 0, 64);
    b.m.write(0, bytes(64, 4));
    expect(b.devRead().subarray(0, 64)).toEqual(bytes(64, 4));
    cache.clean(b.phys, 64);
    expect(b.devRead().subarray(0, 64)).toEqual(new Uint8Array(64).fill(0x11));
  });

  it("the uncached heap leaves no line of a new buffer in the cache, and its SYNC does no maintenance", () => {
    const { kernel, cache, proc } = boot();
    const before = cache.stats.writeBacks;
    const fd = allocFromHeap(proc, "system-uncached", 64 * 1024);
    expect(cache.dirtyLines).toBe(0);
    expect(cache.cachedLines).toBe(0);
    // The zeroing went through the cache and was written back once by the flush.
    expect(cache.stats.writeBacks - before).toBe((64 * 1024) / 64);
    const buf = kernel.dmaBuf.get(proc, fd);
    const calls: string[] = [];
    const prev = kernel.dma.hooks;
    kernel.dma.hooks = {
      syncForCpu: (d, p, l, dir) => {
        calls.push("cpu");
        prev.syncForCpu(d, p, l, dir);
      },
      syncForDevice: (d, p, l, dir) => {
        calls.push("device");
        prev.syncForDevice(d, p, l, dir);
      },
    };
    const dev = new Device({ name: "nc", coherent: false });
    const att = kernel.dmaBuf.attach(buf, dev);
    const sgt = kernel.dmaBuf.mapAttachment(att, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.beginCpuAccess(buf, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.endCpuAccess(buf, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.unmapAttachment(att, sgt, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.detach(buf, att);
    expect(calls).toEqual([]);
  });
});

describe("realistic mode charges CPU accesses by line", () => {
  it("a miss costs 100 ns, a hit 0.5 ns, an uncached or write-combine line 100 ns", () => {
    expect(CPU_ACCESS_COST_NS).toEqual({ hit: 0.5, miss: 100, uncached: 100 });
    const { kernel, cache, proc } = boot("realistic");
    const cached = mapped(kernel, proc, "system");
    const uncached = mapped(kernel, proc, "system-uncached");
    const start = cache.stats.accessNs;
    cached.m.read(0, 128);
    expect(cache.stats.accessNs - start).toBe(200);
    cached.m.read(0, 128);
    expect(cache.stats.accessNs - start).toBe(201);
    uncached.m.read(0, 128);
    expect(cache.stats.accessNs - start).toBe(401);
    uncached.m.read(0, 128);
    expect(cache.stats.accessNs - start).toBe(601);
    uncached.m.write(0, bytes(64, 1));
    expect(cache.stats.accessNs - start).toBe(701);
  });

  it("checking mode charges nothing", () => {
    const { kernel, cache, proc } = boot();
    mapped(kernel, proc, "system").m.read(0, 128);
    expect(cache.stats.accessNs).toBe(0);
  });
});
