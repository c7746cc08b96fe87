// End-to-end tests from user space: open /dev/dma_heap/system, ALLOC, mmap, SYNC, close.

import { createKernel, errnoOf, type Process } from "@dmabuf/core";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_RW,
  DMA_HEAP_IOCTL_ALLOC,
  decodeDmaHeapAllocationData,
  encodeDmaBufSync,
  encodeDmaHeapAllocationData,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { SystemHeap } from "./index.js";

const MiB = 1024 * 1024;
const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;

/** Whether every byte is `value` (compared natively, not byte by byte in JavaScript). */
function allBytes(bytes: Uint8Array, value: number): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.equals(Buffer.alloc(bytes.length, value));
}

/** DMA_HEAP_IOCTL_ALLOC on `heapFd`; returns the new dma-buf fd. */
function allocFd(proc: Process, heapFd: number, len: number): number {
  const data = encodeDmaHeapAllocationData({ len: BigInt(len), fdFlags: O_RDWR | O_CLOEXEC });
  expect(proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, data)).toBe(0);
  return decodeDmaHeapAllocationData(data).fd;
}

/** SYNC START or END (read/write) on a dma-buf fd. */
function sync(proc: Process, fd: number, end: boolean): void {
  const flags = DMA_BUF_SYNC_RW | (end ? DMA_BUF_SYNC_END : 0);
  proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(flags));
}

describe("/dev/dma_heap/system", () => {
  it("allocates a zeroed buffer fd that is mapped, written and freed again", () => {
    const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap] });
    const proc = kernel.spawn({ name: "app" });
    const before = kernel.snapshot();
    const heapFd = proc.open("/dev/dma_heap/system", O_RDWR);
    const fd = allocFd(proc, heapFd, 4096);
    expect(fd).toBe(heapFd + 1);
    expect(proc.isCloexec(fd)).toBe(true);
    expect(proc.fstat(fd).size).toBe(PAGE);
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toContain("exp_name:\tsystem\n");
    const m = proc.mmap(fd, PAGE, RW, MAP_SHARED);
    sync(proc, fd, false);
    expect(allBytes(m.read(), 0)).toBe(true);
    m.fill(0xff);
    sync(proc, fd, true);
    proc.munmap(m);
    proc.close(fd);
    proc.close(heapFd);
    expect(kernel.snapshot()).toEqual(before);
  });

  it.each([PAGE, MiB])("hands out zeroed %d-byte buffers after 32 were dirtied", (len) => {
    // The selftest's test_alloc_zeroed: fill 32 buffers, close them, check 32 new ones.
    const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap] });
    const proc = kernel.spawn();
    const heapFd = proc.open("/dev/dma_heap/system", O_RDWR);
    const fds: number[] = [];
    for (let i = 0; i < 32; i++) {
      const fd = allocFd(proc, heapFd, len);
      const m = proc.mmap(fd, len, RW, MAP_SHARED);
      sync(proc, fd, false);
      m.fill(0xff);
      sync(proc, fd, true);
      proc.munmap(m);
      fds.push(fd);
    }
    for (const fd of fds) proc.close(fd);
    for (let i = 0; i < 32; i++) {
      const fd = allocFd(proc, heapFd, len);
      const m = proc.mmap(fd, len, RW, MAP_SHARED);
      sync(proc, fd, false);
      expect(allBytes(m.read(), 0)).toBe(true);
      sync(proc, fd, true);
      proc.munmap(m);
    }
  });

  it("fails the ioctl with EINTR, installing no fd, when the caller is killed mid-allocation", () => {
    const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap] });
    const proc = kernel.spawn();
    const heapFd = proc.open("/dev/dma_heap/system", O_RDWR);
    kernel.plugin(SystemHeap).afterChunk = (i) => {
      if (i === 1) proc.kill();
    };
    const before = kernel.snapshot();
    const data = encodeDmaHeapAllocationData({ len: BigInt(4 * MiB), fdFlags: O_RDWR });
    expect(errnoOf(() => proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, data))).toBe("EINTR");
    expect(decodeDmaHeapAllocationData(data).fd).toBe(0);
    expect(kernel.snapshot()).toEqual(before);
  });

  it("fails the ioctl with ENOMEM when the request exceeds free memory", () => {
    const kernel = createKernel({ ram: "4MiB", plugins: [SystemHeap] });
    const proc = kernel.spawn();
    const heapFd = proc.open("/dev/dma_heap/system", O_RDWR);
    const before = kernel.snapshot();
    const data = encodeDmaHeapAllocationData({ len: BigInt(4 * MiB + PAGE), fdFlags: O_RDWR });
    expect(errnoOf(() => proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, data))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    // All of RAM still fits in one go.
    expect(allocFd(proc, heapFd, 4 * MiB)).toBe(heapFd + 1);
  });
});
