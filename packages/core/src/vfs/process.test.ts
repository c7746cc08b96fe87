// Tests of Process: the fd table, fd passing, open/readdir/readlink, poll, mmap and accesses.

import { describe, expect, it } from "vitest";
import type { DmaBuf } from "../dma-buf/dma-buf.js";
import type { DmaBufOps } from "../dma-buf/ops.js";
import type { ErrnoCode } from "../errors/errno.js";
import { KernelSignal } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import { PageExporter } from "../examples/page-exporter.js";
import type { DmaHeapOps } from "../heap/ops.js";
import { createKernel, type Kernel } from "../kernel.js";
import { CoherentCpuPort, type CpuPort } from "../mm/cpu-port.js";
import type { Mapping } from "../mm/mapping.js";
import type { Vma } from "../mm/vma.js";
import {
  F_GETFD,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  FD_CLOEXEC,
  O_CLOEXEC,
  O_LARGEFILE,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
} from "../uapi/fcntl.js";
import { FIOCLEX, FIONBIO, FIONCLEX } from "../uapi/ioctl.js";
import {
  MADV_DONTNEED,
  MADV_WILLNEED,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_TYPE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from "../uapi/mman.js";
import { POLLIN, POLLNVAL, POLLOUT } from "../uapi/poll.js";
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from "./eventpoll.js";
import type { PollFd, Process } from "./process.js";

const PS = 4096;
const HEAP = "/dev/dma_heap/test_mem";

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

/** Asserts that `fn` raises the signal `code` at `address`. */
function expectSignal(fn: () => unknown, code: "SIGSEGV" | "SIGBUS", address: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KernelSignal);
  expect((caught as KernelSignal).code).toBe(code);
  expect((caught as KernelSignal).address).toBe(address);
}

const heapOps: DmaHeapOps = {
  allocate(): DmaBuf {
    throw new KernelError("ENOMEM", "allocate");
  },
};

/** A kernel with the page exporter and one heap (a device node to open). */
function boot(options: { heapNodeMode?: number } = {}): Kernel {
  const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter], ...options });
  kernel.heaps.add({ name: "test_mem", ops: heapOps });
  return kernel;
}

/** A dma-buf of `pages` pages from the page exporter, installed in `proc`; returns the fd. */
function bufferFd(kernel: Kernel, proc: Process, pages: number, flags = O_RDWR): number {
  const buf = kernel.plugin(PageExporter).create(pages * PS, flags);
  return kernel.dmaBuf.fd(buf, proc, 0);
}

interface FramesPriv {
  frames: number[];
}

/**
 * A dma-buf over the given page frames whose mmap inserts the frames `populate` lets through
 * and leaves the rest to `fault` (or to nothing: SIGBUS).
 */
function framesFd(
  kernel: Kernel,
  proc: Process,
  frames: number[],
  options: {
    populate?: (page: number) => boolean;
    fault?: (vma: Vma, pgoff: number) => number;
  } = {},
): number {
  const ops: DmaBufOps<FramesPriv> = {
    mapDmaBuf: () => null,
    unmapDmaBuf: () => {},
    release: () => {},
    mmap(buf, vma) {
      for (let i = 0; i < vma.pageCount; i++) {
        const page = vma.pgoff + i;
        if (options.populate?.(page) ?? true) {
          vma.insertPfn(vma.start + i * PS, buf.priv.frames[page] as number);
        }
      }
      if (options.fault) vma.ops = { fault: options.fault };
    },
  };
  const buf = kernel.dmaBuf.export({
    expName: "frames",
    ops,
    size: frames.length * PS,
    flags: O_RDWR,
    priv: { frames },
  });
  return kernel.dmaBuf.fd(buf, proc, 0);
}

/** A CPU port that records every access before passing it to RAM. */
class RecordingPort implements CpuPort {
  readonly log: [op: string, phys: number, length: number, extra: number][] = [];
  readonly #ram: CpuPort;
  constructor(kernel: Kernel) {
    this.#ram = new CoherentCpuPort(kernel.memory);
  }
  read(phys: number, length: number, dst: Uint8Array, dstOffset: number): void {
    this.log.push(["read", phys, length, dstOffset]);
    this.#ram.read(phys, length, dst, dstOffset);
  }
  write(phys: number, src: Uint8Array): void {
    this.log.push(["write", phys, src.length, src[0] ?? -1]);
    this.#ram.write(phys, src);
  }
  fill(phys: number, length: number, value: number): void {
    this.log.push(["fill", phys, length, value]);
    this.#ram.fill(phys, length, value);
  }
}

