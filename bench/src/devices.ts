// Devices and the cache model: DMA copies, CPU fills and SYNC END cost, as ratios to plain arrays.

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
import { measure, type RatioLine } from "./measure.js";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;

/** A kernel with the system heap, a checking cache model and one memcpy engine. */
function boot(coherent: boolean, mode: "checking" | "realistic" = "checking"): Kernel {
  return createKernel({
    ram: "512MiB",
    plugins: [
      SystemHeap,
      { plugin: CacheModel, config: { mode } },
      { plugin: MemcpyEngine, config: { coherent } },
      { plugin: Vgem, config: { coherent: false } },
    ],
  });
}

/** Memcpy engine, 64 MiB buffer → buffer, one job run to completion per iteration. */
function benchMemcpy(coherent: boolean): number {
  const kernel = boot(coherent);
  const proc = kernel.spawn({ name: "bench" });
  const srcFd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
  const dstFd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
  const engine = kernel.plugin(MemcpyEngine);
  const src = engine.importFd(proc, srcFd, DMA_TO_DEVICE);
  const dst = engine.importFd(proc, dstFd, DMA_FROM_DEVICE);
  const map = proc.mmap(srcFd, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED);
  withCpuAccess(proc, srcFd, "write", () => map.fill(0x5a));
  const m = measure(
    `memcpy engine ${coherent ? "coherent" : "non-coherent"}`,
    () => engine.wait(engine.copy(dst, 0, src, 0, SIZE)),
    4,
  );
  const checker = kernel.plugin(CacheModel).checker;
  if (checker.violations.length > 0) throw new Error(checker.report());
  proc.exit();
  return m.nsPerOp;
}

/** CPU fill of a 64 MiB mapping through the cache model. */
function benchCpuFill(mode: "checking" | "realistic"): number {
  const kernel = boot(true, mode);
  const proc = kernel.spawn({ name: "bench" });
  const fd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
  const map = proc.mmap(fd, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED);
  let v = 1;
  const m = measure(
    `CPU fill (${mode})`,
    () => {
      v = (v % 255) + 1;
      map.fill(v);
    },
    4,
  );
  proc.exit();
  return m.nsPerOp;
}

/**
 * SYNC END on a 64 MiB buffer a non-coherent device has mapped, with `dirty` bytes of CPU
 * writes to clean; only the ioctl is timed (median of `rounds`).
 */
function benchSyncEnd(dirty: number, rounds: number): number {
  const kernel = boot(true);
  const proc = kernel.spawn({ name: "bench" });
  const fd = allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC });
  kernel.plugin(Vgem).importFd(proc, fd, DMA_BIDIRECTIONAL);
  const map = proc.mmap(fd, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED);
  const samples: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    map.fill(r & 0xff || 1, 0, dirty);
    const t0 = process.hrtime.bigint();
    syncBuffer(proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    if (r > 0) samples.push(Number(process.hrtime.bigint() - t0));
  }
  proc.exit();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

/** Runs the device benchmarks and returns their ratio lines. */
export function benchDevices(): RatioLine[] {
  const lines: RatioLine[] = [];
  const a = new Uint8Array(SIZE).fill(0x5a);
  const b = new Uint8Array(SIZE);
  const set = measure("Uint8Array.set 64 MiB", () => b.set(a), 4).nsPerOp;
  for (const [coherent, goal] of [
    [true, 0.8],
    [false, 0.5],
  ] as const) {
    const ratio = set / benchMemcpy(coherent);
    lines.push({
      name: `memcpy 64 MiB, ${coherent ? "coherent engine" : "non-coherent + checker"} vs Uint8Array.set`,
      ratio,
      goal: `>= ${goal}`,
      ok: ratio >= goal,
    });
  }
  const fill = measure("Uint8Array.fill 64 MiB", () => b.fill(0x77), 4).nsPerOp;
  const checking = fill / benchCpuFill("checking");
  lines.push({
    name: "CPU fill, 64 MiB mapping via the cache vs Uint8Array.fill",
    ratio: checking,
    goal: ">= 0.5",
    ok: checking >= 0.5,
  });
  const realistic = fill / benchCpuFill("realistic");
  lines.push({
    name: "  … realistic mode (1 MiB, 8-way, LRU: every line evicted)",
    ratio: realistic,
    goal: "info",
    ok: true,
  });
  const all = benchSyncEnd(SIZE, 5);
  const one = benchSyncEnd(64, 25);
  const ratio = one / all;
  lines.push({
    name: "SYNC END on 64 MiB: one dirty line vs every line dirty",
    ratio,
    goal: "<= 0.01",
    ok: ratio <= 0.01,
  });
  return lines;
}
