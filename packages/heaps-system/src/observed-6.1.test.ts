// Replays what a real Linux 6.1 kernel answered about the system heap (fixtures/…-observed.json).

import { readFileSync } from "node:fs";
import { createKernel, errnoOf, type PollFd, type Process } from "@dmabuf/core";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SYNC_RW,
  DMA_HEAP_IOCTL_ALLOC,
  decodeDmaHeapAllocationData,
  encodeDmaBufSync,
  encodeDmaHeapAllocationData,
  F_GETFD,
  F_GETFL,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POLLIN,
  POLLOUT,
  PROT_READ,
  PROT_WRITE,
  SEEK_END,
  SEEK_SET,
} from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { SystemHeap } from "./system-heap.js";

const observed = JSON.parse(
  readFileSync(new URL("../../../fixtures/linux-6.1-observed.json", import.meta.url), "utf8"),
);
const sys = observed.heaps.system;

/** A 6.1 kernel and a process with stdin/stdout/stderr, so its first own fd is 3 as observed. */
function boot() {
  const kernel = createKernel({ ram: "256MiB", profile: "6.1", plugins: [SystemHeap] });
  const proc = kernel.spawn({ name: "probe", stdio: true });
  const heapFd = proc.open("/dev/dma_heap/system", O_RDWR | O_CLOEXEC);
  return { kernel, proc, heapFd };
}

function alloc(proc: Process, heapFd: number, len: bigint, fdFlags = O_RDWR | O_CLOEXEC) {
  const arg = encodeDmaHeapAllocationData({ len, fdFlags });
  proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg);
  return decodeDmaHeapAllocationData(arg).fd;
}

/** Runs `fn`, giving the observed {ret, errno} shape. */
function outcome(fn: () => unknown): { ret: number; errno: string | null } {
  try {
    const ret = fn();
    return { ret: typeof ret === "number" ? ret : 0, errno: null };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code !== "string") throw e;
    return { ret: -1, errno: code };
  }
}

const octal = (n: number) => `0${n.toString(8)}`;

describe("6.1 oracle: /dev/dma_heap/system", () => {
  it("the node: a 0600 root character device 254:0 on devtmpfs", () => {
    const { proc, heapFd } = boot();
    const st = proc.fstat(heapFd);
    const want = sys.device.stat;
    expect(octal(st.mode)).toBe(want.st_mode_octal);
    expect([st.size, st.blocks, st.blksize, st.nlink, st.uid, st.gid]).toEqual([
      want.st_size,
      want.st_blocks,
      want.st_blksize,
      want.st_nlink,
      want.st_uid,
      want.st_gid,
    ]);
    expect([st.devMajor, st.devMinor, st.rdevMajor, st.rdevMinor]).toEqual([
      want.st_dev_major,
      want.st_dev_minor,
      want.st_rdev_major,
      want.st_rdev_minor,
    ]);
  });

  it.each(["O_RDONLY", "O_WRONLY", "O_RDWR"] as const)("opens %s and allocates", (mode) => {
    const { proc, heapFd } = boot();
    proc.close(heapFd);
    const flags = { O_RDONLY, O_WRONLY, O_RDWR }[mode];
    const fd = proc.open("/dev/dma_heap/system", flags);
    expect(fd).toBe(sys.device.open[mode].ret);
    expect(alloc(proc, fd, 4096n)).toBe(sys.device.open[mode].alloc_1_page.ret);
  });

  it("readlink, fcntl, fdinfo, read/write/lseek/mmap/poll of the heap fd", () => {
    const { proc, heapFd } = boot();
    const d = sys.device;
    expect(proc.readlink(`/proc/self/fd/${heapFd}`)).toBe(d.readlink);
    expect(octal(proc.fcntl(heapFd, F_GETFL))).toBe(d.fcntl.f_getfl_octal);
    expect(proc.fcntl(heapFd, F_GETFD) === 1).toBe(d.fcntl.fd_cloexec);
    const ino = proc.fstat(heapFd).ino;
    expect(proc.readFile(`/proc/self/fdinfo/${heapFd}`)).toBe(
      d.fdinfo.replace(/ino:\t\d+/, `ino:\t${ino}`),
    );
    expect(errnoOf(() => proc.read(heapFd, 1))).toBe(d.read.errno);
    expect(errnoOf(() => proc.write(heapFd, new Uint8Array(1)))).toBe(d.write.errno);
    expect(errnoOf(() => proc.lseek(heapFd, 0, SEEK_END))).toBe(d.lseek_end.errno);
    expect(errnoOf(() => proc.lseek(heapFd, 0, SEEK_SET))).toBe(d.lseek_set.errno);
    expect(errnoOf(() => proc.mmap(heapFd, 4096, PROT_READ, MAP_SHARED))).toBe(d.mmap.errno);
    const fds: PollFd[] = [{ fd: heapFd, events: POLLIN | POLLOUT }];
    expect(proc.poll(fds, 0)).toBe(d.poll_in_out.ret);
    expect(fds[0]?.revents).toBe(POLLIN | POLLOUT);
  });

  it("/dev/dma_heap and /sys/class/dma_heap list the heap; dev and uevent text", () => {
    const { proc } = boot();
    expect(proc.readdir("/dev/dma_heap")).toEqual(["system"]);
    expect(proc.readdir("/sys/class/dma_heap")).toEqual(["system"]);
    const want = observed.heap_discovery.sysfs.system;
    expect(proc.readFile("/sys/class/dma_heap/system/dev")).toBe(want.dev);
    expect(proc.readFile("/sys/class/dma_heap/system/uevent")).toBe(want.uevent);
  });
});