describe("fd table", () => {
  it("open returns the lowest free fd", () => {
    const kernel = boot();
    const p = kernel.spawn();
    expect([p.open(HEAP, O_RDWR), p.open(HEAP, O_RDWR), p.open(HEAP, O_RDWR)]).toEqual([0, 1, 2]);
    p.close(1);
    expect(p.fds()).toEqual([0, 2]);
    expect(p.open(HEAP, O_RDWR)).toBe(1);
    expect(p.open(HEAP, O_RDWR)).toBe(3);
    p.close(0);
    p.close(2);
    expect(p.dup(3)).toBe(0);
    expect(p.fds()).toEqual([0, 1, 3]);
  });

  it("O_CLOEXEC is per fd (F_GETFD), never in the file's flags (F_GETFL)", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const plain = p.open(HEAP, O_RDWR);
    const cloexec = p.open(HEAP, O_RDWR | O_CLOEXEC);
    expect(p.fcntl(plain, F_GETFD)).toBe(0);
    expect(p.fcntl(cloexec, F_GETFD)).toBe(FD_CLOEXEC);
    expect(p.fcntl(cloexec, F_GETFL)).toBe(O_RDWR | O_LARGEFILE);
    expect(p.fcntl(plain, F_GETFL)).toBe(0o100002);
    expect(p.fcntl(cloexec, F_SETFD, 0)).toBe(0);
    expect(p.fcntl(cloexec, F_GETFD)).toBe(0);
    expect(p.fcntl(plain, F_SETFD, FD_CLOEXEC)).toBe(0);
    expect(p.fcntl(plain, F_GETFD)).toBe(FD_CLOEXEC);
    expect(p.isCloexec(plain)).toBe(true);
    expectErrno(() => p.fcntl(plain, F_SETFL, 0), "EINVAL");
    expectErrno(() => p.fcntl(7, F_GETFD), "EBADF");
  });

  it("dup gives the lowest free fd for the same file, without close-on-exec", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = p.open(HEAP, O_RDWR | O_CLOEXEC);
    const file = p.fileOf(fd);
    expect(file.refCount).toBe(1);
    const d = p.dup(fd);
    expect(d).toBe(1);
    expect(p.fileOf(d)).toBe(file);
    expect(file.refCount).toBe(2);
    expect(p.fcntl(fd, F_GETFD)).toBe(FD_CLOEXEC);
    expect(p.fcntl(d, F_GETFD)).toBe(0);
    p.close(fd);
    expect(kernel.files.size).toBe(1);
    expect(file.refCount).toBe(1);
    expect(p.fcntl(d, F_GETFL)).toBe(O_RDWR | O_LARGEFILE);
    p.close(d);
    expect(kernel.files.size).toBe(0);
    expectErrno(() => p.dup(fd), "EBADF");
  });

  it.each([
    ["closed", 0],
    ["never opened", 5],
    ["negative", -1],
    ["huge", 2 ** 31],
    ["beyond any table", 1e12],
    ["fractional", 0.5],
    ["NaN", Number.NaN],
  ])("close of a %s fd is EBADF", (_what, fd) => {
    const kernel = boot();
    const p = kernel.spawn();
    p.close(p.open(HEAP, O_RDWR));
    const e = expectErrno(() => p.close(fd), "EBADF");
    expect(e.errno).toBe(9);
    expect(e.syscall).toBe("close");
  });

  it("EMFILE at RLIMIT_NOFILE; the failed open leaves no file behind", () => {
    const kernel = boot();
    const p = kernel.spawn();
    p.rlimitNofile = 2;
    p.open(HEAP, O_RDWR);
    p.open(HEAP, O_RDWR);
    const before = kernel.snapshot();
    const e = expectErrno(() => p.open(HEAP, O_RDWR), "EMFILE");
    expect(e.errno).toBe(24);
    expectErrno(() => p.dup(0), "EMFILE");
    expect(kernel.snapshot()).toEqual(before);
    expect(kernel.files.size).toBe(2);
    // dma_buf_fd: the buffer's reference stays with the caller.
    const buf = kernel.plugin(PageExporter).create(PS, O_RDWR);
    expectErrno(() => kernel.dmaBuf.fd(buf, p, 0), "EMFILE");
    expect(buf.file.refCount).toBe(1);
    kernel.dmaBuf.put(buf);
    expect(buf.priv.releases).toBe(1);
    p.close(0);
    expect(p.open(HEAP, O_RDWR)).toBe(0);
  });

  it("exit closes every fd and mapping; later syscalls are ESRCH", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const other = kernel.spawn();
    const heapFd = p.open(HEAP, O_RDWR);
    const bfd = bufferFd(kernel, p, 2);
    const buf = kernel.dmaBuf.fromFile(p.fileOf(bfd)) as DmaBuf<{ releases: number }>;
    p.mmap(bfd, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    p.exit();
    expect(p.exited).toBe(true);
    expect(p.fds()).toEqual([]);
    expect(p.mappings()).toEqual([]);
    expect(kernel.files.size).toBe(0);
    expect(buf.priv.releases).toBe(1);
    expect(kernel.dmaBuf.list()).toEqual([]);
    expect(kernel.buddy.freePageCount()).toBe(4096);
    expect([...kernel.processes().keys()]).toEqual([other.pid]);
    expect(other.readdir("/proc")).toEqual(["self", String(other.pid)]);
    expectErrno(() => p.open(HEAP, O_RDWR), "ESRCH");
    expectErrno(() => p.close(heapFd), "ESRCH");
    expectErrno(() => p.dup(heapFd), "ESRCH");
    expectErrno(() => p.fcntl(heapFd, F_GETFD), "ESRCH");
    expectErrno(() => p.ioctl(heapFd, 0), "ESRCH");
    expectErrno(() => p.mmap(bfd, PS, PROT_READ, MAP_SHARED), "ESRCH");
    expectErrno(() => p.lseek(bfd, 0, 0), "ESRCH");
    expectErrno(() => p.fstat(heapFd), "ESRCH");
    expectErrno(() => p.read(heapFd, 1), "ESRCH");
    expectErrno(() => p.write(heapFd, new Uint8Array(1)), "ESRCH");
    expectErrno(() => p.poll([], 0), "ESRCH");
    expectErrno(() => p.readFile("/proc/self/comm"), "ESRCH");
    expectErrno(() => p.readdir("/proc"), "ESRCH");
    expectErrno(() => p.readlink("/proc/self"), "ESRCH");
    expectErrno(() => p.sendFd(heapFd, other), "ESRCH");
    p.exit();
    expect(p.exited).toBe(true);
  });
});

