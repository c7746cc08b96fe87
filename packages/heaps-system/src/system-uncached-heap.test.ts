// Tests of the system-uncached heap: write-combined mappings, the flush after zeroing, skip-sync mappings.

import {
  allocFromHeap,
  createKernel,
  Device,
  DMA_BIDIRECTIONAL,
  DMA_TO_DEVICE,
  type DmaSyncHooks,
  type Kernel,
} from "@dmabuf/core";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { SystemHeap, type SystemHeapBuffer, SystemUncachedHeap } from "./index.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;

function boot() {
  const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap, SystemUncachedHeap] });
  return { kernel, proc: kernel.spawn() };
}

function recordSyncs(kernel: Kernel): string[] {
  const log: string[] = [];
  const hooks: DmaSyncHooks = {
    syncForCpu: (dev, phys, len, dir) => log.push(`cpu ${dev.name} ${phys} ${len} ${dir}`),
    syncForDevice: (dev, phys, len, dir) => log.push(`dev ${dev.name} ${phys} ${len} ${dir}`),
  };
  kernel.dma.hooks = hooks;
  return log;
}

describe("the system-uncached heap", () => {
  it("is registered as /dev/dma_heap/system-uncached with write-combine CPU mappings declared", () => {
    const { kernel, proc } = boot();
    expect(kernel.heaps.list().map((h) => h.name)).toEqual(["system", "system-uncached"]);
    expect(kernel.heaps.find("system-uncached")?.capabilities).toEqual({
      contiguous: false,
      cpuAccess: true,
      vmap: true,
      cpuCaching: "write-combine",
    });
    expect(proc.readdir("/dev/dma_heap")).toContain("system-uncached");
  });

  it("takes the system heap's chunks and flushes the zeroing once through its own device", () => {
    const { kernel, proc } = boot();
    const log = recordSyncs(kernel);
    const size = MiB + 64 * KiB + PAGE;
    const fd = allocFromHeap(proc, "system-uncached", size);
    const buf = kernel.dmaBuf.get(proc, fd);
    const b = buf.priv as SystemHeapBuffer;
    expect(Array.from(b.chunkOrders)).toEqual([8, 4, 0]);
    expect(buf.expName).toBe("system-uncached");
    const runs = Array.from(b.chunkPfns, (pfn, i) => [
      pfn * PAGE,
      PAGE * 2 ** (b.chunkOrders[i] as number),
    ]);
    expect(log).toEqual([
      ...runs.map(([p, l]) => `dev system-uncached ${p} ${l} 0`),
      ...runs.map(([p, l]) => `cpu system-uncached ${p} ${l} 0`),
    ]);
    expect(b.table.nents).toBe(0);
    expect(kernel.dma.liveMappings()).toBe(0);
  });

  it("maps user and kernel mappings write-combined and reads zeros through them", () => {
    const { kernel, proc } = boot();
    const fd = allocFromHeap(proc, "system-uncached", 2 * PAGE);
    const m = proc.mmap(fd, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(m.vma.caching).toBe("write-combine");
    expect(m.read()).toEqual(new Uint8Array(2 * PAGE));
    const moved = proc.mremap(m, PAGE);
    expect(moved.vma).not.toBe(m.vma);
    expect(moved.vma.caching).toBe("write-combine");
    const buf = kernel.dmaBuf.get(proc, fd);
    const map = kernel.dmaBuf.vmap(buf);
    expect(map.caching).toBe("write-combine");
    kernel.dmaBuf.vunmap(buf, map);
  });

  it("maps for devices with DMA_ATTR_SKIP_CPU_SYNC, and CPU access does no maintenance", () => {
    const { kernel, proc } = boot();
    const fd = allocFromHeap(proc, "system-uncached", 64 * KiB);
    const buf = kernel.dmaBuf.get(proc, fd);
    const log = recordSyncs(kernel);
    const dev = new Device({ name: "nc", coherent: false });
    const a = kernel.dmaBuf.attach(buf, dev);
    const t = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect(t.nents).toBe(1);
    kernel.dmaBuf.beginCpuAccess(buf, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.endCpuAccess(buf, DMA_TO_DEVICE);
    kernel.dmaBuf.unmapAttachment(a, t, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.detach(buf, a);
    expect(log).toEqual([]);
    expect(kernel.dma.debug.reports).toEqual([]);
  });

  it("leaves the snapshot as it was after a buffer is allocated, mapped, used and freed", () => {
    const { kernel, proc } = boot();
    const before = kernel.snapshot();
    const fd = allocFromHeap(proc, "system-uncached", 3 * MiB);
    const buf = kernel.dmaBuf.get(proc, fd);
    expect(kernel.snapshot()).not.toEqual(before);
    const m = proc.mmap(fd, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(7);
    const dev = new Device({ name: "nc", coherent: false, iommu: true });
    const a = kernel.dmaBuf.attach(buf, dev);
    const t = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.unmapAttachment(a, t, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.detach(buf, a);
    kernel.dmaBuf.put(buf);
    proc.munmap(m);
    proc.close(fd);
    expect(kernel.snapshot()).toEqual(before);
  });

  it("fails with ENOMEM leaving the snapshot unchanged when memory runs out", () => {
    const { kernel, proc } = boot();
    const before = kernel.snapshot();
    expect(() => allocFromHeap(proc, "system-uncached", 128 * MiB)).toThrow(/ENOMEM/);
    expect(kernel.snapshot()).toEqual(before);
  });
});
