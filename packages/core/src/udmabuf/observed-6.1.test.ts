// Replays what a real Linux 6.1 kernel answered about /dev/udmabuf (the `udmabuf` section of
// fixtures/linux-6.1-observed.json) under the "6.1" profile.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { KernelSignal } from "../errors/kernel-bug.js";
import { exportSync, fileInfo, importSync, pollOne } from "../fence/test-fixtures.js";
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SYNC_RW,
  encodeDmaBufSync,
  encodeDmaBufSyncFile,
} from "../uapi/dma-buf.js";
import {
  F_ADD_SEALS,
  F_GETFD,
  F_GETFL,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  FD_CLOEXEC,
  O_RDONLY,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from "../uapi/fcntl.js";
import { _IOC_SIZE } from "../uapi/ioctl.js";
import { MFD_ALLOW_SEALING } from "../uapi/memfd.js";
import {
  MADV_DONTNEED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from "../uapi/mman.js";
import { POLLIN, POLLOUT, POLLPRI } from "../uapi/poll.js";
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST, UDMABUF_FLAGS_CLOEXEC } from "../uapi/udmabuf.js";
import { errnoOf, type PollFd, type Process } from "../vfs/process.js";
import { boot, create, createList, failsCleanly, memfd, outcome, PS } from "./test-fixtures.js";

const observed = JSON.parse(
  readFileSync(new URL("../../../../fixtures/linux-6.1-observed.json", import.meta.url), "utf8"),
);
const ud = observed.udmabuf;
type Case = Record<string, unknown>;

const octal = (n: number) => `0${n.toString(8)}`;

/** The seals each create case added (the case names say which; SHRINK where they do not). */
const SEALS: Record<string, number> = {
  no_seals: 0,
  seal_grow_only: F_SEAL_GROW,
  seal_shrink_and_write: F_SEAL_SHRINK | F_SEAL_WRITE,
  seal_shrink_and_future_write: F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE,
  seal_shrink_grow_seal: F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL,
};

/**
 * The memfd field of a create case. The model has no pipes and no tmpfs mount: a pipe is
 * stood in for by an epoll fd (another pseudo-filesystem file), a plain tmpfs file by a memfd
 * made without MFD_ALLOW_SEALING, whose seals (F_SEAL_SEAL only) are what a tmpfs file reports.
 */
function memfdFor(proc: Process, name: string, c: Case): number {
  const size = c.memfd_size as number;
  switch (name) {
    case "fd_minus_1":
      memfd(proc, size);
      return -1;
    case "fd_is_pipe":
      memfd(proc, size);
      return proc.epollCreate();
    case "fd_is_procfs_file":
      return proc.open("/proc/self/comm", O_RDONLY);
    case "fd_is_tmpfs_file_not_memfd":
    case "no_allow_sealing_flag": {
      const fd = proc.memfdCreate("plain", 0);
      proc.ftruncate(fd, size);
      return fd;
    }
    default: {
      const fd = memfd(proc, size, 0);
      const seals = SEALS[name] ?? F_SEAL_SHRINK;
      if ("add_seals" in c)
        expect(outcome(() => proc.fcntl(fd, F_ADD_SEALS, seals))).toEqual(c.add_seals);
      return fd;
    }
  }
}

describe("6.1 oracle: the /dev/udmabuf node", () => {
  it("a 0600 root character device 10:126 on devtmpfs", () => {
    const { proc, dev } = boot();
    const st = proc.fstat(dev);
    const want = ud.device_stat;
    expect(ud.supported).toBe(true);
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
});

describe("6.1 oracle: UDMABUF_CREATE", () => {
  for (const [name, c] of Object.entries<Case>(ud.create)) {
    it(`create.${name}`, () => {
      const { kernel, proc, dev } = boot();
      const fd = memfdFor(proc, name, c);
      const flags = Number(c.flags);
      const call = () => create(proc, dev, fd, c.offset as number, c.size as number, flags);
      if (c.errno !== null) {
        failsCleanly(kernel, c.errno as string, call);
        return;
      }
      const buf = call();
      expect(buf).toBe(c.ret);
      expect(proc.lseek(buf, 0, SEEK_END)).toBe(c.size_via_seek_end);
      const fcntl = c.fcntl as Record<string, unknown>;
      expect(octal(proc.fcntl(buf, F_GETFL))).toBe(fcntl.f_getfl_octal);
      expect(proc.fcntl(buf, F_GETFD) === FD_CLOEXEC).toBe(fcntl.fd_cloexec);
      expect(proc.readFile(`/proc/self/fdinfo/${buf}`)).toContain(
        `exp_name:\t${c.fdinfo_exp_name}\n`,
      );
    });
  }
});

describe("6.1 oracle: UDMABUF_CREATE_LIST", () => {
  const cl = ud.create_list;

  it("create_list.two_items: 16 KiB from two memfds, each item where it was asked for", () => {
    // Two memfds of four pages (fds 4 and 5), two pages of each: the new fd is 6, as observed.
    const { proc, dev } = boot();
    const a = memfd(proc, 4 * PS);
    const b = memfd(proc, 4 * PS);
    proc.pwrite(a, new Uint8Array(4 * PS).fill(0xa0), 0);
    proc.pwrite(b, new Uint8Array(4 * PS).fill(0xb0), 0);
    proc.pwrite(b, Uint8Array.of(0xb2), 2 * PS);
    const buf = createList(proc, dev, [
      [a, 0, 2 * PS],
      [b, 2 * PS, 2 * PS],
    ]);
    expect({ ret: buf, errno: null }).toEqual({ ret: cl.two_items.ret, errno: cl.two_items.errno });
    expect(proc.lseek(buf, 0, SEEK_END)).toBe(cl.two_items.size_via_seek_end);
    const m = proc.mmap(buf, 4 * PS, PROT_READ, MAP_SHARED);
    expect(m.read(0, 1)[0] === 0xa0).toBe(cl.two_items.item0_at_offset_0);
    expect(m.read(2 * PS, 1)[0] === 0xb2).toBe(cl.two_items.item1_at_offset_2_pages);
  });

  it("create_list.count_0 and count_1025_over_list_limit: EINVAL", () => {
    const { kernel, proc, dev } = boot();
    failsCleanly(kernel, cl.count_0.errno, () => createList(proc, dev, []));
    const fd = memfd(proc, PS);
    const items = Array.from({ length: 1025 }, () => [fd, 0, PS] as const);
    failsCleanly(kernel, cl.count_1025_over_list_limit.errno, () => createList(proc, dev, items));
  });

  it("create_list.second_item_bad_fd: EBADFD, the first item's pages are given back", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, 2 * PS);
    failsCleanly(kernel, cl.second_item_bad_fd.errno, () =>
      createList(proc, dev, [
        [fd, 0, 2 * PS],
        [-1, 0, PS],
      ]),
    );
  });

  it("create_list.null_arg: EFAULT (and UDMABUF_CREATE's too)", () => {
    const { kernel, proc, dev } = boot();
    failsCleanly(kernel, cl.null_arg.errno, () => proc.ioctl(dev, UDMABUF_CREATE_LIST, null));
    failsCleanly(kernel, "EFAULT", () => proc.ioctl(dev, UDMABUF_CREATE, null));
  });
});

describe("6.1 oracle: udmabuf semantics", () => {
  const s = ud.semantics;
  const setup = () => {
    const ctx = boot();
    const fd = memfd(ctx.proc, PS);
    const buf = create(ctx.proc, ctx.dev, fd, 0, PS, UDMABUF_FLAGS_CLOEXEC);
    return { ...ctx, fd, buf };
  };

  it("writes through either side are visible through the other", () => {
    const { proc, fd, buf } = setup();
    const ub = proc.mmap(buf, PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    const mf = proc.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    mf.fill(0x11, 0, 1);
    expect(ub.read(0, 1)[0] === 0x11).toBe(s.memfd_write_visible_in_udmabuf_map);
    ub.fill(0x22, 1, 1);
    expect(mf.read(1, 1)[0] === 0x22).toBe(s.udmabuf_write_visible_in_memfd_map);
    ub.fill(0x33, 2, 1);
    expect(proc.pread(fd, 1, 2)[0] === 0x33).toBe(s.udmabuf_write_visible_via_memfd_pread);
    proc.pwrite(fd, Uint8Array.of(0x44), 3);
    expect(ub.read(3, 1)[0] === 0x44).toBe(s.memfd_pwrite_visible_in_udmabuf_map);
  });

  it("the memfd cannot shrink, may grow; the buffer keeps its size", () => {
    const { kernel, proc, fd, buf } = setup();
    failsCleanly(kernel, s.memfd_shrink_after_create.errno, () => proc.ftruncate(fd, 0));
    expect(outcome(() => proc.ftruncate(fd, 2 * PS))).toEqual(s.memfd_grow_after_create);
    expect(proc.fstat(fd).size).toBe(s.size_after_memfd_grow);
    expect(proc.lseek(buf, 0, SEEK_END)).toBe(PS);
  });

  it("F_SEAL_WRITE is EBUSY (after ~150 ms: pinned pages); F_SEAL_FUTURE_WRITE is fine", () => {
    const { kernel, proc, fd } = setup();
    const t0 = kernel.clock.now;
    failsCleanly(kernel, s.add_seal_write_after_create.errno, () =>
      proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE),
    );
    expect(kernel.clock.now - t0).toBe(150e6);
    expect(outcome(() => proc.fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))).toEqual(
      s.add_seal_future_write_after_create,
    );
    // Now that the memfd is future-write sealed, no new udmabuf can be made from it.
    failsCleanly(kernel, "EINVAL", () => create(proc, 3, fd, 0, PS));
  });

  it("map_after_memfd_closed: the buffer keeps the pages and their data", () => {
    const { kernel, proc, fd, buf } = setup();
    proc.pwrite(fd, Uint8Array.of(0x5a), 0);
    const free = kernel.buddy.freePageCount();
    proc.close(fd);
    expect(kernel.buddy.freePageCount()).toBe(free);
    const m = proc.mmap(buf, PS, PROT_READ, MAP_SHARED);
    expect({ ok: true, errno: null, data_kept: m.read(0, 1)[0] === 0x5a }).toEqual(
      s.map_after_memfd_closed,
    );
    proc.munmap(m);
    proc.close(buf);
    expect(kernel.buddy.freePageCount()).toBe(free + 1);
  });

  it("unknown_ioctl_on_device: ENOTTY", () => {
    const { kernel, proc, dev } = boot();
    failsCleanly(kernel, s.unknown_ioctl_on_device.errno, () =>
      proc.ioctl(dev, 0x40187544, new Uint8Array(24)),
    );
  });
});