describe("sendFd (SCM_RIGHTS)", () => {
  it("installs the same open file at the receiver's lowest free fd", () => {
    const kernel = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    b.open(HEAP, O_RDONLY);
    b.open(HEAP, O_RDONLY);
    b.open(HEAP, O_RDONLY);
    b.close(1);
    const fd = a.open(HEAP, O_WRONLY | O_CLOEXEC);
    const file = a.fileOf(fd);
    const got = a.sendFd(fd, b);
    expect(got).toBe(1);
    expect(b.fileOf(got)).toBe(file);
    expect(file.refCount).toBe(2);
    expect(b.fcntl(got, F_GETFL)).toBe(O_WRONLY | O_LARGEFILE);
    expect(b.fcntl(got, F_GETFD)).toBe(0);
    expect(b.readlink(`/proc/${b.pid}/fd/1`)).toBe(HEAP);
    a.close(fd);
    expect(file.refCount).toBe(1);
    expect(b.fileOf(got)).toBe(file);
  });

  it("cloexec option sets close-on-exec on the received fd only", () => {
    const kernel = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    const fd = a.open(HEAP, O_RDWR);
    const got = a.sendFd(fd, b, { cloexec: true });
    expect(b.fcntl(got, F_GETFD)).toBe(FD_CLOEXEC);
    expect(a.fcntl(fd, F_GETFD)).toBe(0);
  });

  it("a process can send an fd to itself", () => {
    const kernel = boot();
    const a = kernel.spawn();
    const fd = a.open(HEAP, O_RDWR);
    expect(a.sendFd(fd, a)).toBe(1);
    expect(a.fileOf(1)).toBe(a.fileOf(0));
  });

  it("EBADF for an fd the sender does not have", () => {
    const kernel = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    expectErrno(() => a.sendFd(0, b), "EBADF");
    expectErrno(() => a.sendFd(-1, b), "EBADF");
    expect(b.fds()).toEqual([]);
  });

  it("ESRCH to a receiver that has exited; the file's refcount is unchanged", () => {
    const kernel = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    const fd = a.open(HEAP, O_RDWR);
    b.exit();
    expectErrno(() => a.sendFd(fd, b), "ESRCH");
    expect(a.fileOf(fd).refCount).toBe(1);
  });

  it("EMFILE in the receiver leaves the file's refcount unchanged", () => {
    const kernel = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    b.rlimitNofile = 1;
    b.open(HEAP, O_RDWR);
    const fd = bufferFd(kernel, a, 1);
    const file = a.fileOf(fd);
    const before = kernel.snapshot();
    expectErrno(() => a.sendFd(fd, b), "EMFILE");
    expect(file.refCount).toBe(1);
    expect(kernel.snapshot()).toEqual(before);
    expect(b.fds()).toEqual([0]);
  });
});

