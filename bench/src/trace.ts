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
import { measure, type RatioLine } from "./measure.js";

/** A holder of an optional recorder, as the kernel's hosts are. */
interface TraceHost {
  readonly trace?: TraceRecorder;
}

/** A disabled trace point exactly as the model writes them. */
function tracePoint(host: TraceHost, ino: number): void {
  if (host.trace?.on) host.trace.emit("attach", { buf: ino, dev: "bench" });
}

/**
 * Runs the tracing benchmark: the syscall loop (alloc 4 KiB from the system heap, mmap,
 * SYNC START/END, munmap, close) with tracing off and on, and the cost of the disabled trace
 * points that loop passes, as a share of the loop.
 */
export function benchTrace(): RatioLine[] {
  const kernel = createKernel({ ram: "256MiB", plugins: [SystemHeap] });
  const proc = kernel.spawn({ name: "bench" });
  const heapFd = proc.open("/dev/dma_heap/system", 0);
  const syscalls = () => {
    const fd = allocFromHeap(proc, heapFd, 4096);
    const m = proc.mmap(fd, 4096, PROT_WRITE, MAP_SHARED);
    syncBuffer(proc, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    syncBuffer(proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    proc.munmap(m);
    proc.close(fd);
  };
  const iterations = 20_000;
  const off = measure("syscalls, tracing off", syscalls, iterations);
  kernel.trace.start();
  syscalls();
  const pointsPerOp = kernel.trace.events().length;
  const on = measure("syscalls, tracing on", syscalls, iterations);
  kernel.trace.stop();
  // The disabled check alone, on many holders so that the load cannot be hoisted.
  const hosts: TraceHost[] = Array.from({ length: 1024 }, () => ({
    trace: new TraceRecorder(
      () => 0,
      () => undefined,
    ),
  }));
  let i = 0;
  const check = measure(
    "disabled trace point",
    () => {
      tracePoint(hosts[i++ & 1023] as TraceHost, i);
    },
    iterations * 50,
  );
  proc.exit();
  const offShare = (pointsPerOp * check.nsPerOp) / off.nsPerOp;
  return [
    {
      name: `tracing off: ${pointsPerOp} disabled trace points per syscall loop, share of it`,
      ratio: offShare,
      goal: "< 0.02",
      ok: offShare < 0.02,
    },
    {
      name: "tracing on vs off: syscall loop (alloc, mmap, SYNC, munmap, close)",
      ratio: on.nsPerOp / off.nsPerOp,
      goal: "info",
      ok: true,
    },
  ];
}