describe("6.1 oracle: DMA_HEAP_IOCTL_ALLOC", () => {
  for (const [name, c] of Object.entries<Record<string, unknown>>(sys.alloc_lengths)) {
    it(`alloc_lengths.${name}`, () => {
      const { proc, heapFd } = boot();
      const len = BigInt(c.len as number | string);
      const arg = encodeDmaHeapAllocationData({ len, fdFlags: O_RDWR | O_CLOEXEC });
      const r = outcome(() => proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg));
      expect(r).toEqual({ ret: c.ret, errno: c.errno });
      if (c.ret === 0) {
        const out = decodeDmaHeapAllocationData(arg);
        expect(out.len).toBe(BigInt(c.len_field_after as number));
        expect(out.fd).toBe(4);
        expect(proc.lseek(out.fd, 0, SEEK_END)).toBe(c.size_via_seek_end);
      }
    });
  }

  for (const [name, c] of Object.entries<Record<string, unknown>>(sys.alloc_fd_flags)) {
    it(`alloc_fd_flags.${name}`, () => {
      const { proc, heapFd } = boot();
      const fdFlags = Number.parseInt(c.fd_flags as string, 16) >>> 0;
      const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags });
      const r = outcome(() => {
        proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg);
        return decodeDmaHeapAllocationData(arg).fd;
      });
      expect(r).toEqual({ ret: c.ret, errno: c.errno });
      if (c.errno !== null) return;
      const fd = r.ret;
      const fcntl = c.fcntl as Record<string, unknown>;
      expect(octal(proc.fcntl(fd, F_GETFL))).toBe(fcntl.f_getfl_octal);
      expect(proc.fcntl(fd, F_GETFD) === 1).toBe(fcntl.fd_cloexec);
      expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toContain(`flags:\t${c.fdinfo_flags}\n`);
      const mapErr = (prot: number) => {
        const e = errnoOf(() => proc.munmap(proc.mmap(fd, 4096, prot, MAP_SHARED)));
        return { ok: e === null, errno: e };
      };
      expect(mapErr(PROT_READ)).toEqual(c.mmap_shared_read);
      expect(mapErr(PROT_READ | PROT_WRITE)).toEqual(c.mmap_shared_read_write);
      expect(
        outcome(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(DMA_BUF_SYNC_RW))),
      ).toEqual(c.sync_rw_start);
      expect(outcome(() => proc.ioctl(fd, DMA_BUF_SET_NAME, "probe"))).toEqual(c.set_name);
    });
  }

  for (const [name, c] of Object.entries<Record<string, unknown>>(sys.alloc_heap_flags)) {
    it(`alloc_heap_flags.${name}`, () => {
      const { proc, heapFd } = boot();
      const heapFlags = BigInt(c.heap_flags as string);
      const arg = encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR, heapFlags });
      const r = outcome(() => {
        proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg);
        return decodeDmaHeapAllocationData(arg).fd;
      });
      expect(r).toEqual({ ret: c.ret, errno: c.errno });
    });
  }

  it.each(Object.entries<{ ret: number; errno: string }>(sys.alloc_fd_field_nonzero))(
    "alloc_fd_field_nonzero.%s",
    (name, c) => {
      const { proc, heapFd } = boot();
      const fd = name === "fd_1" ? 1 : 0xffffffff;
      const arg = encodeDmaHeapAllocationData({ len: 4096n, fd, fdFlags: O_RDWR });
      expect(outcome(() => proc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, arg))).toEqual(c);
    },
  );

  // The heap-independent ioctl_abi cases run for every heap in
  // packages/testing/src/oracle-heap-ioctl.test.ts.

  it("alloc_huge: twice RAM and the largest page-aligned u64 fail cleanly with ENOMEM", () => {
    // Linux OOM-kills the caller inside the ioctl (observed: SIGKILL, memory returned); the
    // model fails the call with ENOMEM and leaves nothing allocated.
    const { kernel, proc, heapFd } = boot();
    const before = kernel.snapshot();
    for (const len of [
      2n * 256n * 1024n * 1024n,
      BigInt(sys.alloc_huge.max_page_aligned_u64.len),
    ]) {
      expect(errnoOf(() => alloc(proc, heapFd, len))).toBe("ENOMEM");
      expect(kernel.snapshot()).toEqual(before);
    }
  });
});

// The buffer's own fd (heaps.system.dmabuf: fd_basics, sync_ioctl, set_name, mmap, poll,
// sync_file) is replayed for every exporter in packages/testing/src/oracle-dmabuf-fd.test.ts.