describe("open", () => {
  it.each([
    ["/dev/nope", "ENOENT"],
    ["/dev/dma_heap/missing", "ENOENT"],
    ["/proc/99/comm", "ENOENT"],
    ["/proc/self/comm/x", "ENOTDIR"],
    ["/sys/class/dma_heap/test_mem/dev/x", "ENOTDIR"],
    ["/dev/dma_heap/test_mem/x", "ENOTDIR"],
  ] as const)("%s is %s", (path, code) => {
    const kernel = boot();
    const p = kernel.spawn();
    expectErrno(() => p.open(path, O_RDONLY), code);
    expect(p.fds()).toEqual([]);
    expect(kernel.files.size).toBe(0);
  });

  it("a directory opens read-only; for writing it is EISDIR; reading it is EISDIR", () => {
    const kernel = boot();
    const p = kernel.spawn();
    expectErrno(() => p.open("/proc", O_WRONLY), "EISDIR");
    expectErrno(() => p.open("/dev/dma_heap", O_RDWR), "EISDIR");
    expect(kernel.files.size).toBe(0);
    const fd = p.open("/dev/dma_heap", O_RDONLY);
    expect(fd).toBe(0);
    expectErrno(() => p.read(fd, 10), "EISDIR");
  });

  it("a non-root process cannot open a 0600 heap node: EACCES", () => {
    const kernel = boot();
    const user = kernel.spawn({ uid: 1000 });
    expect(user.uid).toBe(1000);
    expect(user.gid).toBe(1000);
    for (const flags of [O_RDONLY, O_WRONLY, O_RDWR]) {
      const e = expectErrno(() => user.open(HEAP, flags), "EACCES");
      expect(e.errno).toBe(13);
    }
    expect(kernel.files.size).toBe(0);
    expect(kernel.spawn().open(HEAP, O_RDWR)).toBe(0);
  });

  it("heapNodeMode 0o666 lets any user open heap nodes", () => {
    const kernel = boot({ heapNodeMode: 0o666 });
    const user = kernel.spawn({ uid: 1000 });
    expect(user.open(HEAP, O_RDWR)).toBe(0);
    expect(user.fstat(0).mode).toBe(0o020666);
  });

  it("a 0444 pseudo file opens read-only for users, not for writing", () => {
    const kernel = boot();
    const user = kernel.spawn({ uid: 1000, name: "user" });
    expect(user.readFile("/proc/self/comm")).toBe("user\n");
    expectErrno(() => user.open("/proc/self/comm", O_WRONLY), "EACCES");
  });
});

describe("readdir, readlink, pseudo files", () => {
  it("lists /dev/dma_heap, /proc, /proc/<pid> and /proc/<pid>/fd", () => {
    const kernel = boot();
    kernel.heaps.add({ name: "second", ops: heapOps });
    const a = kernel.spawn();
    const b = kernel.spawn();
    expect(a.readdir("/dev/dma_heap")).toEqual(["test_mem", "second"]);
    expect(a.readdir("/proc")).toEqual(["self", "1", "2"]);
    expect(a.readdir(`/proc/${b.pid}`)).toEqual(["fd", "fdinfo", "maps", "comm"]);
    expect(a.readdir("/proc/self/fd")).toEqual([]);
    a.open(HEAP, O_RDWR);
    a.open(HEAP, O_RDWR);
    a.open(HEAP, O_RDWR);
    a.close(1);
    expect(a.readdir(`/proc/${a.pid}/fd`)).toEqual(["0", "2"]);
    expect(a.readdir("/proc/self/fd")).toEqual(["0", "2"]);
    expect(b.readdir("/proc/self/fd")).toEqual([]);
    expect(a.readdir(`/proc/${a.pid}/fdinfo`)).toEqual(["0", "2"]);
  });

  it("readdir of a file is ENOTDIR, of a missing path ENOENT", () => {
    const kernel = boot();
    const p = kernel.spawn();
    expectErrno(() => p.readdir("/proc/self/comm"), "ENOTDIR");
    expectErrno(() => p.readdir("/sys/class/dma_heap/test_mem/dev"), "ENOTDIR");
    expectErrno(() => p.readdir("/sys/class/dma_heap/nope"), "ENOENT");
  });

  it("readlink of /proc/self and /proc/self/fd/N; EINVAL on a non-link; ENOENT on a closed fd", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = p.open(HEAP, O_RDWR);
    const bfd = bufferFd(kernel, p, 1);
    expect(p.readlink("/proc/self")).toBe(String(p.pid));
    expect(p.readlink(`/proc/self/fd/${fd}`)).toBe(HEAP);
    expect(p.readlink(`/proc/${p.pid}/fd/${fd}`)).toBe(HEAP);
    expect(p.readlink(`/proc/self/fd/${bfd}`)).toBe("/dmabuf:");
    kernel.dmaBuf.setName(kernel.dmaBuf.fromFile(p.fileOf(bfd)) as DmaBuf, "cam0");
    expect(p.readlink(`/proc/self/fd/${bfd}`)).toBe("/dmabuf:cam0");
    for (const path of ["/proc/self/comm", HEAP, "/proc", "/proc/self/fd"]) {
      expectErrno(() => p.readlink(path), "EINVAL");
    }
    expectErrno(() => p.readlink("/proc/self/fd/9"), "ENOENT");
  });

  it("sysfs dev and uevent of a heap", () => {
    const kernel = boot();
    kernel.heaps.add({ name: "second", ops: heapOps });
    const p = kernel.spawn();
    expect(p.readdir("/sys/class/dma_heap/test_mem")).toEqual(["dev", "uevent"]);
    expect(p.readFile("/sys/class/dma_heap/test_mem/dev")).toBe("254:0\n");
    expect(p.readFile("/sys/class/dma_heap/test_mem/uevent")).toBe(
      "MAJOR=254\nMINOR=0\nDEVNAME=dma_heap/test_mem\n",
    );
    expect(p.readFile("/sys/class/dma_heap/second/dev")).toBe("254:1\n");
    expect(p.readFile("/sys/class/dma_heap/second/uevent")).toBe(
      "MAJOR=254\nMINOR=1\nDEVNAME=dma_heap/second\n",
    );
    expect(kernel.files.size).toBe(0);
  });

  it("readFile of a directory is EISDIR, of a device node EINVAL", () => {
    const kernel = boot();
    const p = kernel.spawn();
    expectErrno(() => p.readFile("/proc"), "EISDIR");
    expectErrno(() => p.readFile(HEAP), "EINVAL");
    expect(kernel.files.size).toBe(0);
  });
});

