// Tests of the heap fd: the size-tolerant DMA_HEAP_IOCTL_ALLOC and the device node's file ops.

import { describe, expect, it } from "vitest";
import type { DmaBuf } from "../dma-buf/dma-buf.js";
import type { DmaBufOps } from "../dma-buf/ops.js";
import type { ErrnoCode } from "../errors/errno.js";
import { KernelError } from "../errors/kernel-error.js";
import { createKernel, type Kernel } from "../kernel.js";
import type { HeapHost } from "../plugin/hosts.js";
import { heap } from "../plugin/metadata.js";
import { DMA_BUF_IOCTL_SYNC, DMA_BUF_SYNC_RW, encodeDmaBufSync } from "../uapi/dma-buf.js";
import {
  DMA_HEAP_IOCTL_ALLOC,
  decodeDmaHeapAllocationData,
  encodeDmaHeapAllocationData,
} from "../uapi/dma-heap.js";
import {
  F_GETFD,
  F_GETFL,
  FD_CLOEXEC,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  SEEK_END,
  SEEK_SET,
} from "../uapi/fcntl.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import type { PollFd, Process } from "../vfs/process.js";

const PS = 4096;
const U64_MAX = (1n << 64n) - 1n;
const NODE = "/dev/dma_heap/test_mem";

interface TestBuffer {
  readonly pfns: number[];
  releases: number;
}

/** A minimal heap: single zeroed pages from the page allocator, mmap by remapping each page. */
@heap({ name: "test_mem" })
class TestHeap {
  /** Every allocate call, as the heap received it. */
  readonly calls: { len: number; fdFlags: number; heapFlags: bigint }[] = [];
  /** Make allocate fail with this errno. */
  failWith: ErrnoCode | undefined;
  readonly #ops: DmaBufOps<TestBuffer>;

  constructor(private readonly kernel: HeapHost) {
    const buddy = kernel.buddy;
    this.#ops = {
      mapDmaBuf: () => null,
      unmapDmaBuf: () => {},
      release(buf) {
        buf.priv.releases++;
        for (const pfn of buf.priv.pfns) buddy.freePages(pfn, 0);
      },
      mmap(buf, vma) {
        for (let i = 0; i < vma.pageCount; i++) {
          vma.remapPfnRange(vma.start + i * PS, buf.priv.pfns[vma.pgoff + i] as number, PS);
        }
      },
    };
  }

  allocate(h: { name: string }, len: number, fdFlags: number, heapFlags: bigint): DmaBuf {
    this.calls.push({ len, fdFlags, heapFlags });
    if (this.failWith) throw new KernelError(this.failWith, "test_heap_allocate");
    const pfns: number[] = [];
    for (let i = 0; i < len / PS; i++) {
      const pfn = this.kernel.buddy.allocPages(0, { zero: true });
      if (pfn < 0) {
        for (const p of pfns) this.kernel.buddy.freePages(p, 0);
        throw new KernelError("ENOMEM", "test_heap_allocate");
      }
      pfns.push(pfn);
    }
    return this.kernel.dmaBuf.export({
      expName: h.name,
      ops: this.#ops,
      size: len,
      flags: fdFlags,
      priv: { pfns, releases: 0 },
    });
  }
}

interface Rig {
  kernel: Kernel;
  heap: TestHeap;
  proc: Process;
  /** The heap fd (O_RDWR | O_CLOEXEC). */
  hfd: number;
}

function boot(profile: "6.18" | "6.1" = "6.18"): Rig {
  const kernel = createKernel({ ram: "64MiB", profile, plugins: [TestHeap] });
  const proc = kernel.spawn({ name: "alloc" });
  const hfd = proc.open(NODE, O_RDWR | O_CLOEXEC);
  return { kernel, heap: kernel.plugin(TestHeap), proc, hfd };
}

/** Asserts that `fn` throws a KernelError with `code`; returns it. */
function expectErrno(fn: () => unknown, code: ErrnoCode): KernelError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KernelError);
  expect((caught as KernelError).code).toBe(code);
  return caught as KernelError;
}

