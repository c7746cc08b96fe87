// The kernel's dmabuf-heap.c selftest re-expressed in TypeScript, step for step, for the bench.
//
// The vitest re-expression (@dmabuf/testing's describeDmabufHeapsSelftest) boots a kernel per
// case and repeats the fill step in the zero-check case, so it does more work than the C
// program. This one does exactly what the C program does, in its order, in one process: the
// same heaps (readdir of /dev/dma_heap), sizes (1 MiB, 32 × 4 KiB, 32 × 1 MiB), syncs, vgem
// lookup by DRM_IOCTL_VERSION over /dev/dri/card*, PRIME import and GEM close, compat structs
// and error cases, and it checks every byte of every zero-checked buffer (one load of the whole
// mapping, then a byte loop, as TypeScript code reads a mapping).

import type { Kernel, Process } from "@dmabuf/core";
import {
  _IOWR,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START,
  DMA_HEAP_IOC_MAGIC,
  DMA_HEAP_IOCTL_ALLOC,
  DRM_IOCTL_GEM_CLOSE,
  DRM_IOCTL_PRIME_FD_TO_HANDLE,
  DRM_IOCTL_VERSION,
  DRM_VERSION_LAYOUT,
  encodeDmaBufSync,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  view,
} from "@dmabuf/core/uapi";

const ONE_MEG = 1024 * 1024;

/** What one run found: passes and failures, as the selftest's ksft counters. */
export interface SelftestTally {
  pass: number;
  fail: number;
  skip: number;
}

const sync = (proc: Process, fd: number, startStop: number) =>
  proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(startStop | DMA_BUF_SYNC_RW));

/** dmabuf_heap_alloc_fdflags: the 24-byte ALLOC; returns the fd, or -errno. */
function alloc(proc: Process, heapFd: number, len: number, fdFlags: number, heapFlags = 0): number {
  const arg = new Uint8Array(24);
  const v = view(arg);
  v.setBigUint64(0, BigInt(len), true);
  v.setUint32(12, fdFlags >>> 0, true);
  v.setBigUint64(16, BigInt(heapFlags), true);
  try {
    proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg);
  } catch {
    return -1;
  }
  return v.getUint32(8, true);
}

/** open_vgem: the first /dev/dri/cardN whose driver is "vgem", or -1. */
function openVgem(proc: Process): number {
  for (let i = 0; i < 16; i++) {
    let fd: number;
    try {
      fd = proc.open(`/dev/dri/card${i}`, O_RDWR);
    } catch {
      break;
    }
    const name = new Uint8Array(DRM_VERSION_LAYOUT.size + 5);
    const v = view(name);
    v.setBigUint64(DRM_VERSION_LAYOUT.nameLen, 4n, true);
    v.setBigUint64(DRM_VERSION_LAYOUT.name, BigInt(DRM_VERSION_LAYOUT.size), true);
    try {
      proc.ioctl(fd, DRM_IOCTL_VERSION, name);
    } catch {
      proc.close(fd);
      continue;
    }
    const text = new TextDecoder().decode(name.subarray(DRM_VERSION_LAYOUT.size, -1));
    if (text === "vgem") return fd;
    proc.close(fd);
  }
  return -1;
}

function testAllocAndImport(proc: Process, heap: string, t: SelftestTally): void {
  const heapFd = proc.open(`/dev/dma_heap/${heap}`, O_RDWR);
  const fd = alloc(proc, heapFd, ONE_MEG, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    t.fail++;
    return;
  }
  const p = proc.mmap(fd, ONE_MEG, PROT_READ | PROT_WRITE, MAP_SHARED);
  sync(proc, fd, DMA_BUF_SYNC_START);
  p.fill(1, 0, ONE_MEG / 2);
  p.fill(0, ONE_MEG / 2, ONE_MEG / 2);
  sync(proc, fd, DMA_BUF_SYNC_END);
  const importer = openVgem(proc);
  let handle = 0;
  if (importer < 0) t.skip++;
  else {
    const arg = new Uint8Array(12);
    view(arg).setInt32(8, fd, true);
    proc.ioctl(importer, DRM_IOCTL_PRIME_FD_TO_HANDLE, arg);
    handle = view(arg).getUint32(0, true);
    t.pass++;
  }
  sync(proc, fd, DMA_BUF_SYNC_START);
  p.fill(0xff, 0, ONE_MEG);
  sync(proc, fd, DMA_BUF_SYNC_END);
  if (importer >= 0) {
    const arg = new Uint8Array(8);
    view(arg).setUint32(0, handle, true);
    proc.ioctl(importer, DRM_IOCTL_GEM_CLOSE, arg);
  }
  // As the C program: on success it returns without munmap or close.
  t.pass++;
}