describe("poll", () => {
  it("POLLNVAL for a closed fd, counted as ready, without waiting", () => {
    const kernel = boot();
    const p = kernel.spawn();
    p.close(p.open(HEAP, O_RDWR));
    const fds: PollFd[] = [{ fd: 0, events: POLLIN }];
    expect(p.poll(fds, 1000)).toBe(1);
    expect(fds[0]?.revents).toBe(POLLNVAL);
    expect(kernel.clock.now).toBe(0);
  });

  it("negative fds are ignored (revents 0)", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = p.open(HEAP, O_RDWR);
    const fds: PollFd[] = [
      { fd: -1, events: POLLIN, revents: 0xff },
      { fd, events: POLLIN | POLLOUT },
      { fd: -42, events: POLLOUT },
    ];
    expect(p.poll(fds, 0)).toBe(1);
    expect(fds.map((f) => f.revents)).toEqual([0, POLLIN | POLLOUT, 0]);
  });

  it("a file without a poll method is ready for what was asked only", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = p.open(HEAP, O_RDWR);
    const fds: PollFd[] = [{ fd, events: POLLOUT }];
    expect(p.poll(fds, 0)).toBe(1);
    expect(fds[0]?.revents).toBe(POLLOUT);
  });

  it("when nothing is ready, the timeout advances the virtual clock by exactly the timeout", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = p.open(HEAP, O_RDWR);
    let ran = 0;
    kernel.clock.schedule(10_000_000, () => ran++);
    kernel.clock.schedule(30_000_000, () => ran++);
    const fds: PollFd[] = [
      { fd, events: 0 },
      { fd: -1, events: POLLIN },
    ];
    expect(p.poll(fds, 25)).toBe(0);
    expect(kernel.clock.now).toBe(25_000_000);
    expect(ran).toBe(1);
    expect(kernel.clock.pending).toBe(1);
    expect(p.poll([], 7)).toBe(0);
    expect(kernel.clock.now).toBe(32_000_000);
    expect(ran).toBe(2);
    expect(p.poll(fds, 0)).toBe(0);
    expect(kernel.clock.now).toBe(32_000_000);
  });

  it("an infinite wait that no pending event can end is reported as EINTR after the events ran", () => {
    const kernel = boot();
    const p = kernel.spawn();
    let ran = 0;
    kernel.clock.schedule(5_000_000, () => ran++);
    expect(() => p.poll([{ fd: -1, events: POLLIN }], -1)).toThrow(
      expect.objectContaining({ code: "EINTR" }),
    );
    expect(ran).toBe(1);
    expect(kernel.clock.now).toBe(5_000_000);
  });

  it("more entries than RLIMIT_NOFILE is EINVAL", () => {
    const kernel = boot();
    const p = kernel.spawn();
    p.rlimitNofile = 2;
    const entries = (n: number) => Array.from({ length: n }, () => ({ fd: -1, events: 0 }));
    expect(p.poll(entries(2), 0)).toBe(0);
    expectErrno(() => p.poll(entries(3), 0), "EINVAL");
  });
});