/** A struct of `size` bytes: the 24-byte allocation data, then `fill` bytes. */
function struct(
  size: number,
  data: Parameters<typeof encodeDmaHeapAllocationData>[0],
  fill = 0,
): Uint8Array {
  const b = new Uint8Array(size).fill(fill);
  b.set(encodeDmaHeapAllocationData(data).subarray(0, Math.min(size, 24)));
  return b;
}

/** fds of `proc` that were not in `before`. */
function newFds(proc: Process, before: number[]): number[] {
  return proc.fds().filter((fd) => !before.includes(fd));
}

/** The size a dma-buf fd reports (lseek SEEK_END). */
function sizeOf(proc: Process, fd: number): number {
  return proc.lseek(fd, 0, SEEK_END);
}

/** Runs ALLOC with the standard struct; returns the fd the struct reports. */
function alloc(rig: Rig, len: bigint, fdFlags = O_RDWR | O_CLOEXEC, heapFlags = 0n): number {
  const arg = encodeDmaHeapAllocationData({ len, fdFlags, heapFlags });
  expect(rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, arg)).toBe(0);
  return decodeDmaHeapAllocationData(arg).fd;
}

/** Asserts a failed ALLOC left nothing behind: same fds, pages, buffers and files. */
function expectNothingAllocated(rig: Rig, fn: () => unknown, code: ErrnoCode): void {
  const fds = rig.proc.fds();
  const before = rig.kernel.snapshot();
  expectErrno(fn, code);
  expect(rig.proc.fds()).toEqual(fds);
  expect(rig.kernel.snapshot()).toEqual(before);
}