function testAllocZeroed(proc: Process, heap: string, size: number, t: SelftestTally): void {
  const heapFd = proc.open(`/dev/dma_heap/${heap}`, O_RDWR);
  const fds: number[] = [];
  for (let i = 0; i < 32; i++) {
    const fd = alloc(proc, heapFd, size, O_RDWR | O_CLOEXEC);
    const p = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
    sync(proc, fd, DMA_BUF_SYNC_START);
    p.fill(0xff, 0, size);
    sync(proc, fd, DMA_BUF_SYNC_END);
    proc.munmap(p);
    fds.push(fd);
  }
  for (const fd of fds) proc.close(fd);
  t.pass++;
  let i = 0;
  outer: for (; i < 32; i++) {
    const fd = alloc(proc, heapFd, size, O_RDWR | O_CLOEXEC);
    fds[i] = fd;
    const p = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
    sync(proc, fd, DMA_BUF_SYNC_START);
    const c = p.read(0, size);
    for (let j = 0; j < size; j++) {
      if (c[j] !== 0) {
        sync(proc, fd, DMA_BUF_SYNC_END);
        proc.munmap(p);
        break outer;
      }
    }
    sync(proc, fd, DMA_BUF_SYNC_END);
    proc.munmap(p);
  }
  if (i === 32) t.pass++;
  else t.fail++;
  for (let k = 0; k < i; k++) proc.close(fds[k] as number);
  proc.close(heapFd);
}

function testAllocCompat(proc: Process, heap: string, t: SelftestTally): void {
  const heapFd = proc.open(`/dev/dma_heap/${heap}`, O_RDWR);
  for (const size of [16, 48]) {
    const arg = new Uint8Array(size);
    const v = view(arg);
    v.setBigUint64(0, BigInt(ONE_MEG), true);
    v.setUint32(12, O_RDWR | O_CLOEXEC, true);
    if (size === 48) {
      v.setBigUint64(24, 0xffffffffn, true);
      v.setBigUint64(32, 0x88888888n, true);
      v.setBigUint64(40, 0x11111111n, true);
    }
    try {
      proc.ioctl(heapFd, _IOWR(DMA_HEAP_IOC_MAGIC, 0, size), arg);
      proc.close(v.getUint32(8, true));
      t.pass++;
    } catch {
      t.fail++;
    }
  }
  proc.close(heapFd);
}

function testAllocErrors(proc: Process, heap: string, t: SelftestTally): void {
  const heapFd = proc.open(`/dev/dma_heap/${heap}`, O_RDWR);
  const expectError = (r: number) => {
    if (r < 0) t.pass++;
    else t.fail++;
  };
  expectError(alloc(proc, 0, ONE_MEG, O_RDWR | O_CLOEXEC, 0x111111));
  expectError(alloc(proc, heapFd, ONE_MEG, O_RDWR | O_CLOEXEC, 0x111111));
  expectError(alloc(proc, heapFd, ONE_MEG, ~(O_RDWR | O_CLOEXEC), 0));
  proc.close(heapFd);
}

/**
 * Runs the selftest's `main` on `kernel` in a new process named "dmabuf-heap": every heap of
 * /dev/dma_heap through the five test functions, then the process exits.
 * @returns the tally of results (11 passes per heap with vgem present)
 */
export function runDmabufHeapSelftestTs(kernel: Kernel): SelftestTally {
  const proc = kernel.spawn({ name: "dmabuf-heap", stdio: true });
  const t: SelftestTally = { pass: 0, fail: 0, skip: 0 };
  for (const heap of proc.readdir("/dev/dma_heap")) {
    testAllocAndImport(proc, heap, t);
    testAllocZeroed(proc, heap, 4096, t);
    testAllocZeroed(proc, heap, ONE_MEG, t);
    testAllocCompat(proc, heap, t);
    testAllocErrors(proc, heap, t);
  }
  proc.exit();
  return t;
}