describe("6.1 oracle: a udmabuf dma-buf fd", () => {
  const d = ud.dmabuf;
  const fb = d.fd_basics;
  /** A udmabuf of `size` bytes over a fresh (zero) memfd, O_CLOEXEC like the probe's. */
  const setup = (size: number) => {
    const ctx = boot();
    const fd = memfd(ctx.proc, size);
    return {
      ...ctx,
      memfd: fd,
      buf: create(ctx.proc, ctx.dev, fd, 0, size, UDMABUF_FLAGS_CLOEXEC),
    };
  };

  it("is exported by udmabuf", () => {
    const { kernel, buf, proc } = setup(PS);
    expect(kernel.dmaBuf.fromFile(proc.fileOf(buf))?.expName).toBe(d.exporter);
  });

  it("lseek cases", () => {
    const { proc, buf } = setup(fb.buffer_size);
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
        outcome(() => proc.lseek(buf, off, whence)),
        name,
      ).toEqual(fb.lseek[name]);
    }
  });

  it("fstat, fstatfs, fcntl, readlink", () => {
    const { proc, buf } = setup(fb.buffer_size);
    const st = proc.fstat(buf);
    const f = fb.fstat;
    expect(octal(st.mode)).toBe(f.st_mode_octal);
    expect([st.size, st.blocks, st.blksize, st.nlink, st.uid, st.gid]).toEqual([
      f.st_size,
      f.st_blocks,
      f.st_blksize,
      f.st_nlink,
      f.st_uid,
      f.st_gid,
    ]);
    expect([st.devMajor, st.devMinor, st.rdevMajor, st.rdevMinor]).toEqual([
      f.st_dev_major,
      f.st_dev_minor,
      f.st_rdev_major,
      f.st_rdev_minor,
    ]);
    const fs = proc.fstatfs(buf);
    expect(`0x${fs.fType.toString(16)}`).toBe(fb.fstatfs.f_type);
    expect(fs.fBsize).toBe(fb.fstatfs.f_bsize);
    expect(octal(proc.fcntl(buf, F_GETFL))).toBe(fb.fcntl.f_getfl_octal);
    expect(proc.fcntl(buf, F_GETFD) === FD_CLOEXEC).toBe(fb.fcntl.fd_cloexec);
    expect(proc.readlink(`/proc/self/fd/${buf}`)).toBe(fb.readlink_proc_self_fd);
  });

  it("read, write, pread, ftruncate, fallocate, fsync", () => {
    const { proc, buf } = setup(fb.buffer_size);
    expect(errnoOf(() => proc.read(buf, 1))).toBe(fb.read.errno);
    expect(errnoOf(() => proc.write(buf, new Uint8Array(1)))).toBe(fb.write.errno);
    expect(errnoOf(() => proc.pread(buf, 1, 0))).toBe(fb.pread.errno);
    expect(errnoOf(() => proc.ftruncate(buf, 0))).toBe(fb.ftruncate.errno);
    expect(errnoOf(() => proc.fallocate(buf, 0, 0, 4096))).toBe(fb.fallocate.errno);
    expect(errnoOf(() => proc.fsync(buf))).toBe(fb.fsync.errno);
  });

  it("fdinfo fresh, after dup, after dup and mmap, after closing and unmapping", () => {
    const { proc, buf } = setup(fb.buffer_size);
    const ino = proc.fstat(buf).ino;
    const fix = (t: string) => t.replace(/ino:\t\d+/, `ino:\t${ino}`);
    const fdinfo = () => proc.readFile(`/proc/self/fdinfo/${buf}`);
    expect(fdinfo()).toBe(fix(fb.fdinfo_fresh));
    const dupFd = proc.dup(buf);
    expect(fdinfo()).toBe(fix(fb.fdinfo_after_dup));
    const m = proc.mmap(buf, PS, PROT_READ, MAP_SHARED);
    expect(fdinfo()).toBe(fix(fb.fdinfo_after_dup_and_mmap));
    proc.close(dupFd);
    proc.munmap(m);
    expect(fdinfo()).toContain(`count:\t${fb.fdinfo_count_after_close_dup_and_munmap}\n`);
  });

  it("unknown ioctls give ENOTTY", () => {
    const { kernel, proc, buf } = setup(fb.buffer_size);
    for (const [name, c] of Object.entries<{ cmd: string; errno: string }>(fb.unknown_ioctls)) {
      const cmd = Number.parseInt(c.cmd, 16) >>> 0;
      const before = kernel.snapshot();
      expect(
        errnoOf(() => proc.ioctl(buf, cmd, new Uint8Array(_IOC_SIZE(cmd) || 8))),
        name,
      ).toBe(c.errno);
      expect(kernel.snapshot()).toEqual(before);
    }
  });

  it("SYNC cases in the probe's order: END before any START is EINVAL", () => {
    const { kernel, proc, buf } = setup(fb.buffer_size);
    for (const [name, c] of Object.entries<Case>(d.sync_ioctl)) {
      const arg = name === "null_arg" ? null : encodeDmaBufSync(BigInt(c.flags as string));
      const before = kernel.snapshot();
      expect(
        outcome(() => proc.ioctl(buf, DMA_BUF_IOCTL_SYNC, arg)),
        name,
      ).toEqual({
        ret: c.ret,
        errno: c.errno,
      });
      if (c.errno !== null) expect(kernel.snapshot(), name).toEqual(before);
    }
    // The misc device's table was mapped for reading (the first START); Linux's DMA-API
    // debugging would complain about the later syncs in other directions, and so does the
    // model, without failing the calls.
    const reports = kernel.dma.debug.reports.filter((r) => r.device === "udmabuf");
    expect(reports.length).toBeGreaterThan(0);
    expect(new Set(reports.map((r) => r.code))).toEqual(new Set(["DMA_API_SYNC_WRONG_DIR"]));
  });

  it("SET_NAME cases: fdinfo, readlink and maps lines", () => {
    const sn = d.set_name;
    const { proc, buf } = setup(PS);
    const ino = proc.fstat(buf).ino;
    const fix = (t: string) =>
      t
        .replace(/ino:\t\d+/, `ino:\t${ino}`)
        .replace(
          / 90( +)\//,
          (_m, pad: string) => ` ${ino}${" ".repeat(pad.length + 2 - String(ino).length)}/`,
        );
    const mapsLine = () => {
      const m = proc.mmap(buf, PS, PROT_READ, MAP_SHARED);
      const line = proc.readFile("/proc/self/maps").trimEnd();
      proc.munmap(m);
      return line;
    };
    expect(proc.readlink(`/proc/self/fd/${buf}`)).toBe(sn.readlink_unnamed);
    expect(mapsLine()).toBe(fix(sn.maps_line_unnamed));
    expect(proc.readFile(`/proc/self/fdinfo/${buf}`)).not.toMatch(/^name:/m);
    expect(sn.fdinfo_name_unnamed).toBeNull();
    for (const [name, c] of Object.entries<Case>(sn.cases)) {
      const strlen = c.strlen as number;
      const text =
        name === "space_tab_newline"
          ? "a b\tc\nd"
          : ["short", "rename", "via_SET_NAME", "via_SET_NAME_A"].includes(name)
            ? (c.fdinfo_name_after as string)
            : "a".repeat(Math.max(0, strlen));
      const cmd = Number.parseInt(c.cmd as string, 16) >>> 0;
      expect(
        outcome(() => proc.ioctl(buf, cmd, strlen < 0 ? null : text)),
        name,
      ).toEqual({
        ret: c.ret,
        errno: c.errno,
      });
      expect(proc.readFile(`/proc/self/fdinfo/${buf}`), name).toContain(
        `name:\t${c.fdinfo_name_after}\n`,
      );
      if (typeof c.fdinfo === "string")
        expect(proc.readFile(`/proc/self/fdinfo/${buf}`)).toBe(fix(c.fdinfo));
      if (typeof c.readlink === "string")
        expect(proc.readlink(`/proc/self/fd/${buf}`)).toBe(c.readlink);
      if (typeof c.maps_line === "string") expect(mapsLine()).toBe(fix(c.maps_line));
    }
    proc.ioctl(buf, DMA_BUF_SET_NAME, sn.named.name);
    expect(mapsLine()).toBe(fix(sn.named.maps_line));
    expect(proc.readFile(`/proc/self/fdinfo/${buf}`)).toBe(fix(sn.named.fdinfo));
    expect(proc.readlink(`/proc/self/fd/${buf}`)).toBe(sn.named.readlink);
    const m = proc.mmap(buf, PS, PROT_READ, MAP_SHARED);
    expect(outcome(() => proc.ioctl(buf, DMA_BUF_SET_NAME, "renamed-while-mapped"))).toEqual({
      ret: sn.named.rename_while_mapped.ret,
      errno: sn.named.rename_while_mapped.errno,
    });
    expect(proc.readFile("/proc/self/maps").trimEnd()).toBe(
      fix(sn.named.rename_while_mapped.maps_line_after),
    );
    proc.munmap(m);
  });
});

