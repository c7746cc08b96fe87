// Per-operation cost with many live objects: dup, /proc/PID/fd lookups and the full user-space
// buffer cycle with 50,000 live fds/buffers/mappings, as a ratio to the same with 100 alive.

import { allocFromHeap, createKernel, type Process, syncBuffer } from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START,
  MAP_SHARED,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import type { Row } from "./table.js";

const SMALL = 100;
const LARGE = 50_000;
const GOAL = 2;

/** A process in a fresh kernel with `live` open fds of 4 KiB system-heap buffers, each mapped. */
function populated(live: number, mapped: boolean): { proc: Process; heapFd: number } {
  const kernel = createKernel({ ram: "1GiB", plugins: [SystemHeap] });
  const proc = kernel.spawn({ name: "scale" });
  proc.rlimitNofile = LARGE * 2 + 1024;
  const heapFd = proc.open("/dev/dma_heap/system", O_RDWR);
  for (let i = 0; i < live; i++) {
    const fd = allocFromHeap(proc, heapFd, 4096);
    if (mapped) proc.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
  }
  return { proc, heapFd };
}

/** µs per call of `fn` over `iterations` calls. */
function perCall(fn: () => void, iterations: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t0) / iterations / 1000;
}

type Populated = { proc: Process; heapFd: number };

/** A row: the operation with LARGE live objects against the same with SMALL. */
function scaleRow(
  what: string,
  mapped: boolean,
  iterations: number,
  op: (p: Populated) => () => void,
): Row {
  return {
    name: `${what} at ${LARGE / 1000}k live`,
    baseline: `the same at ${SMALL} live`,
    unit: "µs",
    goal: GOAL,
    prepare() {
      const small = populated(SMALL, mapped);
      const large = populated(LARGE, mapped);
      const a = op(small);
      const b = op(large);
      return {
        ours: () => perCall(b, iterations),
        base: () => perCall(a, iterations),
        done: () => {
          small.proc.exit();
          large.proc.exit();
        },
      };
    },
  };
}

/** Per-operation cost with many live objects: dup, /proc/PID/fd lookups, the buffer cycle. */
export function scaleRows(): Row[] {
  return [
    scaleRow("dup+close", false, 5000, (p) => () => p.proc.close(p.proc.dup(p.heapFd))),
    scaleRow("readlink /proc/self/fd/N", false, 5000, (p) => {
      const path = `/proc/self/fd/${p.proc.fds().at(-1)}`;
      return () => {
        p.proc.readlink(path);
      };
    }),
    scaleRow("alloc→mmap→SYNC→munmap→close", true, 2000, (p) => () => {
      const fd = allocFromHeap(p.proc, p.heapFd, 4096);
      const m = p.proc.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
      syncBuffer(p.proc, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
      syncBuffer(p.proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
      p.proc.munmap(m);
      p.proc.close(fd);
    }),
  ];
}