describe("mmap and munmap", () => {
  it("places mappings top-down below 0x7ffff7ff9000 and reuses holes", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = bufferFd(kernel, p, 4);
    const m1 = p.mmap(fd, PS, PROT_READ, MAP_SHARED);
    expect([m1.address, m1.vma.end]).toEqual([0x7ffff7ff8000, 0x7ffff7ff9000]);
    expect(m1.length).toBe(PS);
    const m2 = p.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED);
    expect([m2.address, m2.vma.end]).toEqual([0x7ffff7ff6000, 0x7ffff7ff8000]);
    const m3 = p.mmap(fd, 1, PROT_READ, MAP_SHARED);
    expect([m3.address, m3.length]).toEqual([0x7ffff7ff5000, PS]);
    p.munmap(m1);
    expect(m1.mapped).toBe(false);
    const m4 = p.mmap(fd, PS, PROT_READ, MAP_SHARED);
    expect(m4.address).toBe(0x7ffff7ff8000);
    p.munmap(m2);
    const big = p.mmap(fd, 3 * PS, PROT_READ, MAP_SHARED);
    expect(big.address).toBe(0x7ffff7ff2000);
    const small = p.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED);
    expect(small.address).toBe(0x7ffff7ff6000);
    expect(p.mappings().map((m) => m.address)).toEqual([
      0x7ffff7ff2000, 0x7ffff7ff5000, 0x7ffff7ff6000, 0x7ffff7ff8000,
    ]);
    // Address spaces are per process.
    const q = kernel.spawn();
    const qfd = p.sendFd(fd, q);
    expect(q.mmap(qfd, PS, PROT_READ, MAP_SHARED).address).toBe(0x7ffff7ff8000);
  });

  it("a mapping holds a file reference; munmap drops it", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = bufferFd(kernel, p, 1);
    const file = p.fileOf(fd);
    const m = p.mmap(fd, PS, PROT_READ, MAP_SHARED);
    expect(file.refCount).toBe(2);
    p.close(fd);
    expect(file.refCount).toBe(1);
    expect(kernel.dmaBuf.list()).toHaveLength(1);
    p.munmap(m);
    expect(kernel.dmaBuf.list()).toHaveLength(0);
    expect(kernel.files.size).toBe(0);
  });

  it("munmap of another process's mapping, or of one already unmapped, is EINVAL", () => {
    const kernel = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    const fd = bufferFd(kernel, a, 1);
    const m = a.mmap(fd, PS, PROT_READ, MAP_SHARED);
    expectErrno(() => b.munmap(m), "EINVAL");
    expect(m.mapped).toBe(true);
    expect(a.mappings()).toEqual([m]);
    a.munmap(m);
    expectErrno(() => a.munmap(m), "EINVAL");
    expect(a.fileOf(fd).refCount).toBe(1);
  });

  it("argument errors: EINVAL for length 0, unaligned offset, bad map type; EBADF first", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = bufferFd(kernel, p, 2);
    expectErrno(() => p.mmap(fd, 0, PROT_READ, MAP_SHARED), "EINVAL");
    expectErrno(() => p.mmap(fd, PS, PROT_READ, MAP_SHARED, 100), "EINVAL");
    expectErrno(() => p.mmap(fd, PS, PROT_READ, 0), "EINVAL");
    expectErrno(() => p.mmap(fd, PS, PROT_READ, MAP_TYPE), "EINVAL");
    expectErrno(() => p.mmap(5, PS, PROT_READ, MAP_SHARED), "EBADF");
    // Linux looks the fd up before it checks the length.
    expectErrno(() => p.mmap(5, 0, PROT_READ, MAP_SHARED), "EBADF");
    expect(p.mappings()).toEqual([]);
    expect(p.fileOf(fd).refCount).toBe(1);
  });

  it("a file without an mmap method is ENODEV", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = p.open(HEAP, O_RDWR);
    expectErrno(() => p.mmap(fd, PS, PROT_READ, MAP_SHARED), "ENODEV");
    const text = p.open("/proc/self/comm", O_RDONLY);
    expectErrno(() => p.mmap(text, PS, PROT_READ, MAP_PRIVATE), "ENODEV");
    expect(p.fileOf(fd).refCount).toBe(1);
  });
});

