// The acceptance matrix: CPU ↔ device handoffs with and without SYNC, coherent and not, both modes.

import {
  allocFromHeap,
  createKernel,
  DMA_BIDIRECTIONAL,
  setBufferName,
  syncBuffer,
} from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
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
import { CacheModel } from "./cache-model.js";
import type { CoherencyViolationKind } from "./coherency.js";
import { MemcpyEngine } from "./memcpy-engine.js";

const LEN = 64 * 1024;
const OLD = 0x11;
const NEW = 0x5a;

type Mode = "checking" | "realistic";

/** A kernel with the cache model and one device, a named system-heap buffer, mmap and import. */
function rig(mode: Mode, coherent: boolean) {
  const kernel = createKernel({
    ram: "64MiB",
    plugins: [
      SystemHeap,
      { plugin: CacheModel, config: { mode, capacity: 1024 * 1024 } },
      { plugin: MemcpyEngine, config: { name: "dev0", coherent } },
    ],
  });
  const cache = kernel.plugin(CacheModel);
  const proc = kernel.spawn({ name: "app" });
  const fd = allocFromHeap(proc, "system", LEN, { fdFlags: O_RDWR | O_CLOEXEC });
  setBufferName(proc, fd, "matrix");
  const map = proc.mmap(fd, LEN, PROT_READ | PROT_WRITE, MAP_SHARED);
  const dev = kernel.plugin(MemcpyEngine).importFd(proc, fd, DMA_BIDIRECTIONAL);
  // Known starting contents everywhere, cache clean and empty.
  dev.fill(OLD);
  const ino = proc.fstat(fd).ino;
  const sync = (flags: number) => syncBuffer(proc, fd, flags);
  return { kernel, cache, proc, fd, map, dev, ino, sync };
}

const all = (b: Uint8Array, v: number) => b.every((x) => x === v);

interface Expect {
  /** The byte the reading side sees. */
  readonly seen: number;
  /** The violation the checker reports, or null. */
  readonly violation: CoherencyViolationKind | null;
}

const cases: {
  name: string;
  run: (r: ReturnType<typeof rig>) => Uint8Array;
  coherent: Expect;
  nonCoherent: Expect;
}[] = [
  {
    name: "CPU write → device read, with SYNC START/END WRITE",
    run: (r) => {
      r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
      r.map.fill(NEW);
      r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
      return r.dev.read();
    },
    coherent: { seen: NEW, violation: null },
    nonCoherent: { seen: NEW, violation: null },
  },
  {
    name: "CPU write → device read, without SYNC END",
    run: (r) => {
      r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
      r.map.fill(NEW);
      return r.dev.read();
    },
    coherent: { seen: NEW, violation: null },
    nonCoherent: { seen: OLD, violation: "device-read-cpu-dirty" },
  },
  {
    name: "device write → CPU read, with SYNC START READ",
    run: (r) => {
      r.dev.fill(NEW);
      r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
      const b = r.map.read();
      r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
      return b;
    },
    coherent: { seen: NEW, violation: null },
    nonCoherent: { seen: NEW, violation: null },
  },
  {
    name: "device write → CPU read, without SYNC START (lines never cached)",
    run: (r) => {
      r.dev.fill(NEW);
      return r.map.read();
    },
    coherent: { seen: NEW, violation: null },
    // Nothing was cached, so the bytes happen to be right: the missing sync is still caught.
    nonCoherent: { seen: NEW, violation: "cpu-read-device-written" },
  },
  {
    name: "device write after a CPU read, with SYNC START READ",
    run: (r) => {
      r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
      r.map.read();
      r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
      r.dev.fill(NEW);
      r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
      const b = r.map.read();
      r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
      return b;
    },
    coherent: { seen: NEW, violation: null },
    nonCoherent: { seen: NEW, violation: null },
  },
  {
    name: "device write after a CPU read, without SYNC START",
    run: (r) => {
      r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
      r.map.read();
      r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
      r.dev.fill(NEW);
      return r.map.read();
    },
    coherent: { seen: NEW, violation: null },
    // The CPU's cached copy is stale: it sees the old bytes.
    nonCoherent: { seen: OLD, violation: "cpu-read-device-written" },
  },
];

describe.each(["checking", "realistic"] as const)("%s mode", (mode) => {
  describe.each([true, false])("coherent device: %s", (coherent) => {
    it.each(cases)("$name", (c) => {
      const r = rig(mode, coherent);
      const seen = c.run(r);
      const want = coherent ? c.coherent : c.nonCoherent;
      expect(all(seen, want.seen)).toBe(true);
      const violations = r.cache.checker.violations;
      if (want.violation === null) {
        expect(violations).toEqual([]);
      } else {
        // One report for the whole buffer, naming it, its offset, both parties, the fix.
        expect(violations).toHaveLength(1);
        const v = violations[0];
        expect(v?.kind).toBe(want.violation);
        expect(v?.buffer).toEqual({ ino: r.ino, name: "matrix", expName: "system" });
        expect([v?.offset, v?.length]).toEqual([0, LEN]);
        const [writer, reader] = want.violation.startsWith("device-")
          ? ["CPU", "dev0"]
          : ["dev0", "CPU"];
        expect([v?.writer, v?.reader]).toEqual([writer, reader]);
        expect(v?.missing).toMatch(/^no DMA_BUF_IOCTL_SYNC (END\|WRITE|START\|READ)/);
      }
    });
  });
});
