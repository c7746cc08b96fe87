// Tracing cost on the syscall path: what a disabled trace point costs, and what recording costs.

import { allocFromHeap, createKernel, syncBuffer, TraceRecorder } from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  MAP_SHARED,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import type { Row } from "./table.js";

/** A holder of an optional recorder, as the kernel's hosts are. */
interface TraceHost {
  readonly trace?: TraceRecorder;
}

/** A disabled trace point exactly as the model writes them. */
function tracePoint(host: TraceHost, ino: number): void {
  if (host.trace?.on) host.trace.emit("attach", { buf: ino, dev: "bench" });
}

/** µs per call of `fn` over `iterations` calls. */
function perCall(fn: () => void, iterations: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t0) / iterations / 1000;
}

/** The syscall loop (alloc 4 KiB, mmap, SYNC START/END, munmap, close) on a fresh kernel. */
function syscallLoop() {
  const kernel = createKernel({ ram: "256MiB", plugins: [SystemHeap] });
  const proc = kernel.spawn({ name: "bench" });
  const heapFd = proc.open("/dev/dma_heap/system", 0);
  const loop = () => {
    const fd = allocFromHeap(proc, heapFd, 4096);
    const m = proc.mmap(fd, 4096, PROT_WRITE, MAP_SHARED);
    syncBuffer(proc, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    syncBuffer(proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    proc.munmap(m);
    proc.close(fd);
  };
  return { kernel, proc, loop };
}

/**
 * Tracing cost on the syscall path: the disabled trace points one syscall loop passes, as a
 * share of the loop (goal < 2 %), and the loop with tracing on against off.
 */
export function traceRows(): Row[] {
  const iterations = 20_000;
  return [
    {
      name: "tracing off: the disabled trace points of one syscall loop",
      baseline: "the syscall loop (alloc, mmap, SYNC, munmap, close)",
      unit: "µs",
      goal: 0.02,
      prepare() {
        const { kernel, proc, loop } = syscallLoop();
        kernel.trace.start();
        loop();
        const points = kernel.trace.events().length;
        kernel.trace.stop();
        // The disabled check alone, on many holders so that the load cannot be hoisted.
        const hosts: TraceHost[] = Array.from({ length: 1024 }, () => ({
          trace: new TraceRecorder(
            () => 0,
            () => undefined,
          ),
        }));
        let i = 0;
        const check = () => tracePoint(hosts[i++ & 1023] as TraceHost, i);
        return {
          ours: () => points * perCall(check, iterations * 50),
          base: () => perCall(loop, iterations),
          done: () => proc.exit(),
          note: () => `${points} trace points per loop`,
        };
      },
    },
    {
      name: "syscall loop with tracing on",
      baseline: "the same with tracing off",
      unit: "µs",
      goal: null,
      prepare() {
        const { kernel, proc, loop } = syscallLoop();
        return {
          ours: () => {
            kernel.trace.start();
            const t = perCall(loop, iterations);
            kernel.trace.stop();
            return t;
          },
          base: () => perCall(loop, iterations),
          done: () => proc.exit(),
        };
      },
    },
  ];
}
