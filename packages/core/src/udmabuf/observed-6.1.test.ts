// Replays what a real Linux 6.1 kernel answered about /dev/udmabuf (the `udmabuf` section of
// fixtures/linux-6.1-observed.json) under the "6.1" profile.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
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
  SEEK_END,
} from "../uapi/fcntl.js";
import { MFD_ALLOW_SEALING } from "../uapi/memfd.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST, UDMABUF_FLAGS_CLOEXEC } from "../uapi/udmabuf.js";
import { type Process } from "../vfs/process.js";
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

// The udmabuf's own fd (udmabuf.dmabuf: fd_basics, sync_ioctl with its DMA-API debugging
// reports, set_name, mmap, poll, sync_file) is replayed for every exporter in
// packages/testing/src/oracle-dmabuf-fd.test.ts.

describe("6.1 oracle: memfd_create of the probe", () => {
  it("a sealable memfd starts with no seals and takes F_SEAL_SHRINK", () => {
    const { proc } = boot();
    const fd = proc.memfdCreate("oracle", MFD_ALLOW_SEALING);
    expect(fd).toBe(4);
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)).toBe(0);
  });
});
