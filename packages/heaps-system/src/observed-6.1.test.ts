// Replays what a real Linux 6.1 kernel answered about the system heap (fixtures/…-observed.json).

import { readFileSync } from "node:fs";
import {
  _IOC_SIZE,
  createKernel,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SYNC_RW,
  DMA_HEAP_IOCTL_ALLOC,
  decodeDmaHeapAllocationData,
  EPOLL_CTL_ADD,
  encodeDmaBufSync,
  encodeDmaHeapAllocationData,
  errnoOf,
  F_GETFD,
  F_GETFL,
  MADV_DONTNEED,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mapping,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POLLIN,
  POLLOUT,
  POLLPRI,
  type PollFd,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  type Process,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from "@dmabuf/core";
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

describe("6.1 oracle: a system-heap dma-buf fd", () => {
  const fb = sys.dmabuf.fd_basics;
  const setup = () => {
    const ctx = boot();
    const fd = alloc(ctx.proc, ctx.heapFd, BigInt(fb.buffer_size));
    return { ...ctx, fd };
  };

  it("lseek cases", () => {
    const { proc, fd } = setup();
    const cases: Record<string, [number, number]> = {
      seek_end_0: [0, SEEK_END],
      seek_set_0: [0, SEEK_SET],
      seek_cur_0: [0, SEEK_CUR],
      seek_end_minus_1: [-1, SEEK_END],
      seek_end_plus_1: [1, SEEK_END],
      seek_set_1: [1, SEEK_SET],
      seek_data_0: [0, SEEK_DATA],
      seek_hole_0: [0, SEEK_HOLE],
    };
    for (const [name, [off, whence]] of Object.entries(cases)) {
      expect(
        outcome(() => proc.lseek(fd, off, whence)),
        name,
      ).toEqual(fb.lseek[name]);
    }
  });

  it("fstat, fstatfs, fcntl, readlink", () => {
    const { proc, fd } = setup();
    const st = proc.fstat(fd);
    expect(octal(st.mode)).toBe(fb.fstat.st_mode_octal);
    expect([st.size, st.blocks, st.blksize, st.nlink, st.uid, st.gid]).toEqual([
      fb.fstat.st_size,
      fb.fstat.st_blocks,
      fb.fstat.st_blksize,
      fb.fstat.st_nlink,
      fb.fstat.st_uid,
      fb.fstat.st_gid,
    ]);
    expect([st.devMajor, st.devMinor, st.rdevMajor, st.rdevMinor]).toEqual([
      fb.fstat.st_dev_major,
      fb.fstat.st_dev_minor,
      fb.fstat.st_rdev_major,
      fb.fstat.st_rdev_minor,
    ]);
    const fs = proc.fstatfs(fd);
    expect(`0x${fs.fType.toString(16)}`).toBe(fb.fstatfs.f_type);
    expect(fs.fBsize).toBe(fb.fstatfs.f_bsize);
    expect(octal(proc.fcntl(fd, F_GETFL))).toBe(fb.fcntl.f_getfl_octal);
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(fb.readlink_proc_self_fd);
  });

  it("read, write, pread, ftruncate, fallocate, fsync", () => {
    const { proc, fd } = setup();
    expect(errnoOf(() => proc.read(fd, 1))).toBe(fb.read.errno);
    expect(errnoOf(() => proc.write(fd, new Uint8Array(1)))).toBe(fb.write.errno);
    expect(errnoOf(() => proc.pread(fd, 1, 0))).toBe(fb.pread.errno);
    expect(errnoOf(() => proc.ftruncate(fd, 0))).toBe(fb.ftruncate.errno);
    expect(errnoOf(() => proc.fallocate(fd, 0, 0, 4096))).toBe(fb.fallocate.errno);
    expect(errnoOf(() => proc.fsync(fd))).toBe(fb.fsync.errno);
  });

  it("fdinfo fresh, after dup, after dup and mmap, after closing and unmapping", () => {
    const { proc, fd } = setup();
    const ino = proc.fstat(fd).ino;
    const fix = (s: string) => s.replace(/ino:\t\d+/, `ino:\t${ino}`);
    const fdinfo = () => proc.readFile(`/proc/self/fdinfo/${fd}`);
    expect(fdinfo()).toBe(fix(fb.fdinfo_fresh));
    const dupFd = proc.dup(fd);
    expect(fdinfo()).toBe(fix(fb.fdinfo_after_dup));
    const m = proc.mmap(fd, 4096, PROT_READ, MAP_SHARED);
    expect(fdinfo()).toBe(fix(fb.fdinfo_after_dup_and_mmap));
    proc.close(dupFd);
    proc.munmap(m);
    expect(fdinfo()).toContain(`count:\t${fb.fdinfo_count_after_close_dup_and_munmap}\n`);
  });

  it("unknown ioctls give ENOTTY", () => {
    const { proc, fd } = setup();
    for (const [name, c] of Object.entries<{ cmd: string; errno: string }>(fb.unknown_ioctls)) {
      const cmd = Number.parseInt(c.cmd, 16) >>> 0;
      expect(
        errnoOf(() => proc.ioctl(fd, cmd, new Uint8Array(_IOC_SIZE(cmd) || 8))),
        name,
      ).toBe(c.errno);
    }
  });

  it("SYNC flag cases", () => {
    const { proc, fd } = setup();
    for (const [name, c] of Object.entries<Record<string, unknown>>(sys.dmabuf.sync_ioctl)) {
      const arg = name === "null_arg" ? null : encodeDmaBufSync(BigInt(c.flags as string));
      expect(
        outcome(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, arg)),
        name,
      ).toEqual({
        ret: c.ret,
        errno: c.errno,
      });
    }
  });

  it("SET_NAME cases: fdinfo, readlink and maps lines", () => {
    const { proc, heapFd } = boot();
    const sn = sys.dmabuf.set_name;
    const fd = alloc(proc, heapFd, 4096n);
    const ino = proc.fstat(fd).ino;
    const fix = (s: string) =>
      s
        .replace(/ino:\t\d+/, `ino:\t${ino}`)
        .replace(
          / 72( +)\//,
          (_m, pad: string) => ` ${ino}${" ".repeat(pad.length + 2 - String(ino).length)}/`,
        );
    // As the probe did: map, read /proc/self/maps, unmap (so fdinfo counts only the fd).
    const mapsLine = () => {
      const m = proc.mmap(fd, 4096, PROT_READ, MAP_SHARED);
      const line = proc.readFile("/proc/self/maps").trimEnd();
      proc.munmap(m);
      return line;
    };
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(sn.readlink_unnamed);
    expect(mapsLine()).toBe(fix(sn.maps_line_unnamed));
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).not.toMatch(/^name:/m);
    for (const [name, c] of Object.entries<Record<string, unknown>>(sn.cases)) {
      const strlen = c.strlen as number;
      const text =
        name === "space_tab_newline"
          ? "a b\tc\nd"
          : name === "short" ||
              name === "rename" ||
              name === "via_SET_NAME" ||
              name === "via_SET_NAME_A"
            ? (c.fdinfo_name_after as string)
            : "a".repeat(Math.max(0, strlen));
      const arg = strlen < 0 ? null : text;
      const cmd = Number.parseInt(c.cmd as string, 16) >>> 0;
      expect(
        outcome(() => proc.ioctl(fd, cmd, arg)),
        name,
      ).toEqual({ ret: c.ret, errno: c.errno });
      expect(proc.readFile(`/proc/self/fdinfo/${fd}`), name).toContain(
        `name:\t${c.fdinfo_name_after}\n`,
      );
      if (typeof c.fdinfo === "string")
        expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toBe(fix(c.fdinfo));
      if (typeof c.readlink === "string")
        expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(c.readlink);
      if (typeof c.maps_line === "string") expect(mapsLine()).toBe(fix(c.maps_line));
    }
    proc.ioctl(fd, DMA_BUF_SET_NAME, sn.named.name);
    expect(mapsLine()).toBe(fix(sn.named.maps_line));
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toBe(fix(sn.named.fdinfo));
    const m = proc.mmap(fd, 4096, PROT_READ, MAP_SHARED);
    proc.ioctl(fd, DMA_BUF_SET_NAME, "renamed-while-mapped");
    expect(proc.readFile("/proc/self/maps").trimEnd()).toBe(
      fix(sn.named.rename_while_mapped.maps_line_after),
    );
    proc.munmap(m);
  });
});

