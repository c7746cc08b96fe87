// The memory-type case: mappings declared uncached or write-combine really bypass the CPU cache.

import { DMA_BIDIRECTIONAL, type KernelMapping, type Mapping } from "@dmabuf/core";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import { check, checkEqual } from "../assert.js";
import { checkingCache, markViolations } from "../cache-check.js";
import { needs } from "../capabilities.js";
import { firstDifference, mapForDevice, pagePattern, testDevice } from "../device-view.js";
import { type ExporterCase, fitSize, KiB } from "./context.js";

function checkBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const at = firstDifference(actual, expected);
  check(at < 0, `${what}: byte ${at} is ${actual[at]}, expected ${expected[at]}`);
}

/**
 * `exporter.cpu.memory-type`, for exporters declaring `write-combine` or `uncached` CPU
 * mappings: a fresh buffer has no dirty line in the CPU cache (the allocation flushed its
 * zeroing); the mmap and the vmap carry the declared memory type; and with a non-coherent
 * device keeping the buffer mapped, bytes the CPU stores through each mapping with no SYNC
 * reach the device and bytes the device writes are what the CPU loads, with no coherency
 * finding and no line allocated in the cache.
 */
export const memoryTypeCase: ExporterCase = {
  id: "exporter.cpu.memory-type",
  title:
    "Mappings declared uncached or write-combine carry that memory type: with no SYNC the CPU and a non-coherent device see each other's bytes, and no cache line is left dirty or allocated",
  spec: "SPEC §8.2, §9.4",
  requires: (c) => needs.cpuView(c) ?? needs.uncachedCpu(c),
  run(ctx) {
    const s = ctx.boot();
    const caps = ctx.capabilities;
    const ps = s.kernel.pageSize;
    const cache = checkingCache(s.kernel);
    const mark = markViolations(cache);
    const size = fitSize(caps, ps, 64 * KiB + 2 * ps);
    const b = s.createFd(size);
    const dev = mapForDevice(
      s.kernel,
      b.buf,
      testDevice("non-coherent-peer", { coherent: false }),
      DMA_BIDIRECTIONAL,
    );
    let offset = 0;
    dev.sgt.forEachRange(ps, (phys, len) => {
      for (let at = 0; at < len; at += cache.lineSize) {
        check(
          !cache.isDirty(phys + at),
          `byte ${offset + at} of a fresh buffer is in a dirty CPU cache line: the allocation did not flush the cache after zeroing, so a write-back can overwrite what is stored through the ${caps.cpuCaching} mappings`,
        );
      }
      offset += len;
    });
    const views: { what: string; view: Mapping | KernelMapping; done: () => void }[] = [];
    if (caps.mmap) {
      const m = s.proc.mmap(b.fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      checkEqual(m.vma.caching, caps.cpuCaching, "memory type of the mmap (vma.caching)");
      views.push({ what: "mmap", view: m, done: () => s.proc.munmap(m) });
    }
    if (caps.vmap) {
      const map = s.kernel.dmaBuf.vmap(b.buf);
      checkEqual(map.caching, caps.cpuCaching, "memory type of the vmap (caching)");
      views.push({ what: "vmap", view: map, done: () => s.kernel.dmaBuf.vunmap(b.buf, map) });
    }
    let seed = 41;
    for (const { what, view, done } of views) {
      const lines = cache.cachedLines;
      const stored = pagePattern(size, ps, seed++);
      view.write(0, stored);
      checkBytes(
        dev.read(),
        stored,
        `non-coherent device read after CPU stores through the ${what}, no SYNC`,
      );
      mark.expectNone(`non-coherent device read after CPU stores through the ${what}, no SYNC`);
      const written = pagePattern(size, ps, seed++);
      dev.write(0, written);
      checkBytes(
        view.read(0, size),
        written,
        `CPU load through the ${what} after a non-coherent device write, no SYNC`,
      );
      mark.expectNone(`CPU load through the ${what} after a non-coherent device write, no SYNC`);
      checkEqual(
        cache.cachedLines,
        lines,
        `lines in the CPU cache after accesses through the ${what}`,
      );
      done();
    }
    dev.detach();
    s.proc.close(b.fd);
  },
};
