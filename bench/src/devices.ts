// Devices and the cache model: DMA copies, CPU fills and SYNC END cost, against plain arrays.

import {
  allocFromHeap,
  createKernel,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type Kernel,
  syncBuffer,
  withCpuAccess,
} from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_WRITE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { CacheModel, MemcpyEngine, Vgem } from "@dmabuf/devices";
import { SystemHeap } from "@dmabuf/heaps-system";
import type { Row } from "./table.js";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;

/** Cache modes: no cache model, the checking model, the realistic (set-associative) model. */
type Mode = "none" | "checking" | "realistic";

/** A kernel with the system heap, the cache model in `mode` and one memcpy engine. */
function boot(coherent: boolean, mode: Mode): Kernel {
  return createKernel({
    ram: "512MiB",
    plugins: [
      SystemHeap,
      ...(mode === "none" ? [] : [{ plugin: CacheModel, config: { mode } }]),
      { plugin: MemcpyEngine, config: { coherent } },
      { plugin: Vgem, config: { coherent: false } },
    ],
  });
}

function ms(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Memcpy engine, 64 MiB buffer → buffer, one job run to completion per round. */
function memcpyRow(mode: Mode, coherent: boolean, goal: number | null): Row {
  return {
    name: `memcpy engine 64 MiB, ${coherent ? "coherent" : "non-coherent"}, cache: ${mode}`,
    baseline: "Uint8Array.set 64 MiB",
    unit: "ms",
    goal,
    rounds: 5,
    prepare() {
      const kernel = boot(coherent, mode);
      const proc = kernel.spawn({ name: "bench" });
      const srcFd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
      const dstFd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
      const engine = kernel.plugin(MemcpyEngine);
      const src = engine.importFd(proc, srcFd, DMA_TO_DEVICE);
      const dst = engine.importFd(proc, dstFd, DMA_FROM_DEVICE);
      const map = proc.mmap(srcFd, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED);
      withCpuAccess(proc, srcFd, "write", () => map.fill(0x5a));
      const a = new Uint8Array(SIZE).fill(0x5a);
      const b = new Uint8Array(SIZE);
      return {
        ours: () => ms(() => engine.wait(engine.copy(dst, 0, src, 0, SIZE))),
        base: () => ms(() => b.set(a)),
        done: () => {
          if (mode !== "none") {
            const checker = kernel.plugin(CacheModel).checker;
            if (checker.violations.length > 0) throw new Error(checker.report());
          }
          proc.exit();
        },
      };
    },
  };
}

/** CPU fill of a 64 MiB mapping through the cache model. */
function fillRow(mode: Mode, goal: number | null): Row {
  return {
    name: `CPU fill of a 64 MiB mapping, cache: ${mode}`,
    baseline: "Uint8Array.fill 64 MiB",
    unit: "ms",
    goal,
    rounds: 5,
    prepare() {
      const kernel = boot(true, mode);
      const proc = kernel.spawn({ name: "bench" });
      const fd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
      const map = proc.mmap(fd, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED);
      const b = new Uint8Array(SIZE);
      let v = 1;
      const next = () => {
        v = (v % 255) + 1;
        return v;
      };
      return {
        ours: () => ms(() => map.fill(next())),
        base: () => ms(() => b.fill(next())),
        done: () => proc.exit(),
      };
    },
  };
}

/**
 * SYNC END on a 64 MiB buffer a non-coherent device has mapped, `dirty` bytes written before.
 * A round is the median of `repeats` such syncs (each after its own write), so that one
 * scheduler tick or GC pause does not decide a round of a 0.1 ms operation.
 */
function syncEnd(): { round: (dirty: number, repeats: number) => number; done: () => void } {
  const kernel = boot(true, "checking");
  const proc = kernel.spawn({ name: "bench" });
  const fd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
  kernel.plugin(Vgem).importFd(proc, fd, DMA_BIDIRECTIONAL);
  const map = proc.mmap(fd, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED);
  let r = 0;
  return {
    round: (dirty, repeats) => {
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) {
        map.fill(++r & 0xff || 1, 0, dirty);
        times.push(ms(() => syncBuffer(proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)));
      }
      return times.sort((a, b) => a - b)[repeats >> 1] as number;
    },
    done: () => proc.exit(),
  };
}

/** The device rows. */
export function deviceRows(): Row[] {
  return [
    memcpyRow("none", true, 1.25),
    memcpyRow("checking", true, 1.25),
    memcpyRow("checking", false, 2),
    memcpyRow("realistic", false, null),
    fillRow("none", null),
    fillRow("checking", 2),
    fillRow("realistic", 1 / 0.3),
    {
      name: "SYNC END on 64 MiB, one dirty line",
      baseline: "SYNC END on 64 MiB, every line dirty",
      unit: "ms",
      goal: 0.01,
      rounds: 9,
      prepare() {
        const s = syncEnd();
        return { ours: () => s.round(64, 15), base: () => s.round(SIZE, 1), done: s.done };
      },
    },
  ];
}