describe("mapping accesses", () => {
  it("SIGSEGV after munmap, past the end, and against the protection", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = bufferFd(kernel, p, 2);
    const ro = p.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED);
    const start = ro.address;
    expect(ro.read(PS, 4)).toEqual(new Uint8Array(4));
    expectSignal(() => ro.read(2 * PS - 2, 4), "SIGSEGV", start + 2 * PS);
    expectSignal(() => ro.read(2 * PS, 1), "SIGSEGV", start + 2 * PS);
    expectSignal(() => ro.write(8, new Uint8Array([1])), "SIGSEGV", start + 8);
    expectSignal(() => ro.fill(1, PS, 1), "SIGSEGV", start + PS);
    const none = p.mmap(fd, PS, PROT_NONE, MAP_SHARED);
    expectSignal(() => none.read(0, 1), "SIGSEGV", none.address);
    const rw = p.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    rw.write(0, new Uint8Array([9, 8, 7]));
    p.munmap(rw);
    expectSignal(() => rw.read(0, 1), "SIGSEGV", rw.address);
    expectSignal(() => rw.write(16, new Uint8Array([1])), "SIGSEGV", rw.address + 16);
    expect(ro.read(0, 3)).toEqual(new Uint8Array([9, 8, 7]));
  });

  it("SIGBUS on a page without a frame and without a fault handler", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = framesFd(kernel, p, [100, 101, 102], { populate: (page) => page !== 1 });
    const m = p.mmap(fd, 3 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.write(0, new Uint8Array([1, 2]));
    m.write(2 * PS, new Uint8Array([3]));
    expectSignal(() => m.read(PS, 1), "SIGBUS", m.address + PS);
    expectSignal(() => m.read(0, 2 * PS), "SIGBUS", m.address + PS);
    expectSignal(() => m.fill(5, PS + 7, 1), "SIGBUS", m.address + PS);
    expect(kernel.memory.read(100 * PS, 2)).toEqual(new Uint8Array([1, 2]));
    expect(kernel.memory.read(102 * PS, 1)).toEqual(new Uint8Array([3]));
  });

  it("a fault handler supplies missing pages once; -1 from it is SIGBUS", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const faults: number[] = [];
    const frames = [200, 201, 202, 203];
    const fd = framesFd(kernel, p, frames, {
      populate: () => false,
      fault: (_vma, pgoff) => {
        faults.push(pgoff);
        return pgoff === 3 ? -1 : (frames[pgoff] as number);
      },
    });
    const m = p.mmap(fd, 3 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, PS);
    expect(m.vma.pgoff).toBe(1);
    m.fill(0xee, 0, PS + 1);
    m.read(0, 2);
    expect(faults).toEqual([1, 2]);
    expect(kernel.memory.read(201 * PS, 1)).toEqual(new Uint8Array([0xee]));
    expect(kernel.memory.read(202 * PS, 2)).toEqual(new Uint8Array([0xee, 0]));
    expectSignal(() => m.read(2 * PS, 1), "SIGBUS", m.address + 2 * PS);
    expect(faults).toEqual([1, 2, 3]);
  });

  it("every access goes through kernel.cpu, in physically contiguous runs", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = framesFd(kernel, p, [10, 11, 12, 20]);
    const m: Mapping = p.mmap(fd, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    const port = new RecordingPort(kernel);
    kernel.cpu = port;

    m.read();
    expect(port.log).toEqual([
      ["read", 10 * PS, 3 * PS, 0],
      ["read", 20 * PS, PS, 3 * PS],
    ]);
    port.log.length = 0;

    const bytes = new Uint8Array(8000).fill(0x11);
    m.write(100, bytes);
    expect(port.log).toEqual([["write", 10 * PS + 100, 8000, 0x11]]);
    port.log.length = 0;

    m.fill(0x22, 2 * PS + 10, PS);
    expect(port.log).toEqual([
      ["fill", 12 * PS + 10, PS - 10, 0x22],
      ["fill", 20 * PS, 10, 0x22],
    ]);
    port.log.length = 0;

    const back = m.read(2 * PS + 8, 4);
    expect(back).toEqual(new Uint8Array([0, 0, 0x22, 0x22]));
    expect(port.log).toEqual([["read", 12 * PS + 8, 4, 0]]);
    expect(kernel.memory.read(10 * PS + 100, 1)).toEqual(new Uint8Array([0x11]));
    expect(kernel.memory.read(20 * PS + 9, 2)).toEqual(new Uint8Array([0x22, 0]));
  });

  it("MAP_PRIVATE: a write copies the page through the port and never reaches RAM", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = framesFd(kernel, p, [30]);
    const shared = p.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    shared.fill(0x01);
    const priv = p.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    const port = new RecordingPort(kernel);
    kernel.cpu = port;
    priv.write(5, new Uint8Array([0x99]));
    expect(port.log).toEqual([["read", 30 * PS, PS, 0]]);
    port.log.length = 0;
    expect(priv.read(4, 3)).toEqual(new Uint8Array([0x01, 0x99, 0x01]));
    expect(port.log).toEqual([]);
    expect(shared.read(4, 3)).toEqual(new Uint8Array([0x01, 0x01, 0x01]));
    expect(kernel.memory.read(30 * PS + 5, 1)).toEqual(new Uint8Array([0x01]));
  });
});