describe("DMA_HEAP_IOCTL_ALLOC: the command word", () => {
  it("the real command (0xC0184800) allocates, reports the fd and calls allocate once", () => {
    const rig = boot();
    expect(DMA_HEAP_IOCTL_ALLOC).toBe(0xc0184800);
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR | O_CLOEXEC });
    expect(rig.proc.ioctl(rig.hfd, 0xc0184800, arg)).toBe(0);
    const out = decodeDmaHeapAllocationData(arg);
    expect(out).toEqual({ len: 4096n, fd: 1, fdFlags: O_RDWR | O_CLOEXEC, heapFlags: 0n });
    expect(sizeOf(rig.proc, 1)).toBe(4096);
    expect(rig.heap.calls).toEqual([{ len: 4096, fdFlags: 0x80002, heapFlags: 0n }]);
    const buf = rig.kernel.dmaBuf.fromFile(rig.proc.fileOf(1));
    expect(buf?.expName).toBe("test_mem");
    expect(rig.proc.fds()).toEqual([0, 1]);
  });

  it.each([
    ["nr 1", 0xc0184801],
    ["nr 255", 0xc01848ff],
    ["DMA_BUF_SET_NAME (nr 1)", 0x40086201],
    ["TCGETS", 0x5401],
    ["FIONREAD", 0x541b],
  ])("%s is EINVAL (not ENOTTY) and allocates nothing", (_what, cmd) => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR });
    const copy = arg.slice();
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, cmd, arg), "EINVAL");
    expect(arg).toEqual(copy);
    expect(rig.heap.calls).toEqual([]);
  });

  it.each([
    ["'X'", 0xc0185800],
    ["0", 0xc0180000],
    ["'b'", 0xc0186200],
  ])("any type byte with nr 0 is ALLOC (type %s)", (_what, cmd) => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR });
    expect(rig.proc.ioctl(rig.hfd, cmd, arg)).toBe(0);
    const fd = decodeDmaHeapAllocationData(arg).fd;
    expect(fd).toBe(1);
    expect(sizeOf(rig.proc, fd)).toBe(4096);
  });

  it("a 16-byte struct (no heap_flags) allocates and reports the fd", () => {
    const rig = boot();
    const arg = struct(16, { len: 4096n, fdFlags: O_RDWR });
    expect(rig.proc.ioctl(rig.hfd, 0xc0104800, arg)).toBe(0);
    expect(arg.length).toBe(16);
    const out = decodeDmaHeapAllocationData(arg);
    expect(out.fd).toBe(1);
    expect(out.fdFlags).toBe(O_RDWR);
    expect(sizeOf(rig.proc, 1)).toBe(4096);
    expect(rig.heap.calls[0]?.heapFlags).toBe(0n);
  });

  it("an 8-byte struct allocates but does not report the fd: an extra fd appears", () => {
    const rig = boot();
    const arg = struct(8, { len: 4096n });
    const copy = arg.slice();
    const before = rig.proc.fds();
    expect(rig.proc.ioctl(rig.hfd, 0xc0084800, arg)).toBe(0);
    expect(arg).toEqual(copy);
    const extra = newFds(rig.proc, before);
    expect(extra).toEqual([1]);
    expect(sizeOf(rig.proc, 1)).toBe(4096);
    expect(rig.proc.fcntl(1, F_GETFL)).toBe(O_RDONLY);
  });

  it.each([32, 48, 200])("a %d-byte struct keeps its trailing bytes unchanged", (size) => {
    const rig = boot();
    const arg = struct(size, { len: 8192n, fdFlags: O_RDWR }, 0xa5);
    expect(rig.proc.ioctl(rig.hfd, 0xc0004800 | (size << 16), arg)).toBe(0);
    const out = decodeDmaHeapAllocationData(arg);
    expect(out).toEqual({ len: 8192n, fd: 1, fdFlags: O_RDWR, heapFlags: 0n });
    expect(arg.subarray(24)).toEqual(new Uint8Array(size - 24).fill(0xa5));
    expect(sizeOf(rig.proc, 1)).toBe(8192);
  });

  it("a struct of size 0 is EINVAL (len reads as 0)", () => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len: 4096n });
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, 0xc0004800, arg), "EINVAL");
    expect(rig.heap.calls).toEqual([]);
  });

  it("direction write-only allocates without reporting the fd", () => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR });
    const copy = arg.slice();
    const before = rig.proc.fds();
    expect(rig.proc.ioctl(rig.hfd, 0x40184800, arg)).toBe(0);
    expect(arg).toEqual(copy);
    expect(newFds(rig.proc, before)).toEqual([1]);
    expect(rig.proc.fcntl(1, F_GETFL)).toBe(O_RDWR);
  });

  it("direction read-only is EINVAL: nothing is read, so len is 0", () => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len: 4096n });
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, 0x80184800, arg), "EINVAL");
  });

  it("_IO (no direction, no size) is EINVAL", () => {
    const rig = boot();
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, 0x4800, null), "EINVAL");
  });

  it.each([
    [BigInt(DMA_BUF_SYNC_RW), 4096],
    [4097n, 8192],
    [8193n, 12288],
  ])(
    "DMA_BUF_IOCTL_SYNC on a heap fd allocates len = the flags value (%d → %d bytes)",
    (flags, size) => {
      const rig = boot();
      const arg = encodeDmaBufSync(flags);
      const copy = arg.slice();
      const before = rig.proc.fds();
      expect(DMA_BUF_IOCTL_SYNC).toBe(0x40086200);
      expect(rig.proc.ioctl(rig.hfd, DMA_BUF_IOCTL_SYNC, arg)).toBe(0);
      expect(arg).toEqual(copy);
      expect(newFds(rig.proc, before)).toEqual([1]);
      expect(sizeOf(rig.proc, 1)).toBe(size);
      expect(rig.heap.calls).toEqual([{ len: size, fdFlags: 0, heapFlags: 0n }]);
    },
  );

  it("a NULL or too-short argument is EFAULT before anything is allocated", () => {
    const rig = boot();
    expectNothingAllocated(
      rig,
      () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, null),
      "EFAULT",
    );
    expectNothingAllocated(
      rig,
      () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, new Uint8Array(23)),
      "EFAULT",
    );
    expectNothingAllocated(
      rig,
      () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, "name"),
      "EFAULT",
    );
    expect(rig.heap.calls).toEqual([]);
  });

  it("EMFILE leaves nothing allocated: the buffer is released, no fd installed", () => {
    const rig = boot();
    rig.proc.rlimitNofile = 1;
    const arg = encodeDmaHeapAllocationData({ len: 3n * 4096n, fdFlags: O_RDWR });
    const copy = arg.slice();
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, arg), "EMFILE");
    expect(arg).toEqual(copy);
    expect(rig.heap.calls).toHaveLength(1);
    expect(rig.kernel.dmaBuf.list()).toEqual([]);
    expect(rig.kernel.buddy.freePageCount()).toBe(16384);
  });

  it("the heap's own error is returned and nothing stays allocated", () => {
    const rig = boot();
    rig.heap.failWith = "ENOMEM";
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR });
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, arg), "ENOMEM");
    expect(decodeDmaHeapAllocationData(arg).fd).toBe(0);
  });
});

