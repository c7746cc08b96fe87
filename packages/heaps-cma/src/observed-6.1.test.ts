// The 6.1 CMA heap ("reserved") against what Linux 6.1.176 answered: every case is read from
// linux-6.1-observed.json (`heaps.reserved`, `heap_discovery`), none is written out here.

import { readFileSync } from "node:fs";
import { allocFromHeap, createKernel, errnoOf, type Kernel, type Process } from "@dmabuf/core";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_HEAP_IOCTL_ALLOC,
  decodeDmaHeapAllocationData,
  encodeDmaBufSync,
  encodeDmaHeapAllocationData,
  F_GETFD,
  F_GETFL,
  FD_CLOEXEC,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  SEEK_END,
} from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { CmaHeap } from "./index.js";

/** One observed syscall outcome. */
interface Outcome {
  ret?: number;
  ok?: boolean;
  errno: string | null;
}
type Cases<T> = Record<string, T>;
interface AllocLength extends Outcome {
  len: number | string;
  size_via_seek_end?: number;
  len_field_after?: number;
  fd_field_set?: boolean;
}
interface FcntlFlags {
  f_getfl_octal: string;
  fd_cloexec: boolean;
}
interface FdFlagsCase extends Outcome {
  fd_flags: string;
  fcntl?: FcntlFlags;
  fdinfo_flags?: string;
  mmap_shared_read?: Outcome;
  mmap_shared_read_write?: Outcome;
  sync_rw_start?: Outcome;
  set_name?: Outcome;
}
interface Observed {
  heap_discovery: {
    dev_dma_heap: string[];
    sysfs: Record<string, { dev: string; uevent: string }>;
  };
  heaps: {
    reserved: {
      device: { stat: { st_mode_octal: string; st_rdev_major: number; st_rdev_minor: number } };
      alloc_lengths: Cases<AllocLength | number> & { cma_total_bytes: number };
      alloc_fd_flags: Cases<FdFlagsCase>;
      alloc_heap_flags: Cases<Outcome & { heap_flags: string }>;
      alloc_fd_field_nonzero: Cases<Outcome>;
      /** The buffer's fd section: see packages/testing/src/oracle-dmabuf-fd.test.ts. */
      dmabuf: { exporter: string };
    };
  };
}

// packages/heaps-cma/src → the repository's parent holds shared/ (as CI checks it out too).
const observed = JSON.parse(
  readFileSync(new URL("../../../fixtures/linux-6.1-observed.json", import.meta.url), "utf8"),
) as Observed;
const reserved = observed.heaps.reserved;
const HEAP = reserved.dmabuf.exporter;
const CMA_BYTES = reserved.alloc_lengths.cma_total_bytes;

/** The observed machine: 6.1, `cma=64M`, the system heap registered before the CMA heap. */
function boot(): { kernel: Kernel; proc: Process } {
  const kernel = createKernel({
    ram: "1GiB",
    profile: "6.1",
    cma: { size: CMA_BYTES },
    plugins: [SystemHeap, CmaHeap],
  });
  return { kernel, proc: kernel.spawn({ name: "probe" }) };
}

const hex = (s: string): bigint => BigInt(s);
const octal = (s: string): number => Number.parseInt(s, 8);
/** The observed errno of an outcome, null for success. */
const expected = (o: Outcome): string | null => o.errno;

describe("heap discovery (observed heap_discovery, device)", () => {
  it("lists the heaps and their device numbers as 6.1 did", () => {
    const { proc } = boot();
    expect(proc.readdir("/dev/dma_heap")).toEqual(observed.heap_discovery.dev_dma_heap);
    for (const [name, files] of Object.entries(observed.heap_discovery.sysfs)) {
      expect(proc.readFile(`/sys/class/dma_heap/${name}/dev`)).toBe(files.dev);
      expect(proc.readFile(`/sys/class/dma_heap/${name}/uevent`)).toBe(files.uevent);
    }
    const fd = proc.open(`/dev/dma_heap/${HEAP}`, O_RDWR);
    const st = proc.fstat(fd);
    const want = reserved.device.stat;
    expect([st.mode, st.rdevMajor, st.rdevMinor]).toEqual([
      octal(want.st_mode_octal),
      want.st_rdev_major,
      want.st_rdev_minor,
    ]);
  });
});