describe("generic ioctls and read-only pseudo files", () => {
  it("FIOCLEX/FIONCLEX set and clear close-on-exec on any fd; FIONBIO sets O_NONBLOCK", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const p = kernel.spawn();
    const fd = p.open("/dev/null", O_RDWR);
    expect(p.ioctl(fd, FIOCLEX)).toBe(0);
    expect(p.fcntl(fd, F_GETFD)).toBe(1);
    expect(p.ioctl(fd, FIONCLEX)).toBe(0);
    expect(p.fcntl(fd, F_GETFD)).toBe(0);
    expect(p.ioctl(fd, FIONBIO, new Uint8Array([1, 0, 0, 0]))).toBe(0);
    expect(p.fcntl(fd, F_GETFL) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(p.ioctl(fd, FIONBIO, new Uint8Array(4))).toBe(0);
    expect(p.fcntl(fd, F_GETFL) & O_NONBLOCK).toBe(0);
    expect(() => p.ioctl(fd, FIONBIO, null)).toThrow(expect.objectContaining({ code: "EFAULT" }));
    // /dev/null has no ioctl method of its own.
    expect(() => p.ioctl(fd, 0x541b, new Uint8Array(4))).toThrow(
      expect.objectContaining({ code: "ENOTTY" }),
    );
  });

  it("pseudo files refuse write opens, even for root", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const p = kernel.spawn();
    for (const flags of [O_WRONLY, O_RDWR]) {
      expect(() => p.open("/sys/kernel/debug/dma_buf/bufinfo", flags)).toThrow(
        expect.objectContaining({ code: "EACCES" }),
      );
    }
    expect(p.fds()).toEqual([]);
  });
});

describe("select, epoll, mremap and madvise", () => {
  const setup = () => {
    const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter] });
    const p = kernel.spawn();
    const buf = kernel.plugin(PageExporter).create(3 * 4096, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, p, 0);
    return { kernel, p, fd };
  };

  it("select reports readable and writable fds; EBADF for a closed one", () => {
    const { p, fd } = setup();
    expect(p.select([fd], [fd], 0)).toEqual({ count: 2, readable: [fd], writable: [fd] });
    expect(() => p.select([9], [], 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
  });

  it("epoll: add, wait, modify, delete, and the errnos of epoll_ctl", () => {
    const { kernel, p, fd } = setup();
    const ep = p.epollCreate(EPOLL_CLOEXEC);
    expect(p.fcntl(ep, F_GETFD)).toBe(1);
    expect(p.readlink(`/proc/self/fd/${ep}`)).toBe("anon_inode:[eventpoll]");
    p.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN);
    expect(p.epollWait(ep, 4, 0)).toEqual([{ fd, events: POLLIN }]);
    expect(() => p.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN)).toThrow(
      expect.objectContaining({ code: "EEXIST" }),
    );
    p.epollCtl(ep, EPOLL_CTL_MOD, fd, POLLOUT);
    expect(p.epollWait(ep, 4, 0)).toEqual([{ fd, events: POLLOUT }]);
    p.epollCtl(ep, EPOLL_CTL_DEL, fd);
    expect(() => p.epollCtl(ep, EPOLL_CTL_DEL, fd)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
    expect(() => p.epollCtl(ep, EPOLL_CTL_ADD, ep, POLLIN)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(() => p.epollCtl(fd, EPOLL_CTL_ADD, ep, POLLIN)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    const devnull = p.open("/dev/null", O_RDONLY);
    expect(() => p.epollCtl(ep, EPOLL_CTL_ADD, devnull, POLLIN)).toThrow(
      expect.objectContaining({ code: "EPERM" }),
    );
    expect(() => p.epollWait(ep, 4, -1)).toThrow(expect.objectContaining({ code: "EINTR" }));
    expect(() => p.epollWait(ep, 0, 0)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    // The watch holds no file reference: closing the last fd frees the buffer.
    p.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN);
    p.close(fd);
    expect(kernel.snapshot().buffers).toBe(0);
    p.close(ep);
  });

  it("mremap shrinks in place and refuses to grow a PFN mapping; madvise(DONTNEED) too", () => {
    const { p, fd } = setup();
    const m = p.mmap(fd, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(5);
    expect(() => p.mremap(m, 4 * 4096)).toThrow(expect.objectContaining({ code: "EFAULT" }));
    expect(() => p.madvise(m, MADV_DONTNEED)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(p.madvise(m, MADV_WILLNEED)).toBeUndefined();
    expect(() => p.madvise(m, 99)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const small = p.mremap(m, 4096);
    expect([small.address, small.length, m.mapped]).toEqual([m.address, 4096, false]);
    expect(small.read(0, 1)[0]).toBe(5);
    expect(p.mappings()).toEqual([small]);
  });
});