describe("DMA_HEAP_IOCTL_ALLOC: the allocation data", () => {
  it.each([
    ["1", 1n],
    ["u32 max", 0xffffffffn],
  ])("a non-zero input fd (%s) is EINVAL", (_what, fd) => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR });
    new DataView(arg.buffer).setUint32(8, Number(fd), true);
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, arg), "EINVAL");
    expect(rig.heap.calls).toEqual([]);
  });

  it("every field is validated before the length and before the heap is asked", () => {
    const rig = boot();
    rig.heap.failWith = "ENOMEM";
    const huge = 1n << 60n;
    const cases = [
      { len: 4096n, fd: 3 },
      { len: huge, fd: 3, fdFlags: 0x802 },
      { len: huge, fdFlags: 0x802 },
      { len: huge, heapFlags: 1n },
      { len: 0n, fd: 3, fdFlags: 0xffffffff, heapFlags: U64_MAX },
    ];
    for (const c of cases) {
      const arg = encodeDmaHeapAllocationData(c);
      expectNothingAllocated(
        rig,
        () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, arg),
        "EINVAL",
      );
    }
    expect(rig.heap.calls).toEqual([]);
  });

  it.each([
    ["0", 0n],
    ["u64 max", U64_MAX],
    ["u64 max - 4094", U64_MAX - 4094n],
  ])("len %s is EINVAL (page-aligned to 0)", (_what, len) => {
    const rig = boot();
    expectNothingAllocated(
      rig,
      () =>
        rig.proc.ioctl(
          rig.hfd,
          DMA_HEAP_IOCTL_ALLOC,
          encodeDmaHeapAllocationData({ len, fdFlags: O_RDWR }),
        ),
      "EINVAL",
    );
    expect(rig.heap.calls).toEqual([]);
  });

  it.each([
    [1n, 4096],
    [4095n, 4096],
    [4096n, 4096],
    [4097n, 8192],
    [8191n, 8192],
    [65536n, 65536],
    [1048576n, 1048576],
    [1048577n, 1052672],
  ])("len %d gives a %d-byte buffer; the len field is left as given", (len, size) => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len, fdFlags: O_RDWR });
    expect(rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, arg)).toBe(0);
    const out = decodeDmaHeapAllocationData(arg);
    expect(out.len).toBe(len);
    expect(out.fd).toBe(1);
    expect(sizeOf(rig.proc, out.fd)).toBe(size);
    expect(rig.proc.fstat(out.fd).size).toBe(size);
    expect(rig.heap.calls).toEqual([{ len: size, fdFlags: O_RDWR, heapFlags: 0n }]);
  });

  it("a length no memory can hold fails with ENOMEM and leaves nothing allocated", () => {
    const rig = boot();
    const arg = encodeDmaHeapAllocationData({ len: 1n << 60n, fdFlags: O_RDWR });
    expectNothingAllocated(rig, () => rig.proc.ioctl(rig.hfd, DMA_HEAP_IOCTL_ALLOC, arg), "ENOMEM");
  });

  // linux-6.1-observed.json heaps.system.alloc_fd_flags
  it.each([
    ["O_RDONLY", O_RDONLY, 0, false, "00", true, false],
    ["O_WRONLY", O_WRONLY, 1, false, "01", false, false],
    ["O_RDWR", O_RDWR, 2, false, "02", true, true],
    ["O_ACCMODE (3)", 3, 3, false, "03", false, false],
    ["O_CLOEXEC only", O_CLOEXEC, 0, true, "02000000", true, false],
    ["O_RDWR|O_CLOEXEC", O_RDWR | O_CLOEXEC, 2, true, "02000002", true, true],
  ])(
    "fd_flags %s: F_GETFL %d, cloexec %s, fdinfo flags %s",
    (_what, fdFlags, getfl, cloexec, fdinfoFlags, mapRead, mapReadWrite) => {
      const rig = boot();
      const fd = alloc(rig, 4096n, fdFlags);
      expect(fd).toBe(1);
      expect(rig.proc.fcntl(fd, F_GETFL)).toBe(getfl);
      expect(rig.proc.fcntl(fd, F_GETFD)).toBe(cloexec ? FD_CLOEXEC : 0);
      const ino = rig.proc.fstat(fd).ino;
      expect(rig.proc.readFile(`/proc/self/fdinfo/${fd}`)).toBe(
        `pos:\t0\nflags:\t${fdinfoFlags}\nmnt_id:\t9\nino:\t${ino}\nsize:\t4096\ncount:\t1\nexp_name:\ttest_mem\n`,
      );
      const tryMap = (prot: number) => {
        try {
          rig.proc.munmap(rig.proc.mmap(fd, PS, prot, MAP_SHARED));
          return null;
        } catch (e) {
          if (e instanceof KernelError) return e.code;
          throw e;
        }
      };
      expect(tryMap(PROT_READ)).toBe(mapRead ? null : "EACCES");
      expect(tryMap(PROT_READ | PROT_WRITE)).toBe(mapReadWrite ? null : "EACCES");
      expect(rig.proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(DMA_BUF_SYNC_RW))).toBe(0);
      expect(rig.proc.ioctl(fd, 0x40086201, "renamed")).toBe(0);
    },
  );

  it.each([
    ["O_RDWR|O_NONBLOCK", 0x802],
    ["O_RDWR|O_APPEND", 0x402],
    ["O_RDWR|O_SYNC", 0x101002],
    ["O_RDWR|O_TRUNC", 0x202],
    ["bit 31", 0x80000000],
    ["all bits", 0xffffffff],
  ])("fd_flags %s is EINVAL", (_what, fdFlags) => {
    const rig = boot();
    expectNothingAllocated(
      rig,
      () =>
        rig.proc.ioctl(
          rig.hfd,
          DMA_HEAP_IOCTL_ALLOC,
          encodeDmaHeapAllocationData({ len: 4096n, fdFlags }),
        ),
      "EINVAL",
    );
  });

  it.each([
    ["bit 0", 1n],
    ["bit 32", 1n << 32n],
    ["bit 63", 1n << 63n],
  ])("heap_flags %s is EINVAL", (_what, heapFlags) => {
    const rig = boot();
    expectNothingAllocated(
      rig,
      () =>
        rig.proc.ioctl(
          rig.hfd,
          DMA_HEAP_IOCTL_ALLOC,
          encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR, heapFlags }),
        ),
      "EINVAL",
    );
    expect(rig.heap.calls).toEqual([]);
  });

  it("heap_flags 0 allocates", () => {
    const rig = boot();
    expect(alloc(rig, 4096n, O_RDWR, 0n)).toBe(1);
  });
});

