// Syscall edges Linux defines and the model once got wrong: kernel boundaries for fd passing,
// small errnos of open/pread/readFile/select, O_PATH fds, user buffers, read counts, timeouts,
// and an exit that survives a release method that throws.

import { describe, expect, it } from "vitest";
import type { DmaBuf } from "../dma-buf/dma-buf.js";
import type { DmaBufOps } from "../dma-buf/ops.js";
import { KernelError } from "../errors/kernel-error.js";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel } from "../kernel.js";
import {
  F_GETFL,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  S_IFCHR,
  S_IFMT,
} from "../uapi/fcntl.js";
import { POLLIN, POLLNVAL } from "../uapi/poll.js";
import { allocFromHeap } from "../user/helpers.js";
import { EPOLL_CTL_ADD } from "./eventpoll.js";
import type { File } from "./file.js";
import { errnoOf, type PollFd, type Process } from "./process.js";
import { MAX_RW_COUNT } from "./read-write.js";

const PS = 4096;

function boot() {
  const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter] });
  let allocations = 0;
  kernel.heaps.add({
    name: "counting",
    ops: {
      allocate(): DmaBuf {
        allocations++;
        throw new KernelError("ENOMEM", "allocate");
      },
    },
  });
  const p = kernel.spawn();
  const newBuf = (flags = O_RDWR) =>
    kernel.dmaBuf.fd(kernel.plugin(PageExporter).create(PS, flags), p, 0);
  return { kernel, p, newBuf, allocations: () => allocations };
}

describe("kernel boundaries of fd passing", () => {
  it("sendFd to a process of another kernel is EXDEV and takes no reference", () => {
    const { kernel, p, newBuf } = boot();
    const other = createKernel({ ram: "16MiB", plugins: [PageExporter] });
    const q = other.spawn();
    const fd = newBuf();
    const before = [kernel.snapshot(), other.snapshot()];
    expect(errnoOf(() => p.sendFd(fd, q))).toBe("EXDEV");
    expect([kernel.snapshot(), other.snapshot()]).toEqual(before);
    expect(p.fileOf(fd).refCount).toBe(1);
    expect(q.fds()).toEqual([]);
    // The other way round, too.
    const qfd = q.open("/dev/null", O_RDONLY);
    expect(errnoOf(() => q.sendFd(qfd, p))).toBe("EXDEV");
  });

  it("sendFd to an object that merely has an installFd method is EINVAL, no reference taken", () => {
    const { p, newBuf } = boot();
    const fd = newBuf();
    const stolen: File[] = [];
    const impostor = {
      exited: false,
      installFd(file: File) {
        stolen.push(file);
        return 3;
      },
    } as unknown as Process;
    expect(errnoOf(() => p.sendFd(fd, impostor))).toBe("EINVAL");
    expect(stolen).toEqual([]);
    expect(p.fileOf(fd).refCount).toBe(1);
  });
});

describe("small errnos", () => {
  it("O_CREAT | O_EXCL on an existing node is EEXIST; O_CREAT alone opens it", () => {
    const { kernel, p } = boot();
    const before = kernel.snapshot();
    expect(errnoOf(() => p.open("/dev/null", O_RDWR | O_CREAT | O_EXCL))).toBe("EEXIST");
    expect(errnoOf(() => p.open("/proc/self/fd", O_RDONLY | O_CREAT | O_EXCL))).toBe("EEXIST");
    expect(kernel.snapshot()).toEqual(before);
    expect(p.open("/dev/null", O_RDWR | O_CREAT)).toBe(0);
  });

  it("O_DIRECTORY on a device and a trailing slash on a non-directory are ENOTDIR", () => {
    const { p } = boot();
    expect(errnoOf(() => p.open("/dev/null", O_RDONLY | O_DIRECTORY))).toBe("ENOTDIR");
    expect(errnoOf(() => p.open("/dev/null/", O_RDONLY))).toBe("ENOTDIR");
    expect(errnoOf(() => p.open("/dev/dma_heap/counting/.", O_RDONLY))).toBe("ENOTDIR");
    expect(errnoOf(() => p.readFile("/proc/self/comm/"))).toBe("ENOTDIR");
    expect(p.fds()).toEqual([]);
    const dir = p.open("/dev/dma_heap/", O_RDONLY | O_DIRECTORY);
    expect(p.fcntl(dir, F_GETFL) & O_DIRECTORY).toBe(O_DIRECTORY);
  });

  it("ALLOC through an O_PATH fd of a heap is EBADF and allocates nothing; fstat still works", () => {
    const { kernel, p, allocations } = boot();
    const fd = p.open("/dev/dma_heap/counting", O_PATH);
    expect(p.fcntl(fd, F_GETFL)).toBe(O_PATH);
    expect(p.fstat(fd).mode & S_IFMT).toBe(S_IFCHR);
    const before = kernel.snapshot();
    expect(errnoOf(() => allocFromHeap(p, fd, PS))).toBe("EBADF");
    expect(allocations()).toBe(0);
    expect(kernel.snapshot()).toEqual(before);
    expect(errnoOf(() => p.read(fd, 1))).toBe("EBADF");
    const ep = p.epollCreate();
    expect(errnoOf(() => p.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN))).toBe("EBADF");
    const pfd: PollFd[] = [{ fd, events: POLLIN }];
    expect(p.poll(pfd, 0)).toBe(1);
    expect(pfd[0]?.revents).toBe(POLLNVAL);
    expect(p.readlink(`/proc/self/fd/${fd}`)).toBe("/dev/dma_heap/counting");
    p.close(fd);
  });

  it("pread on a write-only dma-buf fd is ESPIPE (no positional reads) before EBADF", () => {
    const { p, newBuf } = boot();
    const fd = newBuf(O_WRONLY);
    expect(errnoOf(() => p.pread(fd, 1, 0))).toBe("ESPIPE");
    expect(errnoOf(() => p.read(fd, 1))).toBe("EBADF");
  });

  it('readFile("") is ENOENT', () => {
    const { p } = boot();
    expect(errnoOf(() => p.readFile(""))).toBe("ENOENT");
    expect(errnoOf(() => p.open("", O_RDONLY))).toBe("ENOENT");
  });

  it("select after exit is ESRCH, like every other call", () => {
    const { p, newBuf } = boot();
    const fd = newBuf();
    p.exit();
    expect(errnoOf(() => p.select([fd], [], 0))).toBe("ESRCH");
    expect(errnoOf(() => p.poll([{ fd, events: POLLIN }], 0))).toBe("ESRCH");
  });
});

