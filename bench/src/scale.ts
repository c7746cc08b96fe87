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
import type { RatioLine } from "./measure.js";

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

/** Median ns per call of `fn`, rounds of the two cases interleaved. */
function compare(
  small: () => void,
  large: () => void,
  iterations: number,
  rounds = 9,
): { small: number; large: number; spread: number } {
  const s: number[] = [];
  const l: number[] = [];
  const time = (fn: () => void): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    return Number(process.hrtime.bigint() - t0) / iterations;
  };
  time(small);
  time(large);
  for (let r = 0; r < rounds; r++) {
    s.push(time(small));
    l.push(time(large));
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
  const ratios = l.map((v, i) => v / (s[i] as number)).sort((x, y) => x - y);
  return {
    small: med(s),
    large: med(l),
    spread: (ratios[ratios.length - 1] as number) - (ratios[0] as number),
  };
}

function line(what: string, r: { small: number; large: number; spread: number }): RatioLine {
  const ratio = r.large / r.small;
  return {
    name: `${what} at ${LARGE / 1000}k live vs ${SMALL} (${(r.large / 1000).toFixed(1)} vs ${(r.small / 1000).toFixed(1)} µs, ±${(r.spread / 2).toFixed(2)})`,
    ratio,
    goal: `<= ${GOAL}`,
    ok: ratio <= GOAL,
  };
}

/** dup + close of one fd while `live` other fds are open. */
export function benchScaleDup(): RatioLine {
  const a = populated(SMALL, false);
  const b = populated(LARGE, false);
  const op = (p: { proc: Process; heapFd: number }) => () => p.proc.close(p.proc.dup(p.heapFd));
  return line("dup+close", compare(op(a), op(b), 5000));
}

/** readlink of /proc/self/fd/N (N the newest fd) while `live` fds are open. */
export function benchScaleProcFd(): RatioLine {
  const a = populated(SMALL, false);
  const b = populated(LARGE, false);
  const op = (p: { proc: Process; heapFd: number }) => {
    const path = `/proc/self/fd/${p.proc.fds().at(-1)}`;
    return () => {
      p.proc.readlink(path);
    };
  };
  return line("readlink /proc/self/fd/N", compare(op(a), op(b), 5000));
}

/** alloc → mmap → SYNC start/end → munmap → close of 4 KiB with `live` mapped buffers alive. */
export function benchScaleCycle(): RatioLine {
  const a = populated(SMALL, true);
  const b = populated(LARGE, true);
  const op = (p: { proc: Process; heapFd: number }) => () => {
    const fd = allocFromHeap(p.proc, p.heapFd, 4096);
    const m = p.proc.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
    syncBuffer(p.proc, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
    syncBuffer(p.proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
    p.proc.munmap(m);
    p.proc.close(fd);
  };
  return line("alloc→mmap→SYNC→munmap→close", compare(op(a), op(b), 2000));
}

/** Every scale row. */
export function benchScale(): RatioLine[] {
  return [benchScaleDup(), benchScaleProcFd(), benchScaleCycle()];
}