describe("the heap device node", () => {
  it.each(["6.18", "6.1"] as const)("fstat of an opened node (%s)", (profile) => {
    const rig = boot(profile);
    const st = rig.proc.fstat(rig.hfd);
    expect(st).toEqual({
      devMajor: 0,
      devMinor: 5,
      ino: rig.kernel.heaps.find("test_mem")?.ino,
      mode: 0o020600,
      nlink: 1,
      uid: 0,
      gid: 0,
      rdevMajor: 254,
      rdevMinor: 0,
      size: 0,
      blksize: 4096,
      blocks: 0,
    });
  });

  it("fcntl, readlink and fdinfo of an O_RDWR|O_CLOEXEC open", () => {
    const rig = boot();
    const { proc, hfd } = rig;
    expect(proc.fcntl(hfd, F_GETFL)).toBe(0o100002);
    expect(proc.fcntl(hfd, F_GETFD)).toBe(FD_CLOEXEC);
    expect(proc.readlink(`/proc/self/fd/${hfd}`)).toBe(NODE);
    const ino = proc.fstat(hfd).ino;
    expect(proc.readFile(`/proc/${proc.pid}/fdinfo/${hfd}`)).toBe(
      `pos:\t0\nflags:\t02100002\nmnt_id:\t21\nino:\t${ino}\n`,
    );
  });

  it.each([
    ["O_RDONLY", O_RDONLY],
    ["O_WRONLY", O_WRONLY],
    ["O_RDWR", O_RDWR],
  ])("any open mode (%s) can allocate", (_what, mode) => {
    const rig = boot();
    const fd = rig.proc.open(NODE, mode);
    expect(fd).toBe(1);
    const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR });
    expect(rig.proc.ioctl(fd, DMA_HEAP_IOCTL_ALLOC, arg)).toBe(0);
    expect(decodeDmaHeapAllocationData(arg).fd).toBe(2);
  });

  it("lseek is ESPIPE", () => {
    const { proc, hfd } = boot();
    expectErrno(() => proc.lseek(hfd, 0, SEEK_END), "ESPIPE");
    expectErrno(() => proc.lseek(hfd, 0, SEEK_SET), "ESPIPE");
  });

  it("read and write are EINVAL; EBADF when the open mode forbids the access", () => {
    const rig = boot();
    const { proc, hfd } = rig;
    expectErrno(() => proc.read(hfd, 16), "EINVAL");
    expectErrno(() => proc.write(hfd, new Uint8Array(16)), "EINVAL");
    const ro = proc.open(NODE, O_RDONLY);
    const wo = proc.open(NODE, O_WRONLY);
    expectErrno(() => proc.write(ro, new Uint8Array(1)), "EBADF");
    expectErrno(() => proc.read(wo, 1), "EBADF");
    expectErrno(() => proc.read(ro, 1), "EINVAL");
  });

  it("mmap is ENODEV; EACCES first when the open mode forbids the mapping", () => {
    const rig = boot();
    const { proc, hfd } = rig;
    expectErrno(() => proc.mmap(hfd, PS, PROT_READ, MAP_SHARED), "ENODEV");
    expectErrno(() => proc.mmap(hfd, PS, PROT_READ | PROT_WRITE, MAP_SHARED), "ENODEV");
    const wo = proc.open(NODE, O_WRONLY);
    expectErrno(() => proc.mmap(wo, PS, PROT_READ, MAP_SHARED), "EACCES");
    const ro = proc.open(NODE, O_RDONLY);
    expectErrno(() => proc.mmap(ro, PS, PROT_READ | PROT_WRITE, MAP_SHARED), "EACCES");
    expect(proc.mappings()).toEqual([]);
  });

  it("poll reports POLLIN|POLLOUT at once", () => {
    const rig = boot();
    const fds: PollFd[] = [{ fd: rig.hfd, events: POLLIN | POLLOUT }];
    expect(rig.proc.poll(fds, 0)).toBe(1);
    expect(fds[0]?.revents).toBe(POLLIN | POLLOUT);
    expect(rig.proc.poll(fds, 100)).toBe(1);
    expect(rig.kernel.clock.now).toBe(0);
  });
});