describe("ALLOC lengths (observed alloc_lengths)", () => {
  const cases = Object.entries(reserved.alloc_lengths).filter(
    (e): e is [string, AllocLength] => typeof e[1] === "object",
  );
  it.each(cases)("%s", (_name, c) => {
    const { kernel, proc } = boot();
    const heapFd = proc.open(`/dev/dma_heap/${HEAP}`, O_RDWR);
    const arg = encodeDmaHeapAllocationData({ len: BigInt(c.len), fdFlags: O_RDWR | O_CLOEXEC });
    const before = kernel.snapshot();
    const got = errnoOf(() => proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg));
    expect(got).toBe(expected(c));
    const out = decodeDmaHeapAllocationData(arg);
    if (got !== null) {
      expect(kernel.snapshot()).toEqual(before);
      return;
    }
    expect(out.len).toBe(BigInt(c.len_field_after as number));
    expect(out.fd > 0).toBe(c.fd_field_set);
    expect(proc.lseek(out.fd, 0, SEEK_END)).toBe(c.size_via_seek_end);
  });

  it("the whole area fits exactly once, one page more never", () => {
    const { proc } = boot();
    const fd = allocFromHeap(proc, HEAP, CMA_BYTES);
    expect(errnoOf(() => allocFromHeap(proc, HEAP, 4096))).toBe("ENOMEM");
    proc.close(fd);
    expect(proc.lseek(allocFromHeap(proc, HEAP, CMA_BYTES), 0, SEEK_END)).toBe(CMA_BYTES);
  });
});

describe("ALLOC fd_flags (observed alloc_fd_flags)", () => {
  it.each(Object.entries(reserved.alloc_fd_flags))("%s", (_name, c) => {
    const { proc } = boot();
    const fdFlags = Number(hex(c.fd_flags));
    let fd = -1;
    const got = errnoOf(() => {
      fd = allocFromHeap(proc, HEAP, 4096, { fdFlags });
    });
    expect(got).toBe(expected(c));
    if (got !== null) return;
    const fcntl = c.fcntl as FcntlFlags;
    expect(proc.fcntl(fd, F_GETFL)).toBe(octal(fcntl.f_getfl_octal));
    expect(proc.fcntl(fd, F_GETFD) === FD_CLOEXEC).toBe(fcntl.fd_cloexec);
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toContain(`flags:\t${c.fdinfo_flags}\n`);
    const outcomes = {
      mmap_shared_read: () => proc.mmap(fd, 4096, PROT_READ, MAP_SHARED),
      mmap_shared_read_write: () => proc.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED),
      sync_rw_start: () => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(3)),
      set_name: () => proc.ioctl(fd, 0x40086201, "probe"),
    };
    for (const [what, call] of Object.entries(outcomes)) {
      const want = c[what as keyof typeof outcomes] as Outcome;
      expect(errnoOf(call), what).toBe(expected(want));
    }
  });
});

describe("ALLOC heap_flags and the fd field (observed alloc_heap_flags, alloc_fd_field_nonzero)", () => {
  it.each(Object.entries(reserved.alloc_heap_flags))("heap_flags %s", (_name, c) => {
    const { proc } = boot();
    const heapFlags = hex(c.heap_flags);
    expect(errnoOf(() => allocFromHeap(proc, HEAP, 4096, { heapFlags }))).toBe(expected(c));
  });

  it.each(Object.entries(reserved.alloc_fd_field_nonzero))("%s", (name, c) => {
    const { proc } = boot();
    const heapFd = proc.open(`/dev/dma_heap/${HEAP}`, O_RDWR);
    const fd = name === "fd_1" ? 1 : 0xffffffff;
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fd, fdFlags: O_RDWR });
    expect(errnoOf(() => proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg))).toBe(expected(c));
  });
});

// The buffer's own fd (heaps.reserved.dmabuf: fd_basics, sync_ioctl, set_name, mmap — with
// the CMA heap's lazy faults, mremap growth and madvise — poll, sync_file) is replayed for every
// exporter in packages/testing/src/oracle-dmabuf-fd.test.ts.