describe("6.1 oracle: mmap of a system-heap buffer", () => {
  const mm = sys.dmabuf.mmap;
  const setup = (fdFlags = O_RDWR | O_CLOEXEC, size = mm.buffer_size) => {
    const ctx = boot();
    return { ...ctx, fd: alloc(ctx.proc, ctx.heapFd, BigInt(size), fdFlags) };
  };
  const attempt = (
    proc: Process,
    fd: number,
    len: number,
    prot: number,
    flags: number,
    off: number,
  ) => {
    const e = errnoOf(() => proc.mmap(fd, len, prot, flags, off));
    return { ok: e === null, errno: e };
  };
  const flagsOf = (name: string) => (name === "MAP_PRIVATE" ? MAP_PRIVATE : MAP_SHARED);

  it("shared mapping: fresh reads zero, a second mapping sees the pattern, survives remap", () => {
    const { proc, fd } = setup();
    const a = proc.mmap(fd, mm.buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(a.read().every((b) => b === 0)).toBe(mm.shared_rw_full.fresh_buffer_reads_zero.match);
    for (let i = 0; i < mm.buffer_size; i += 4096) a.fill(i / 4096 + 1, i, 4096);
    const b = proc.mmap(fd, mm.buffer_size, PROT_READ, MAP_SHARED);
    expect(b.read(4096 * 2, 1)[0]).toBe(3);
    proc.munmap(a);
    proc.munmap(b);
    const c = proc.mmap(fd, mm.buffer_size, PROT_READ, MAP_SHARED);
    expect(c.read(4096 * 3, 1)[0] === 4).toBe(mm.remap_after_munmap.pattern_persisted.match);
    const last = proc.mmap(fd, 4096, PROT_READ, MAP_SHARED, mm.offset_last_page.offset);
    expect(last.read(0, 1)[0]).toBe(4);
  });

  for (const name of [
    "len_size_plus_page",
    "offset_last_page",
    "offset_equals_size",
    "offset_far_beyond",
    "offset_page_len_size",
    "offset_unaligned",
    "len_zero",
    "len_unaligned_size_minus_100",
    "private_rw_full",
    "private_rw_one_page_of_multi_page_buffer",
  ]) {
    it(name, () => {
      const c = mm[name];
      const { proc, fd } = setup();
      expect(
        attempt(proc, fd, c.length, PROT_READ | PROT_WRITE, flagsOf(c.flags), c.offset),
      ).toEqual({
        ok: c.ok,
        errno: c.errno,
      });
    });
  }

  it("prot_read_exec, prot_none, private_read_only_full", () => {
    const { proc, fd } = setup();
    const ok = (c: { ok: boolean; errno: string | null }) => ({ ok: c.ok, errno: c.errno });
    expect(attempt(proc, fd, mm.buffer_size, PROT_READ | PROT_EXEC, MAP_SHARED, 0)).toEqual(
      ok(mm.prot_read_exec),
    );
    expect(attempt(proc, fd, mm.buffer_size, 0, MAP_SHARED, 0)).toEqual(ok(mm.prot_none));
    expect(attempt(proc, fd, mm.buffer_size, PROT_READ, MAP_PRIVATE, 0)).toEqual(
      ok(mm.private_read_only_full),
    );
  });

  it("a private one-page buffer: writes stay private, the shared view reads zero", () => {
    const { proc, fd } = setup(O_RDWR | O_CLOEXEC, 4096);
    const priv = proc.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    priv.fill(0x77);
    const shared = proc.mmap(fd, 4096, PROT_READ, MAP_SHARED);
    expect(shared.read().every((b) => b === 0)).toBe(
      mm.private_rw_single_page_buffer.shared_view_reads_zero.match,
    );
  });

  it("a mapping outlives its fd", () => {
    const { proc, fd } = setup();
    const m = proc.mmap(fd, mm.buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(9);
    proc.close(fd);
    expect(m.read(100, 1)[0] === 9).toBe(mm.mapping_after_close_fd.pattern_still_readable.match);
    m.fill(10, 0, 1);
  });

  it("access modes: O_RDONLY and O_WRONLY buffers", () => {
    const am = mm.access_modes;
    const ro = setup(O_RDONLY, 4096);
    const res = (c: { ok: boolean; errno: string | null }) => ({ ok: c.ok, errno: c.errno });
    expect(attempt(ro.proc, ro.fd, 4096, PROT_READ, MAP_SHARED, 0)).toEqual(
      res(am.rdonly_fd_shared_read),
    );
    expect(attempt(ro.proc, ro.fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 0)).toEqual(
      res(am.rdonly_fd_shared_rw),
    );
    expect(attempt(ro.proc, ro.fd, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0)).toEqual(
      res(am.rdonly_fd_private_rw),
    );
    const m = ro.proc.mmap(ro.fd, 4096, PROT_READ, MAP_SHARED);
    expect(outcome(() => ro.proc.mprotect(m, PROT_READ | PROT_WRITE))).toEqual(
      am.rdonly_fd_mprotect_add_write,
    );
    const wo = setup(O_WRONLY, 4096);
    expect(attempt(wo.proc, wo.fd, 4096, PROT_READ, MAP_SHARED, 0)).toEqual(
      res(am.wronly_fd_shared_read),
    );
    expect(attempt(wo.proc, wo.fd, 4096, PROT_WRITE, MAP_SHARED, 0)).toEqual(
      res(am.wronly_fd_shared_write),
    );
  });

  it("mremap grows (EFAULT: a PFN mapping) and shrinks; madvise(DONTNEED) is refused", () => {
    const { proc, fd } = setup();
    const m = proc.mmap(fd, mm.buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0x42);
    const grow = errnoOf(() => proc.mremap(m, mm.buffer_size + 4096));
    expect({ ok: grow === null, errno: grow }).toEqual(mm.mremap_grow_by_page);
    expect(outcome(() => proc.madvise(m, MADV_DONTNEED))).toEqual({
      ret: mm.madvise_dontneed.ret,
      errno: mm.madvise_dontneed.errno,
    });
    expect(m.read().every((b) => b === 0x42)).toBe(mm.madvise_dontneed.pattern_after.match);
    let small: Mapping | undefined;
    const shrink = errnoOf(() => {
      small = proc.mremap(m, 4096);
    });
    expect({ ok: shrink === null, errno: shrink }).toEqual(mm.mremap_shrink_to_page);
    expect(small?.length).toBe(4096);
    expect(small?.read(0, 1)[0]).toBe(0x42);
  });
});

describe("6.1 oracle: poll on a system-heap buffer without fences", () => {
  const cases: Record<string, number> = {
    in_out: POLLIN | POLLOUT,
    in: POLLIN,
    out: POLLOUT,
    pri: POLLPRI,
    none: 0,
  };
  for (const [name, events] of Object.entries(cases)) {
    it(name, () => {
      const { proc, heapFd } = boot();
      const fd = alloc(proc, heapFd, 4096n);
      const c = sys.dmabuf.poll[name];
      const fds: PollFd[] = [{ fd, events }];
      expect(proc.poll(fds, c.timeout_ms)).toBe(c.ret);
      const names = [
        [POLLIN, "POLLIN"],
        [POLLOUT, "POLLOUT"],
      ] as const;
      expect(names.filter(([bit]) => (fds[0]?.revents ?? 0) & bit).map(([, n]) => n)).toEqual(
        c.revents,
      );
    });
  }
  it("epoll and select", () => {
    const { proc, heapFd } = boot();
    const fd = alloc(proc, heapFd, 4096n);
    const c = sys.dmabuf.poll;
    const ep = proc.epollCreate();
    expect(outcome(() => proc.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN | POLLOUT))).toEqual(
      c.epoll.ctl_add,
    );
    const events = proc.epollWait(ep, 8, 0);
    expect(events.length).toBe(c.epoll.wait.ret);
    expect(events[0]?.events).toBe(POLLIN | POLLOUT);
    const sel = proc.select([fd], [fd], 0);
    expect({
      ret: sel.count,
      readable: sel.readable.length > 0,
      writable: sel.writable.length > 0,
    }).toEqual({
      ret: c.select.ret,
      readable: c.select.readable,
      writable: c.select.writable,
    });
  });
});
