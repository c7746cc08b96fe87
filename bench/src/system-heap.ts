// System-heap alloc+free through the user-space path, as a ratio to zero-filling a Uint8Array.

import { allocFromHeap, createKernel } from "@dmabuf/core";
import { MAP_SHARED, PROT_WRITE } from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { measure, type RatioLine } from "./measure.js";

const MiB = 1024 * 1024;

/** Runs the system-heap benchmark and returns its ratio lines. */
export function benchSystemHeap(): RatioLine[] {
  const kernel = createKernel({ ram: "1GiB", plugins: [SystemHeap] });
  const proc = kernel.spawn({ name: "bench" });
  const heapFd = proc.open("/dev/dma_heap/system", 0);
  const lines: RatioLine[] = [];
  for (const size of [1 * MiB, 8 * MiB, 32 * MiB]) {
    const iterations = Math.max(4, Math.floor((64 * MiB) / size));
    const baseline = measure(
      `Uint8Array(${size}).fill(0)`,
      () => {
        new Uint8Array(size).fill(0);
      },
      iterations,
    );
    const heap = measure(
      `system heap ${size / MiB} MiB`,
      () => {
        const fd = allocFromHeap(proc, heapFd, size);
        proc.close(fd);
      },
      iterations,
    );
    const ratio = heap.nsPerOp / baseline.nsPerOp;
    lines.push({
      name: `system heap alloc+free ${size / MiB} MiB vs Uint8Array.fill(0)`,
      ratio,
      goal: "<= 1.5",
      ok: ratio <= 1.5,
    });
    // The same, with every byte of the buffer written once through a mapping, so that the
    // next allocation of those pages really zeroes host memory.
    const touched = measure(
      `system heap ${size / MiB} MiB touched`,
      () => {
        const fd = allocFromHeap(proc, heapFd, size);
        const m = proc.mmap(fd, size, PROT_WRITE, MAP_SHARED);
        m.fill(0xa5);
        proc.munmap(m);
        proc.close(fd);
      },
      iterations,
    );
    const tRatio = touched.nsPerOp / baseline.nsPerOp;
    lines.push({
      name: `  … with every byte written once (alloc+fill+free)`,
      ratio: tRatio,
      goal: "info",
      ok: true,
    });
  }
  proc.exit();
  return lines;
}
