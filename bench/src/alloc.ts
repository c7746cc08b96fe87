// Allocation through the user-space path: 4 KiB ALLOC + close steady state, ALLOC + write, the full cycle.

import { PerformanceObserver } from "node:perf_hooks";
import {
  allocFromHeap,
  createKernel,
  type Kernel,
  type Process,
  withCpuAccess,
} from "@dmabuf/core";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { lcgOp, nsPerOp, type Row } from "./table.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Operations per round of the steady-state rows (10 rounds: 200k operations). */
const STEADY_OPS = 20000;
/** The real kernel's published DMA_HEAP_IOCTL_ALLOC of 4 KiB (x86 VM, page pool), in ns. */
const KERNEL_ALLOC_4K_NS = 17600;

function boot(): { kernel: Kernel; proc: Process; heapFd: number } {
  const kernel = createKernel({ ram: "1GiB", plugins: [SystemHeap] });
  const proc = kernel.spawn({ name: "bench" });
  return { kernel, proc, heapFd: proc.open("/dev/dma_heap/system", 0) };
}

/** Sums the durations of GC entries that started inside a time window, once they arrive. */
class GcClock {
  #entries: { start: number; duration: number }[] = [];
  readonly #obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      this.#entries.push({ start: e.startTime, duration: e.duration });
  });
  constructor() {
    this.#obs.observe({ entryTypes: ["gc"] });
  }
  /** GC milliseconds that started in [t0, t1] (after letting pending entries arrive). */
  async within(t0: number, t1: number): Promise<number> {
    // GC entries arrive on a later turn of the event loop (a timer, not an immediate).
    await new Promise((r) => setTimeout(r, 5));
    let ms = 0;
    for (const e of this.#entries) if (e.start >= t0 && e.start <= t1) ms += e.duration;
    this.#entries = [];
    return ms;
  }
  stop(): void {
    this.#obs.disconnect();
  }
}

/** 4 KiB ALLOC + close rounds: against the LCG yardstick, the kernel's figure, and GC share. */
function steadyRows(): Row[] {
  const alloc4k = (s: ReturnType<typeof boot>) => () => {
    const fd = allocFromHeap(s.proc, s.heapFd, 4096);
    s.proc.close(fd);
  };
  return [
    {
      name: "4 KiB ALLOC+close, steady state (10 × 20k ops)",
      baseline: "2,000 LCG steps (plain JS)",
      unit: "µs",
      goal: 0.7,
      rounds: 10,
      prepare() {
        const s = boot();
        const op = alloc4k(s);
        return {
          ours: () => nsPerOp(op, STEADY_OPS) / 1000,
          base: () => nsPerOp(lcgOp, STEADY_OPS) / 1000,
          done: () => s.proc.exit(),
        };
      },
    },
    {
      name: "4 KiB ALLOC+close, steady state (10 × 20k ops)",
      baseline: "Linux, published (x86 VM, page pool)",
      unit: "µs",
      goal: 0.5,
      rounds: 10,
      prepare() {
        const s = boot();
        const op = alloc4k(s);
        return {
          ours: () => nsPerOp(op, STEADY_OPS) / 1000,
          base: () => KERNEL_ALLOC_4K_NS / 1000,
          done: () => s.proc.exit(),
        };
      },
    },
    {
      name: "GC time in 4 KiB ALLOC+close (10 × 20k ops)",
      baseline: "the rounds' time",
      unit: "ms",
      goal: 0.15,
      rounds: 10,
      prepare() {
        const s = boot();
        const op = alloc4k(s);
        const gc = new GcClock();
        let total = 0;
        return {
          ours: async () => {
            const t0 = performance.now();
            for (let i = 0; i < STEADY_OPS; i++) op();
            const t1 = performance.now();
            total = t1 - t0;
            return gc.within(t0, t1);
          },
          base: () => total,
          done: () => {
            gc.stop();
            s.proc.exit();
          },
        };
      },
    },
  ];
}

/**
 * ALLOC of `size`, written once through a mapping, freed; against memset of as many bytes.
 * The goal allows two passes over the bytes (the allocator zeroes pages, as Linux does, then
 * the write) and half a pass for everything else. It applies from 8 MiB: a 1 MiB memset runs
 * from the L2 cache (about 8 µs here) and costs less than one pass of ALLOC's bookkeeping over
 * 256 pages, so the 1 MiB row is shown for information.
 */
function writtenRow(size: number): Row {
  const ops = Math.max(2, Math.floor((64 * MiB) / size));
  return {
    name: `${size / MiB} MiB ALLOC, written once, close`,
    baseline: `memset ${size / MiB} MiB`,
    unit: "ms",
    goal: size >= 8 * MiB ? 2.5 : null,
    prepare() {
      const s = boot();
      const host = new Uint8Array(size);
      let v = 0;
      return {
        ours: () =>
          nsPerOp(() => {
            const fd = allocFromHeap(s.proc, s.heapFd, size);
            const m = s.proc.mmap(fd, size, PROT_WRITE, MAP_SHARED);
            m.fill(0xa5);
            s.proc.munmap(m);
            s.proc.close(fd);
          }, ops) / 1e6,
        base: () =>
          nsPerOp(() => {
            v = (v + 1) & 0xff;
            host.fill(v);
          }, ops) / 1e6,
        done: () => s.proc.exit(),
      };
    },
  };
}

/** The full cycle a user-space producer runs per frame, on 1 MiB. */
function cycleRow(): Row {
  const size = 1 * MiB;
  return {
    name: "user-space cycle, 1 MiB: ALLOC, mmap, SYNC START, fill, SYNC END, munmap, close",
    baseline: "memset 1 MiB",
    unit: "ms",
    goal: null,
    prepare() {
      const s = boot();
      const host = new Uint8Array(size);
      let v = 0;
      return {
        ours: () =>
          nsPerOp(() => {
            const fd = allocFromHeap(s.proc, s.heapFd, size);
            const m = s.proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
            withCpuAccess(s.proc, fd, "write", () => m.fill(0x3c));
            s.proc.munmap(m);
            s.proc.close(fd);
          }, 64) / 1e6,
        base: () =>
          nsPerOp(() => {
            v = (v + 1) & 0xff;
            host.fill(v);
          }, 64) / 1e6,
        done: () => s.proc.exit(),
      };
    },
  };
}

/** The allocation rows. */
export function allocRows(): Row[] {
  return [...steadyRows(), ...[1 * MiB, 8 * MiB, 32 * MiB].map(writtenRow), cycleRow()];
}