describe("6.1 oracle: mmap of a udmabuf", () => {
  const mm = ud.dmabuf.mmap;
  const setup = (size = mm.buffer_size) => {
    const ctx = boot();
    const fd = memfd(ctx.proc, size);
    return { ...ctx, buf: create(ctx.proc, ctx.dev, fd, 0, size, UDMABUF_FLAGS_CLOEXEC) };
  };
  const attempt = (proc: Process, fd: number, c: Case, prot = PROT_READ | PROT_WRITE) => {
    const e = errnoOf(() =>
      proc.mmap(
        fd,
        c.length as number,
        prot,
        c.flags === "MAP_PRIVATE" ? MAP_PRIVATE : MAP_SHARED,
        c.offset as number,
      ),
    );
    return { ok: e === null, errno: e };
  };
  const res = (c: Case) => ({ ok: c.ok, errno: c.errno });

  it("shared mapping: fresh reads zero, a second mapping sees the pattern, survives remap", () => {
    const { proc, buf } = setup();
    const a = proc.mmap(buf, mm.buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(a.read().every((b) => b === 0)).toBe(mm.shared_rw_full.fresh_buffer_reads_zero.match);
    for (let i = 0; i < mm.buffer_size; i += PS) a.fill(i / PS + 1, i, PS);
    const b = proc.mmap(buf, mm.buffer_size, PROT_READ, MAP_SHARED);
    expect(b.read(2 * PS, 1)[0] === 3).toBe(mm.shared_rw_full.second_mapping_sees_pattern.match);
    proc.munmap(a);
    proc.munmap(b);
    const c = proc.mmap(buf, mm.buffer_size, PROT_READ, MAP_SHARED);
    expect(c.read(3 * PS, 1)[0] === 4).toBe(mm.remap_after_munmap.pattern_persisted.match);
    const last = proc.mmap(buf, PS, PROT_READ, MAP_SHARED, mm.offset_last_page.offset);
    expect(last.read(0, 1)[0] === 4).toBe(mm.offset_last_page.first_byte_matches_pattern_at_offset);
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
      const { kernel, proc, buf } = setup();
      const c = mm[name] as Case;
      const before = kernel.snapshot();
      expect(attempt(proc, buf, c)).toEqual(res(c));
      if (!c.ok) expect(kernel.snapshot()).toEqual(before);
    });
  }

  it("prot_read_exec, prot_none, private_read_only_full, private_rw_single_page_buffer", () => {
    const { proc, buf } = setup();
    expect(attempt(proc, buf, mm.prot_read_exec, PROT_READ | PROT_EXEC)).toEqual(
      res(mm.prot_read_exec),
    );
    expect(attempt(proc, buf, mm.prot_none, 0)).toEqual(res(mm.prot_none));
    expect(attempt(proc, buf, mm.private_read_only_full, PROT_READ)).toEqual(
      res(mm.private_read_only_full),
    );
    const one = setup(PS);
    expect(attempt(one.proc, one.buf, mm.private_rw_single_page_buffer)).toEqual(
      res(mm.private_rw_single_page_buffer),
    );
  });

  it("mremap grows (pages fault in, not a PFN mapping); the grown tail raises SIGBUS", () => {
    const { proc, buf } = setup();
    const m = proc.mmap(buf, mm.buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0x42);
    let grown = m;
    const e = errnoOf(() => {
      grown = proc.mremap(m, mm.buffer_size + PS);
    });
    expect({ ok: e === null, errno: e }).toEqual(mm.mremap_grow_by_page);
    expect(grown.read(0, 1)[0]).toBe(0x42);
    let signal: string | null = null;
    try {
      grown.read(mm.buffer_size, 1);
    } catch (err) {
      if (!(err instanceof KernelSignal)) throw err;
      signal = err.code;
    }
    expect(signal).toBe(mm.mremap_grown_tail_access.read_signal);
  });

  it("madvise(DONTNEED) drops the page table; the pattern faults back in", () => {
    const { proc, buf } = setup();
    const m = proc.mmap(buf, mm.buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0x24);
    expect(outcome(() => proc.madvise(m, MADV_DONTNEED))).toEqual({
      ret: mm.madvise_dontneed.ret,
      errno: mm.madvise_dontneed.errno,
    });
    expect(m.read().every((b) => b === 0x24)).toBe(mm.madvise_dontneed.pattern_after.match);
  });

  it("a mapping outlives its fd", () => {
    const { proc, buf } = setup();
    const m = proc.mmap(buf, mm.buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(9);
    proc.close(buf);
    expect(m.read(100, 1)[0] === 9).toBe(mm.mapping_after_close_fd.pattern_still_readable.match);
    expect(mm.mapping_after_close_fd.write.signal).toBeNull();
    m.fill(10, 0, 1);
  });
});

describe("6.1 oracle: poll on a udmabuf", () => {
  const pl = ud.dmabuf.poll;
  const cases: Record<string, number> = {
    in_out: POLLIN | POLLOUT,
    in: POLLIN,
    out: POLLOUT,
    pri: POLLPRI,
    none: 0,
    in_out_again: POLLIN | POLLOUT,
  };
  const names = [
    [POLLIN, "POLLIN"],
    [POLLOUT, "POLLOUT"],
  ] as const;
  it("poll, epoll and select", () => {
    const { proc, dev } = boot();
    const buf = create(proc, dev, memfd(proc, PS), 0, PS);
    for (const [name, events] of Object.entries(cases)) {
      const c = pl[name];
      const fds: PollFd[] = [{ fd: buf, events }];
      expect(proc.poll(fds, c.timeout_ms), name).toBe(c.ret);
      expect(names.filter(([bit]) => (fds[0]?.revents ?? 0) & bit).map(([, n]) => n)).toEqual(
        c.revents,
      );
    }
    const ep = proc.epollCreate();
    expect(outcome(() => proc.epollCtl(ep, 1, buf, POLLIN | POLLOUT))).toEqual(pl.epoll.ctl_add);
    const events = proc.epollWait(ep, 8, 0);
    expect(events.length).toBe(pl.epoll.wait.ret);
    expect(names.filter(([bit]) => (events[0]?.events ?? 0) & bit).map(([, n]) => n)).toEqual(
      pl.epoll.events,
    );
    const sel = proc.select([buf], [buf], 0);
    expect({
      ret: sel.count,
      readable: sel.readable.length > 0,
      writable: sel.writable.length > 0,
    }).toEqual({
      ret: pl.select.ret,
      readable: pl.select.readable,
      writable: pl.select.writable,
    });
  });
});

describe("6.1 oracle: sync files of a udmabuf", () => {
  const sf = ud.dmabuf.sync_file;
  const setup = () => {
    const ctx = boot();
    return { ...ctx, buf: create(ctx.proc, ctx.dev, memfd(ctx.proc, PS), 0, PS) };
  };
  const asObserved = (proc: Process, fd: number) => {
    const info = fileInfo(proc, fd);
    return {
      ret: 0,
      errno: null,
      name: info.name,
      status: info.status,
      flags: info.flags,
      num_fences: info.numFences,
      fences: info.fences.map((f) => ({
        obj_name: f.objName,
        driver_name: f.driverName,
        status: f.status,
        flags: f.flags,
        timestamp_nonzero: f.timestampNs !== 0n,
      })),
    };
  };

  it("is supported", () => {
    expect(sf.supported).toBe(true);
  });

  for (const [name, c] of Object.entries<Case>(sf.export)) {
    it(`EXPORT_SYNC_FILE ${name}`, () => {
      const { kernel, proc, buf } = setup();
      const arg =
        c.flags === undefined ? null : encodeDmaBufSyncFile({ flags: Number(c.flags), fd: -1 });
      if (c.errno !== null) {
        failsCleanly(kernel, c.errno as string, () =>
          proc.ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg),
        );
        return;
      }
      expect(proc.ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg)).toBe(c.ret);
      const fd = new DataView((arg as Uint8Array).buffer).getInt32(4, true);
      expect((proc.fcntl(fd, F_GETFD) & FD_CLOEXEC) !== 0).toBe(c.sync_fd_cloexec);
      expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(c.sync_fd_readlink);
      expect(asObserved(proc, fd)).toEqual(c.sync_file_info);
      const poll = c.sync_fd_poll_in as Case;
      expect(pollOne(proc, fd, POLLIN, poll.timeout_ms as number)).toEqual([poll.ret, POLLIN]);
    });
  }

  for (const [name, c] of Object.entries<Case>(sf.import)) {
    it(`IMPORT_SYNC_FILE ${name}`, () => {
      const { kernel, proc, buf } = setup();
      const valid = exportSync(proc, buf, DMA_BUF_SYNC_RW);
      const closed = exportSync(proc, buf, DMA_BUF_SYNC_RW);
      proc.close(closed);
      const fd = { fd_minus_1: -1, fd_is_a_dmabuf: buf, fd_closed_number: closed }[name] ?? valid;
      const arg =
        c.flags === undefined ? null : encodeDmaBufSyncFile({ flags: Number(c.flags), fd });
      const call = () => proc.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg);
      if (c.errno !== null) failsCleanly(kernel, c.errno as string, call);
      else expect(call()).toBe(c.ret);
    });
  }

  it("export after import, and poll after import", () => {
    const { proc, buf } = setup();
    const stub = exportSync(proc, buf, DMA_BUF_SYNC_RW);
    importSync(proc, buf, stub, DMA_BUF_SYNC_RW);
    const again = exportSync(proc, buf, DMA_BUF_SYNC_RW);
    expect(asObserved(proc, again)).toEqual(sf.export_after_import.sync_file_info);
    const p = sf.dmabuf_poll_after_import;
    expect(pollOne(proc, buf, POLLIN | POLLOUT, p.timeout_ms)).toEqual([p.ret, POLLIN | POLLOUT]);
  });
});

describe("6.1 oracle: memfd_create of the probe", () => {
  it("a sealable memfd starts with no seals and takes F_SEAL_SHRINK", () => {
    const { proc } = boot();
    const fd = proc.memfdCreate("oracle", MFD_ALLOW_SEALING);
    expect(fd).toBe(4);
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)).toBe(0);
  });
});