describe("user buffers, counts and timeouts", () => {
  it("write(memfd, a string) is EFAULT before any page is populated", () => {
    const { kernel, p } = boot();
    const fd = p.memfdCreate("m", 0);
    const before = kernel.snapshot();
    expect(errnoOf(() => p.write(fd, "str" as unknown as Uint8Array))).toBe("EFAULT");
    expect(errnoOf(() => p.pwrite(fd, [1, 2] as unknown as Uint8Array, 0))).toBe("EFAULT");
    expect(kernel.snapshot()).toEqual(before);
    expect(p.fstat(fd).size).toBe(0);
  });

  it("read counts are capped at MAX_RW_COUNT; negative counts are EINVAL", () => {
    const { kernel, p } = boot();
    const counts: number[] = [];
    kernel.namespace.install("/dev/counter", {
      kind: "chr",
      mode: 0o666,
      uid: 0,
      gid: 0,
      ino: 9999,
      rdev: [1, 99],
      nonseekable: false,
      privateData: null,
      fops: {
        read(_file, count) {
          counts.push(count);
          return new Uint8Array(0);
        },
      },
    });
    const fd = p.open("/dev/counter", O_RDONLY);
    p.read(fd, 2 ** 40);
    p.pread(fd, 2 ** 53, 0);
    p.read(fd, 10);
    expect(counts).toEqual([MAX_RW_COUNT, MAX_RW_COUNT, 10]);
    expect(errnoOf(() => p.read(fd, -1))).toBe("EINVAL");
    expect(MAX_RW_COUNT).toBe(0x7ffff000);
  });

  it("poll and epoll_wait timeouts are C ints: 1e20 and Infinity wait INT_MAX ms, NaN is EINVAL", () => {
    const { kernel, p } = boot();
    const INT_MAX_NS = 0x7fffffff * 1e6;
    const ep = p.epollCreate();
    for (const t of [1e20, Number.POSITIVE_INFINITY]) {
      const t0 = kernel.clock.now;
      expect(p.poll([{ fd: ep, events: POLLIN }], t)).toBe(0);
      expect(kernel.clock.now - t0).toBe(INT_MAX_NS);
      const t1 = kernel.clock.now;
      expect(p.epollWait(ep, 1, t)).toEqual([]);
      expect(kernel.clock.now - t1).toBe(INT_MAX_NS);
    }
    const t2 = kernel.clock.now;
    p.poll([{ fd: ep, events: POLLIN }], 1.9);
    expect(kernel.clock.now - t2).toBe(1e6);
    expect(errnoOf(() => p.poll([{ fd: ep, events: POLLIN }], Number.NaN))).toBe("EINVAL");
    expect(errnoOf(() => p.epollWait(ep, 1, Number.NaN))).toBe("EINVAL");
    expect(errnoOf(() => p.select([ep], [], Number.NaN))).toBe("EINVAL");
    // -Infinity is a negative int: an infinite wait (reported, as nothing can end it).
    expect(errnoOf(() => p.poll([{ fd: ep, events: POLLIN }], Number.NEGATIVE_INFINITY))).toBe(
      "EINTR",
    );
  });
});

describe("exit with a release method that throws", () => {
  it("the process is gone, every other fd is closed, and the log names exporter and method", () => {
    const { kernel, p, newBuf } = boot();
    const ops: DmaBufOps<object> = {
      mapDmaBuf: () => null,
      unmapDmaBuf: () => {},
      release: () => {
        throw new Error("release exploded");
      },
    };
    const bad = kernel.dmaBuf.export({ expName: "grumpy", ops, size: PS, flags: O_RDWR, priv: {} });
    kernel.dmaBuf.fd(bad, p, 0);
    newBuf();
    p.open("/dev/null", O_RDONLY);
    p.exit();
    expect(p.exited).toBe(true);
    expect(kernel.processes().has(p.pid)).toBe(false);
    expect(errnoOf(() => p.open("/dev/null", O_RDONLY))).toBe("ESRCH");
    const s = kernel.snapshot();
    expect([s.fds, s.files]).toEqual([0, 0]);
    const err = kernel.log.records.filter((r) => r.level === "err").map((r) => r.text);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain("exporter grumpy");
    expect(err[0]).toContain("release");
    expect(err[0]).toContain("release exploded");
    expect(err[0]).toContain(`pid ${p.pid}`);
  });
});
