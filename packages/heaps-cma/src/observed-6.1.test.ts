// The 6.1 CMA heap ("reserved") against what Linux 6.1.176 answered: every case is read from
// linux-6.1-observed.json (`heaps.reserved`, `heap_discovery`), none is written out here.

import { readFileSync } from "node:fs";
import {
  allocFromHeap,
  createKernel,
  DMA_BUF_IOCTL_SYNC,
  DMA_HEAP_IOCTL_ALLOC,
  decodeDmaHeapAllocationData,
  encodeDmaBufSync,
  encodeDmaHeapAllocationData,
  errnoOf,
  F_GETFD,
  F_GETFL,
  FD_CLOEXEC,
  type Kernel,
  MADV_DONTNEED,
  MAP_PRIVATE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  type Process,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from "@dmabuf/core";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { CmaHeap } from "./index.js";
import { bufferOf } from "./test-fixtures.js";

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
interface MmapCase extends Outcome {
  length: number;
  offset: number;
  flags: "MAP_SHARED" | "MAP_PRIVATE";
}
interface SetNameCase extends Outcome {
  cmd: string;
  strlen: number;
  fdinfo_name_after: string;
  fdinfo?: string;
  readlink?: string;
  maps_line?: string;
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
      dmabuf: {
        exporter: string;
        fd_basics: {
          buffer_size: number;
          lseek: Cases<Outcome>;
          fstat: {
            st_mode_octal: string;
            st_size: number;
            st_blocks: number;
            st_blksize: number;
            st_nlink: number;
            st_uid: number;
            st_gid: number;
            st_dev_major: number;
            st_dev_minor: number;
            st_rdev_major: number;
            st_rdev_minor: number;
          };
          fstatfs: { f_type: string; f_bsize: number };
          fcntl: FcntlFlags;
          readlink_proc_self_fd: string;
          read: Outcome;
          write: Outcome;
          pread: Outcome;
          ftruncate: Outcome;
          fallocate: Outcome;
          fsync: Outcome;
          fdinfo_fresh: string;
          fdinfo_after_dup: string;
          fdinfo_after_dup_and_mmap: string;
          fdinfo_count_after_close_dup_and_munmap: string;
          unknown_ioctls: Cases<Outcome & { cmd: string }>;
        };
        sync_ioctl: Cases<Outcome & { flags?: string }>;
        set_name: {
          readlink_unnamed: string;
          maps_line_unnamed: string;
          fdinfo_name_unnamed: string | null;
          cases: Cases<SetNameCase>;
          named: {
            name: string;
            fdinfo: string;
            readlink: string;
            maps_line: string;
            rename_while_mapped: Outcome & { maps_line_after: string };
          };
        };
        mmap: Cases<unknown> & {
          buffer_size: number;
          shared_rw_full: MmapCase & { fresh_buffer_reads_zero: { match: boolean } };
          remap_after_munmap: Outcome;
          offset_last_page: MmapCase & { first_byte_matches_pattern_at_offset: boolean };
          mremap_grown_tail_access: { read_signal: string };
          madvise_dontneed: Outcome & { pattern_after: { match: boolean } };
          mapping_after_close_fd: { pattern_still_readable: { match: boolean } };
          access_modes: Cases<MmapCase | Outcome>;
        };
      };
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

describe("dma-buf fd basics (observed dmabuf.fd_basics)", () => {
  const b = reserved.dmabuf.fd_basics;
  const setup = () => {
    const { kernel, proc } = boot();
    const fd = allocFromHeap(proc, HEAP, b.buffer_size, { fdFlags: O_RDWR | O_CLOEXEC });
    return { kernel, proc, fd, buf: bufferOf(kernel, proc, fd) };
  };
  const whence: Record<string, number> = {
    set: SEEK_SET,
    cur: SEEK_CUR,
    end: SEEK_END,
    data: SEEK_DATA,
    hole: SEEK_HOLE,
  };

  it.each(Object.entries(b.lseek))("lseek %s", (name, c) => {
    const m = /^seek_([a-z]+)_(minus_|plus_)?(\d+)$/.exec(name) as RegExpExecArray;
    const offset = (m[2] === "minus_" ? -1 : 1) * Number(m[3]);
    const { proc, fd } = setup();
    let ret = -1;
    expect(errnoOf(() => (ret = proc.lseek(fd, offset, whence[m[1] as string] as number)))).toBe(
      expected(c),
    );
    if (c.errno === null) expect(ret).toBe(c.ret);
  });

  it("fstat, fstatfs, fcntl and the fd link", () => {
    const { proc, fd } = setup();
    const st = proc.fstat(fd);
    const f = b.fstat;
    expect(st).toMatchObject({
      mode: octal(f.st_mode_octal),
      size: f.st_size,
      blocks: f.st_blocks,
      blksize: f.st_blksize,
      nlink: f.st_nlink,
      uid: f.st_uid,
      gid: f.st_gid,
      devMajor: f.st_dev_major,
      devMinor: f.st_dev_minor,
      rdevMajor: f.st_rdev_major,
      rdevMinor: f.st_rdev_minor,
    });
    expect(proc.fstatfs(fd)).toEqual({
      fType: Number(hex(b.fstatfs.f_type)),
      fBsize: b.fstatfs.f_bsize,
    });
    expect(proc.fcntl(fd, F_GETFL)).toBe(octal(b.fcntl.f_getfl_octal));
    expect(proc.fcntl(fd, F_GETFD) === FD_CLOEXEC).toBe(b.fcntl.fd_cloexec);
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(b.readlink_proc_self_fd);
  });

  it("read, write, pread, ftruncate, fallocate, fsync fail as observed", () => {
    const { proc, fd } = setup();
    const calls: Record<string, () => unknown> = {
      read: () => proc.read(fd, 16),
      write: () => proc.write(fd, new Uint8Array(16)),
      pread: () => proc.pread(fd, 16, 0),
      ftruncate: () => proc.ftruncate(fd, 0),
      fallocate: () => proc.fallocate(fd, 0, 0, 4096),
      fsync: () => proc.fsync(fd),
    };
    for (const [what, call] of Object.entries(calls)) {
      expect(errnoOf(call), what).toBe(expected(b[what as keyof typeof b] as Outcome));
    }
  });

  it("fdinfo: fresh, after dup, after dup and mmap, and after closing both", () => {
    const { proc, fd, buf } = setup();
    const fdinfo = () => proc.readFile(`/proc/self/fdinfo/${fd}`);
    const ours = (text: string) => text.replace(/\nino:\t\d+\n/, `\nino:\t${buf.ino}\n`);
    expect(fdinfo()).toBe(ours(b.fdinfo_fresh));
    const dup = proc.dup(fd);
    expect(fdinfo()).toBe(ours(b.fdinfo_after_dup));
    const m = proc.mmap(fd, b.buffer_size, PROT_READ, MAP_SHARED);
    expect(fdinfo()).toBe(ours(b.fdinfo_after_dup_and_mmap));
    proc.close(dup);
    proc.munmap(m);
    expect(fdinfo()).toContain(`\ncount:\t${b.fdinfo_count_after_close_dup_and_munmap}\n`);
  });

  it.each(Object.entries(b.unknown_ioctls))("ioctl %s", (_name, c) => {
    const { proc, fd } = setup();
    expect(errnoOf(() => proc.ioctl(fd, Number(hex(c.cmd)), new Uint8Array(256)))).toBe(
      expected(c),
    );
  });
});

describe("DMA_BUF_IOCTL_SYNC (observed dmabuf.sync_ioctl, in sequence)", () => {
  it("answers every case as 6.1 did", () => {
    const { proc } = boot();
    const fd = allocFromHeap(proc, HEAP, 4096);
    for (const [name, c] of Object.entries(reserved.dmabuf.sync_ioctl)) {
      const arg = c.flags === undefined ? null : encodeDmaBufSync(hex(c.flags));
      expect(
        errnoOf(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, arg)),
        name,
      ).toBe(expected(c));
    }
  });
});

describe("DMA_BUF_SET_NAME (observed dmabuf.set_name)", () => {
  const s = reserved.dmabuf.set_name;
  const setup = () => {
    const { kernel, proc } = boot();
    const fd = allocFromHeap(proc, HEAP, 4096);
    const buf = bufferOf(kernel, proc, fd);
    // Our inode numbers differ from the probe's; the maps line keeps its column layout.
    const ours = (text: string) =>
      text
        .replace(/\nino:\t\d+\n/, `\nino:\t${buf.ino}\n`)
        .replace(/ 00:08 \d+ +/, (m) => ` 00:08 ${buf.ino}`.padEnd(m.length));
    // The probe mapped the buffer only to read the maps line (fdinfo counts stay at 1).
    const maps = () => {
      const m = proc.mmap(fd, 4096, PROT_READ, MAP_SHARED);
      const text = proc.readFile("/proc/self/maps");
      proc.munmap(m);
      return text;
    };
    return { proc, fd, ours, maps };
  };
  // As the probe read it: the rest of the `name:` line.
  const fdinfoName = (text: string): string | null => /\nname:\t([^\n]*)/.exec(text)?.[1] ?? null;
  /** The name a case set: its link text when recorded (names may hold a newline). */
  const nameOf = (c: SetNameCase): string | null => {
    if (c.strlen < 0) return null;
    if (c.errno !== null) return "a".repeat(c.strlen);
    return c.readlink?.slice("/dmabuf:".length) ?? c.fdinfo_name_after;
  };

  it("answers every case in sequence, with the name, link and maps line after each", () => {
    const { proc, fd, ours, maps } = setup();
    const fdinfo = () => proc.readFile(`/proc/self/fdinfo/${fd}`);
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(s.readlink_unnamed);
    expect(maps()).toBe(`${ours(s.maps_line_unnamed)}\n`);
    expect(fdinfoName(fdinfo())).toBe(s.fdinfo_name_unnamed);
    for (const [name, c] of Object.entries(s.cases)) {
      const arg = nameOf(c);
      if (arg !== null) expect(new TextEncoder().encode(arg).length, name).toBe(c.strlen);
      expect(
        errnoOf(() => proc.ioctl(fd, Number(hex(c.cmd)), arg)),
        name,
      ).toBe(expected(c));
      expect(fdinfoName(fdinfo()), name).toBe(c.fdinfo_name_after);
      if (c.fdinfo) expect(fdinfo(), name).toBe(ours(c.fdinfo));
      if (c.readlink) expect(proc.readlink(`/proc/self/fd/${fd}`), name).toBe(c.readlink);
      if (c.maps_line) expect(maps(), name).toBe(`${ours(c.maps_line)}\n`);
    }
  });

  it("a named buffer, and a rename while mapped", () => {
    const { proc, fd, ours, maps } = setup();
    proc.ioctl(fd, 0x40086201, s.named.name);
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toBe(ours(s.named.fdinfo));
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(s.named.readlink);
    expect(maps()).toBe(`${ours(s.named.maps_line)}\n`);
    proc.mmap(fd, 4096, PROT_READ, MAP_SHARED);
    const after = s.named.rename_while_mapped.maps_line_after;
    const newName = after.slice(after.indexOf("/dmabuf:") + "/dmabuf:".length);
    expect(errnoOf(() => proc.ioctl(fd, 0x40086201, newName))).toBe(
      expected(s.named.rename_while_mapped),
    );
    expect(proc.readFile("/proc/self/maps")).toBe(`${ours(after)}\n`);
  });
});

describe("mmap (observed dmabuf.mmap): private mappings fail, unlike the system heap", () => {
  const mm = reserved.dmabuf.mmap;
  const size = mm.buffer_size;
  const pattern = (i: number) => (i * 7 + 3) & 0xff;
  const filled = (n: number, from = 0) =>
    Uint8Array.from({ length: n }, (_, i) => pattern(from + i));
  const protOf = (name: string): number => {
    if (name.includes("read_exec")) return PROT_READ | PROT_EXEC;
    if (name.includes("prot_none")) return PROT_NONE;
    if (name.includes("read_only") || name.endsWith("_read")) return PROT_READ;
    if (name.endsWith("_write")) return PROT_WRITE;
    return PROT_READ | PROT_WRITE;
  };
  const setup = (bufSize = size, fdFlags = O_RDWR) => {
    const { kernel, proc } = boot();
    const fd = allocFromHeap(proc, HEAP, bufSize, { fdFlags });
    return { kernel, proc, fd, buf: bufferOf(kernel, proc, fd) };
  };
  const isCase = (v: unknown): v is MmapCase =>
    typeof v === "object" && v !== null && "length" in v && "flags" in v;
  const cases = Object.entries(mm).filter((e): e is [string, MmapCase] => isCase(e[1]));

  it.each(cases)("%s", (name, c) => {
    const { kernel, proc, fd } = setup(name.includes("single_page_buffer") ? 4096 : size);
    const flags = c.flags === "MAP_PRIVATE" ? MAP_PRIVATE : MAP_SHARED;
    const before = kernel.snapshot();
    const got = errnoOf(() => proc.mmap(fd, c.length, protOf(name), flags, c.offset));
    expect(got).toBe(expected(c));
    if (got !== null) expect(kernel.snapshot()).toEqual(before);
  });

  it("shared_rw_full: zero when fresh, a second mapping and a remap see the pattern", () => {
    const { proc, fd } = setup();
    const m = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(m.read().every((v) => v === 0)).toBe(mm.shared_rw_full.fresh_buffer_reads_zero.match);
    m.write(0, filled(size));
    const second = proc.mmap(fd, size, PROT_READ, MAP_SHARED);
    expect(second.read()).toEqual(filled(size));
    proc.munmap(m);
    proc.munmap(second);
    const again = proc.mmap(fd, size, PROT_READ, MAP_SHARED);
    expect(mm.remap_after_munmap.ok).toBe(true);
    expect(again.read()).toEqual(filled(size));
    const last = mm.offset_last_page;
    const tail = proc.mmap(fd, last.length, PROT_READ, MAP_SHARED, last.offset);
    expect(tail.read(0, 1)[0] === pattern(last.offset)).toBe(
      last.first_byte_matches_pattern_at_offset,
    );
  });

  it("mremap_grow_by_page, then mremap_grown_tail_access: the grown tail raises SIGBUS", () => {
    const { proc, fd } = setup();
    const m = proc.mmap(fd, size, PROT_READ, MAP_SHARED);
    const e = errnoOf(() => proc.munmap(proc.mremap(m, size + 4096)));
    expect({ ok: e === null, errno: e }).toEqual(mm.mremap_grow_by_page);
    const grown = proc.mremap(proc.mmap(fd, size, PROT_READ, MAP_SHARED), size + 4096);
    let signal: string | null = null;
    try {
      grown.read(size, 1);
    } catch (err) {
      signal = (err as { code?: string }).code ?? null;
    }
    expect(signal).toBe(mm.mremap_grown_tail_access.read_signal);
  });

  it("madvise_dontneed: zapped pages fault back in with their data", () => {
    const { proc, fd } = setup();
    const m = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.write(0, filled(size));
    expect(errnoOf(() => proc.madvise(m, MADV_DONTNEED))).toBe(mm.madvise_dontneed.errno);
    expect(m.vma.pfns.every((p) => p === -1)).toBe(true);
    expect(m.read()).toEqual(filled(size));
    expect(mm.madvise_dontneed.pattern_after.match).toBe(true);
  });

  it("mapping_after_close_fd: the mapping keeps the buffer alive", () => {
    const { kernel, proc, fd, buf } = setup();
    const m = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.write(0, filled(size));
    proc.close(fd);
    expect(kernel.dmaBuf.list()).toContain(buf);
    expect(m.read()).toEqual(filled(size));
    expect(mm.mapping_after_close_fd.pattern_still_readable.match).toBe(true);
    m.fill(0);
  });

  it.each(Object.entries(mm.access_modes))("access_modes %s", (name, c) => {
    const fdFlags = name.startsWith("rdonly") ? O_RDONLY : O_WRONLY;
    const { proc, fd } = setup(4096, fdFlags);
    if (isCase(c)) {
      const flags = c.flags === "MAP_PRIVATE" ? MAP_PRIVATE : MAP_SHARED;
      expect(errnoOf(() => proc.mmap(fd, c.length, protOf(name), flags, c.offset))).toBe(
        expected(c),
      );
    } else {
      // rdonly_fd_mprotect_add_write
      const m = proc.mmap(fd, 4096, PROT_READ, MAP_SHARED);
      expect(errnoOf(() => proc.mprotect(m, PROT_READ | PROT_WRITE))).toBe(expected(c));
    }
  });
});
