// One data-driven replay of the dma-buf fd section that the 6.1 oracle recorded for every
// exporter it probed (fixtures/linux-6.1-observed.json: `heaps.system.dmabuf`,
// `heaps.reserved.dmabuf`, `udmabuf.dmabuf`): fd_basics, sync_ioctl, set_name, mmap, poll and
// sync_file. Every case is read from the section; what genuinely differs between exporters is
// in the section too (ok/errno), and the few model-side differences are an `ExporterTraits`.

import {
  EPOLL_CTL_ADD,
  errnoOf,
  type Kernel,
  KernelSignal,
  type Mapping,
  type PollFd,
  type Process,
} from "@dmabuf/core";
import {
  _IOC_SIZE,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SYNC_RW,
  decodeDmaBufSyncFile,
  decodeSyncFileInfo,
  encodeDmaBufSync,
  encodeDmaBufSyncFile,
  encodeSyncFileInfo,
  F_GETFD,
  F_GETFL,
  FD_CLOEXEC,
  MADV_DONTNEED,
  MAP_PRIVATE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POLLIN,
  POLLOUT,
  POLLPRI,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
  SYNC_IOC_FILE_INFO,
} from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";

/** Page size of the oracle's machine. */
const PS = 4096;

/** One observed syscall outcome. */
export interface Outcome {
  ret?: number;
  ok?: boolean;
  errno: string | null;
}
type Cases<T> = Record<string, T>;
interface Match {
  signal: string | null;
  match: boolean;
}
interface MmapCase extends Outcome {
  length: number;
  offset: number;
  flags: "MAP_SHARED" | "MAP_PRIVATE";
}
interface SetNameCase extends Outcome {
  cmd: string;
  strlen: number;
  fdinfo_name_after: string | null;
  fdinfo?: string;
  readlink?: string;
  maps_line?: string;
}
interface PollCase extends Outcome {
  timeout_ms: number;
  revents: string[];
}
interface SyncFileInfo extends Outcome {
  name: string;
  status: number;
  flags: number;
  num_fences: number;
  fences: {
    obj_name: string;
    driver_name: string;
    status: number;
    flags: number;
    timestamp_nonzero: boolean;
  }[];
}
interface ExportCase extends Outcome {
  flags?: string;
  sync_fd_cloexec?: boolean;
  sync_fd_readlink?: string;
  sync_file_info?: SyncFileInfo;
  sync_fd_poll_in?: PollCase;
}

/** The observed section about a dma-buf fd, the same shape for every exporter. */
export interface DmaBufFdSection {
  exporter: string;
  fd_basics: {
    buffer_size: number;
    lseek: Cases<Outcome>;
    fstat: Record<string, number | string>;
    fstatfs: { f_type: string; f_bsize: number };
    fcntl: { f_getfl_octal: string; fd_cloexec: boolean };
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
    fdinfo_count_after_close_dup_and_munmap: string | number;
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
    shared_rw_full: MmapCase & {
      fresh_buffer_reads_zero: Match;
      second_mapping_sees_pattern: Match;
    };
    remap_after_munmap: Outcome & { pattern_persisted: Match };
    offset_last_page: MmapCase & { first_byte_matches_pattern_at_offset: boolean };
    private_rw_single_page_buffer: MmapCase & { shared_view_reads_zero?: Match };
    mremap_grow_by_page: Outcome;
    mremap_grown_tail_access?: { read_signal: string | null };
    mremap_shrink_to_page?: Outcome;
    madvise_dontneed: Outcome & { pattern_after: Match };
    mapping_after_close_fd: { pattern_still_readable: Match; write?: { signal: string | null } };
    access_modes?: Cases<MmapCase | Outcome>;
  };
  poll: Cases<PollCase> & {
    epoll: { ctl_add: Outcome; wait: Outcome; events: string[] };
    select: Outcome & { readable: boolean; writable: boolean };
  };
  sync_file: {
    supported: boolean;
    export: Cases<ExportCase>;
    import: Cases<Outcome & { flags?: string }>;
    export_after_import: Outcome & { sync_file_info: SyncFileInfo };
    dmabuf_poll_after_import: PollCase;
  };
}

/**
 * What differs between exporters, as data. The first three restate what the section records
 * (the replay checks that they agree); the rest are model-side facts the oracle could not see.
 */
export interface ExporterTraits {
  /** MAP_PRIVATE of a one-page buffer succeeds (and private writes stay private). */
  privateMappings: boolean;
  /** DMA_BUF_IOCTL_SYNC END before any START: "ok" or its errno. */
  syncEndBeforeStart: "ok" | string;
  /** mremap growing a mapping by a page: "ok" (pages fault in) or its errno (a PFN mapping). */
  mremapGrow: "ok" | string;
  /** MADV_DONTNEED zaps the page table: every PFN of the VMA is gone until the next fault. */
  lazyFaults: boolean;
  /** The DMA-API debugging codes the SYNC sequence leaves for `device` (none: no reports). */
  syncDebugReports?: { device: string; codes: string[] };
}

/** A fresh 6.1 kernel, a process and a dma-buf fd of `size` bytes opened with `fdFlags`. */
export type DmaBufFdSetup = (
  size: number,
  fdFlags: number,
) => { kernel: Kernel; proc: Process; fd: number };

/** Runs `fn`, giving the observed {ret, errno} shape. */
export function outcome(fn: () => unknown): { ret: number; errno: string | null } {
  try {
    const ret = fn();
    return { ret: typeof ret === "number" ? ret : 0, errno: null };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") throw e;
    return { ret: -1, errno: code };
  }
}

const octal = (n: number) => `0${n.toString(8)}`;
const hex = (s: string): number => Number.parseInt(s, 16) >>> 0;
const attempt = (fn: () => unknown) => {
  const e = errnoOf(fn);
  return { ok: e === null, errno: e };
};
const res = (c: Outcome) => ({ ok: c.ok, errno: c.errno });
const isMmapCase = (v: unknown): v is MmapCase =>
  typeof v === "object" && v !== null && "length" in v && "flags" in v;
const flagsOf = (c: MmapCase) => (c.flags === "MAP_PRIVATE" ? MAP_PRIVATE : MAP_SHARED);
/** The protection a case name stands for (the probe's naming). */
const protOf = (name: string): number => {
  if (name.includes("read_exec")) return PROT_READ | PROT_EXEC;
  if (name.includes("prot_none")) return PROT_NONE;
  if (name.includes("read_only") || name.endsWith("_read")) return PROT_READ;
  if (name.endsWith("_write")) return PROT_WRITE;
  return PROT_READ | PROT_WRITE;
};
const WHENCE: Record<string, number> = {
  set: SEEK_SET,
  cur: SEEK_CUR,
  end: SEEK_END,
  data: SEEK_DATA,
  hole: SEEK_HOLE,
};
const POLL_BITS: Record<string, number> = { POLLIN, POLLOUT, POLLPRI };
const eventsOf = (names: string[]) => names.reduce((acc, n) => acc | (POLL_BITS[n] ?? 0), 0);
const namesOf = (bits: number) =>
  ["POLLIN", "POLLOUT"].filter((n) => bits & (POLL_BITS[n] as number));
const signalOf = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    if (!(err instanceof KernelSignal)) throw err;
    return err.code;
  }
};

/** The probe's inode numbers are not ours: rewrite them, keeping the maps line's columns. */
function ours(ino: number) {
  return (text: string) =>
    text
      .replace(/ino:\t\d+/, `ino:\t${ino}`)
      .replace(/ 00:08 \d+ +/, (m) => ` 00:08 ${ino}`.padEnd(m.length));
}

function poll(proc: Process, fd: number, c: PollCase, events: number) {
  const fds: PollFd[] = [{ fd, events }];
  const ret = proc.poll(fds, c.timeout_ms);
  return { ret, revents: namesOf(fds[0]?.revents ?? 0) };
}

function syncFileInfo(proc: Process, fd: number): SyncFileInfo {
  const arg = encodeSyncFileInfo({ numFences: 1 });
  proc.ioctl(fd, SYNC_IOC_FILE_INFO, arg);
  const info = decodeSyncFileInfo(arg);
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
}

function exportSync(proc: Process, fd: number): number {
  const arg = encodeDmaBufSyncFile({ flags: DMA_BUF_SYNC_RW, fd: -1 });
  proc.ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
  return decodeDmaBufSyncFile(arg).fd;
}

/** Registers the replay of `section` for one exporter, whose buffers `setup` makes. */
export function describeDmaBufFdOracle(
  name: string,
  section: DmaBufFdSection,
  setup: DmaBufFdSetup,
  traits: ExporterTraits,
): void {
  const fb = section.fd_basics;
  const mm = section.mmap;
  const RW = O_RDWR | O_CLOEXEC;

  describe(`6.1 oracle: a ${name} dma-buf fd (${section.exporter})`, () => {
    it("the section agrees with the exporter's traits", () => {
      expect(mm.private_rw_single_page_buffer.ok).toBe(traits.privateMappings);
      const end = section.sync_ioctl.rw_end_before_any_start as Outcome;
      expect(end.errno ?? "ok").toBe(traits.syncEndBeforeStart);
      expect(mm.mremap_grow_by_page.errno ?? "ok").toBe(traits.mremapGrow);
    });

    it("is exported by the named exporter", () => {
      const { kernel, proc, fd } = setup(PS, RW);
      expect(kernel.dmaBuf.fromFile(proc.fileOf(fd))?.expName).toBe(section.exporter);
    });
  });

  describe(`6.1 oracle: ${name} fd_basics`, () => {
    it.each(Object.entries(fb.lseek))("lseek %s", (caseName, c) => {
      const m = /^seek_([a-z]+)_(minus_|plus_)?(\d+)$/.exec(caseName) as RegExpExecArray;
      const off = (m[2] === "minus_" ? -1 : 1) * Number(m[3]);
      const { proc, fd } = setup(fb.buffer_size, RW);
      expect(outcome(() => proc.lseek(fd, off, WHENCE[m[1] as string] as number))).toEqual(c);
    });

    it("fstat, fstatfs, fcntl, readlink", () => {
      const { proc, fd } = setup(fb.buffer_size, RW);
      const st = proc.fstat(fd);
      const f = fb.fstat;
      expect(octal(st.mode)).toBe(f.st_mode_octal);
      expect(st).toMatchObject({
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
        fType: Number.parseInt(fb.fstatfs.f_type, 16),
        fBsize: fb.fstatfs.f_bsize,
      });
      expect(octal(proc.fcntl(fd, F_GETFL))).toBe(fb.fcntl.f_getfl_octal);
      expect(proc.fcntl(fd, F_GETFD) === FD_CLOEXEC).toBe(fb.fcntl.fd_cloexec);
      expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(fb.readlink_proc_self_fd);
    });

    it("read, write, pread, ftruncate, fallocate, fsync", () => {
      const { kernel, proc, fd } = setup(fb.buffer_size, RW);
      const calls = {
        read: () => proc.read(fd, 1),
        write: () => proc.write(fd, new Uint8Array(1)),
        pread: () => proc.pread(fd, 1, 0),
        ftruncate: () => proc.ftruncate(fd, 0),
        fallocate: () => proc.fallocate(fd, 0, 0, PS),
        fsync: () => proc.fsync(fd),
      };
      for (const [what, call] of Object.entries(calls)) {
        const before = kernel.snapshot();
        expect(errnoOf(call), what).toBe(fb[what as keyof typeof calls].errno);
        expect(kernel.snapshot(), what).toEqual(before);
      }
    });

    it("fdinfo fresh, after dup, after dup and mmap, after closing and unmapping", () => {
      const { proc, fd } = setup(fb.buffer_size, RW);
      const fix = ours(proc.fstat(fd).ino);
      const fdinfo = () => proc.readFile(`/proc/self/fdinfo/${fd}`);
      expect(fdinfo()).toBe(fix(fb.fdinfo_fresh));
      const dupFd = proc.dup(fd);
      expect(fdinfo()).toBe(fix(fb.fdinfo_after_dup));
      const m = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
      expect(fdinfo()).toBe(fix(fb.fdinfo_after_dup_and_mmap));
      proc.close(dupFd);
      proc.munmap(m);
      expect(fdinfo()).toContain(`count:\t${fb.fdinfo_count_after_close_dup_and_munmap}\n`);
    });

    it.each(Object.entries(fb.unknown_ioctls))("unknown ioctl %s", (_caseName, c) => {
      const { kernel, proc, fd } = setup(fb.buffer_size, RW);
      const cmd = hex(c.cmd);
      const before = kernel.snapshot();
      expect(errnoOf(() => proc.ioctl(fd, cmd, new Uint8Array(_IOC_SIZE(cmd) || 8)))).toBe(c.errno);
      expect(kernel.snapshot()).toEqual(before);
    });
  });

  describe(`6.1 oracle: ${name} DMA_BUF_IOCTL_SYNC`, () => {
    it("answers every case in the probe's order", () => {
      const { kernel, proc, fd } = setup(fb.buffer_size, RW);
      for (const [caseName, c] of Object.entries(section.sync_ioctl)) {
        const arg = c.flags === undefined ? null : encodeDmaBufSync(BigInt(c.flags));
        const before = kernel.snapshot();
        expect(
          outcome(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, arg)),
          caseName,
        ).toEqual({
          ret: c.ret,
          errno: c.errno,
        });
        if (c.errno !== null) expect(kernel.snapshot(), caseName).toEqual(before);
      }
      const want = traits.syncDebugReports;
      if (want === undefined) return;
      const reports = kernel.dma.debug.reports.filter((r) => r.device === want.device);
      // Linux's DMA-API debugging complains about syncs in other directions than the table
      // was mapped for; so does the model, without failing the calls.
      expect(reports.length).toBeGreaterThan(0);
      expect(new Set(reports.map((r) => r.code))).toEqual(new Set(want.codes));
    });
  });

  describe(`6.1 oracle: ${name} DMA_BUF_SET_NAME`, () => {
    const sn = section.set_name;
    const named = () => {
      const { proc, fd } = setup(PS, RW);
      const fix = ours(proc.fstat(fd).ino);
      // As the probe did: map, read /proc/self/maps, unmap (so fdinfo counts only the fd).
      const mapsLine = () => {
        const m = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
        const line = proc.readFile("/proc/self/maps").trimEnd();
        proc.munmap(m);
        return line;
      };
      return { proc, fd, fix, mapsLine };
    };
    const fdinfoName = (text: string): string | null => /\nname:\t([^\n]*)/.exec(text)?.[1] ?? null;
    /** The name a case set: its link text when recorded (names may hold a newline). */
    const nameOf = (c: SetNameCase): string | null => {
      if (c.strlen < 0) return null;
      if (c.errno !== null) return "a".repeat(c.strlen);
      return c.readlink?.slice("/dmabuf:".length) ?? c.fdinfo_name_after;
    };

    it("answers every case in sequence, with the name, link and maps line after each", () => {
      const { proc, fd, fix, mapsLine } = named();
      const fdinfo = () => proc.readFile(`/proc/self/fdinfo/${fd}`);
      expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(sn.readlink_unnamed);
      expect(mapsLine()).toBe(fix(sn.maps_line_unnamed));
      expect(fdinfoName(fdinfo())).toBe(sn.fdinfo_name_unnamed);
      for (const [caseName, c] of Object.entries(sn.cases)) {
        const arg = nameOf(c);
        if (arg !== null) expect(new TextEncoder().encode(arg).length, caseName).toBe(c.strlen);
        expect(
          outcome(() => proc.ioctl(fd, hex(c.cmd), arg)),
          caseName,
        ).toEqual({
          ret: c.ret,
          errno: c.errno,
        });
        expect(fdinfoName(fdinfo()), caseName).toBe(c.fdinfo_name_after);
        if (c.fdinfo !== undefined) expect(fdinfo(), caseName).toBe(fix(c.fdinfo));
        if (c.readlink !== undefined)
          expect(proc.readlink(`/proc/self/fd/${fd}`), caseName).toBe(c.readlink);
        if (c.maps_line !== undefined) expect(mapsLine(), caseName).toBe(fix(c.maps_line));
      }
    });

    it("a named buffer, and a rename while mapped", () => {
      const { proc, fd, fix, mapsLine } = named();
      proc.ioctl(fd, DMA_BUF_SET_NAME, sn.named.name);
      expect(mapsLine()).toBe(fix(sn.named.maps_line));
      expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toBe(fix(sn.named.fdinfo));
      expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe(sn.named.readlink);
      const m = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
      const after = sn.named.rename_while_mapped;
      const newName = after.maps_line_after.slice(
        after.maps_line_after.indexOf("/dmabuf:") + "/dmabuf:".length,
      );
      expect(outcome(() => proc.ioctl(fd, DMA_BUF_SET_NAME, newName))).toEqual({
        ret: after.ret,
        errno: after.errno,
      });
      expect(proc.readFile("/proc/self/maps").trimEnd()).toBe(fix(after.maps_line_after));
      proc.munmap(m);
    });
  });

  describe(`6.1 oracle: ${name} mmap`, () => {
    const size = mm.buffer_size;
    const cases = Object.entries(mm).filter((e): e is [string, MmapCase] => isMmapCase(e[1]));
    /** Page i of the buffer holds i + 1, as the probe filled it. */
    const fillPages = (m: Mapping) => {
      for (let i = 0; i < size; i += PS) m.fill(i / PS + 1, i, PS);
    };
    const holdsPages = (m: Mapping | undefined) =>
      m !== undefined &&
      Array.from({ length: size / PS }, (_, i) => i).every((i) =>
        m.read(i * PS, PS).every((b) => b === i + 1),
      );

    it.each(cases)("%s", (caseName, c) => {
      const bufSize = caseName.includes("single_page_buffer") ? PS : size;
      const { kernel, proc, fd } = setup(bufSize, RW);
      const before = kernel.snapshot();
      const got = attempt(() => proc.mmap(fd, c.length, protOf(caseName), flagsOf(c), c.offset));
      expect(got).toEqual(res(c));
      if (!c.ok) expect(kernel.snapshot()).toEqual(before);
    });

    it("shared_rw_full: fresh reads zero, a second mapping and a remap see the pattern", () => {
      const { proc, fd } = setup(size, RW);
      const sh = mm.shared_rw_full;
      const a = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      expect(a.read().every((b) => b === 0)).toBe(sh.fresh_buffer_reads_zero.match);
      fillPages(a);
      const b = proc.mmap(fd, size, PROT_READ, MAP_SHARED);
      expect(holdsPages(b)).toBe(sh.second_mapping_sees_pattern.match);
      proc.munmap(a);
      proc.munmap(b);
      let c: Mapping | undefined;
      expect(attempt(() => (c = proc.mmap(fd, size, PROT_READ, MAP_SHARED)))).toEqual(
        res(mm.remap_after_munmap),
      );
      expect(holdsPages(c)).toBe(mm.remap_after_munmap.pattern_persisted.match);
      const last = mm.offset_last_page;
      const tail = proc.mmap(fd, last.length, PROT_READ, MAP_SHARED, last.offset);
      expect(tail.read(0, 1)[0] === last.offset / PS + 1).toBe(
        last.first_byte_matches_pattern_at_offset,
      );
    });

    // Only where private mappings exist: elsewhere the case above already replays the EINVAL.
    if (traits.privateMappings)
      it("private_rw_single_page_buffer: private writes stay private, the shared view reads zero", () => {
        const { proc, fd } = setup(PS, RW);
        const priv = proc.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        priv.fill(0x77);
        const shared = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
        expect(shared.read().every((b) => b === 0)).toBe(
          mm.private_rw_single_page_buffer.shared_view_reads_zero?.match,
        );
      });

    it("mremap_grow_by_page, then the grown tail or mremap_shrink_to_page", () => {
      const { proc, fd } = setup(size, RW);
      const m = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      m.fill(0x42);
      let grown: Mapping | undefined;
      expect(attempt(() => (grown = proc.mremap(m, size + PS)))).toEqual(
        res(mm.mremap_grow_by_page),
      );
      let now = grown ?? m;
      expect(now.read(0, 1)[0]).toBe(0x42);
      if (grown !== undefined && mm.mremap_grown_tail_access !== undefined)
        expect(signalOf(() => now.read(size, 1))).toBe(mm.mremap_grown_tail_access.read_signal);
      if (mm.mremap_shrink_to_page !== undefined) {
        expect(attempt(() => (now = proc.mremap(now, PS)))).toEqual(res(mm.mremap_shrink_to_page));
        expect(now.length).toBe(PS);
        expect(now.read(0, 1)[0]).toBe(0x42);
      }
    });

    it("madvise_dontneed: the pattern is still there afterwards", () => {
      const { proc, fd } = setup(size, RW);
      const m = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      m.fill(0x24);
      const d = mm.madvise_dontneed;
      expect(outcome(() => proc.madvise(m, MADV_DONTNEED))).toEqual({ ret: d.ret, errno: d.errno });
      // Lazily faulting exporters lose every PFN until the next access faults it back in.
      expect(m.vma.pfns.every((p) => p === -1)).toBe(traits.lazyFaults);
      expect(m.read().every((b) => b === 0x24)).toBe(d.pattern_after.match);
    });

    it("mapping_after_close_fd: the mapping keeps the buffer alive", () => {
      const { kernel, proc, fd } = setup(size, RW);
      const buf = kernel.dmaBuf.fromFile(proc.fileOf(fd));
      const m = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      m.fill(9);
      proc.close(fd);
      expect(kernel.dmaBuf.list()).toContain(buf);
      const c = mm.mapping_after_close_fd;
      expect(m.read().every((b) => b === 9)).toBe(c.pattern_still_readable.match);
      expect(signalOf(() => m.fill(10, 0, 1))).toBe(c.write?.signal ?? null);
    });

    const modes = Object.entries(mm.access_modes ?? {});
    it.each(modes)("access_modes %s", (caseName, c) => {
      const { proc, fd } = setup(PS, caseName.startsWith("rdonly") ? O_RDONLY : O_WRONLY);
      if (isMmapCase(c)) {
        expect(
          attempt(() => proc.mmap(fd, c.length, protOf(caseName), flagsOf(c), c.offset)),
        ).toEqual(res(c));
      } else {
        // rdonly_fd_mprotect_add_write
        const m = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
        expect(outcome(() => proc.mprotect(m, PROT_READ | PROT_WRITE))).toEqual(c);
      }
    });
  });

  describe(`6.1 oracle: ${name} poll without fences`, () => {
    it("poll in the probe's order, then epoll and select", () => {
      const { proc, fd } = setup(PS, RW);
      const pl = section.poll;
      for (const [caseName, c] of Object.entries(pl)) {
        if (caseName === "epoll" || caseName === "select") continue;
        const pc = c as PollCase & { events: string[] };
        expect(poll(proc, fd, pc, eventsOf(pc.events)), caseName).toEqual({
          ret: pc.ret,
          revents: pc.revents,
        });
      }
      const ep = proc.epollCreate();
      expect(outcome(() => proc.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN | POLLOUT))).toEqual(
        pl.epoll.ctl_add,
      );
      const events = proc.epollWait(ep, 8, 0);
      expect(events.length).toBe(pl.epoll.wait.ret);
      expect(namesOf(events[0]?.events ?? 0)).toEqual(pl.epoll.events);
      const sel = proc.select([fd], [fd], 0);
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

  describe(`6.1 oracle: ${name} sync files`, () => {
    const sf = section.sync_file;

    it("is supported", () => {
      expect(sf.supported).toBe(true);
    });

    it.each(Object.entries(sf.export))("EXPORT_SYNC_FILE %s", (_caseName, c) => {
      const { kernel, proc, fd } = setup(PS, RW);
      const arg =
        c.flags === undefined ? null : encodeDmaBufSyncFile({ flags: hex(c.flags), fd: -1 });
      const before = kernel.snapshot();
      expect(outcome(() => proc.ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg))).toEqual({
        ret: c.ret,
        errno: c.errno,
      });
      if (c.errno !== null) {
        expect(kernel.snapshot()).toEqual(before);
        return;
      }
      const syncFd = decodeDmaBufSyncFile(arg as Uint8Array).fd;
      expect((proc.fcntl(syncFd, F_GETFD) & FD_CLOEXEC) !== 0).toBe(c.sync_fd_cloexec);
      expect(proc.readlink(`/proc/self/fd/${syncFd}`)).toBe(c.sync_fd_readlink);
      expect(syncFileInfo(proc, syncFd)).toEqual(c.sync_file_info);
      const p = c.sync_fd_poll_in as PollCase;
      expect(poll(proc, syncFd, p, POLLIN)).toEqual({ ret: p.ret, revents: p.revents });
    });

    it.each(Object.entries(sf.import))("IMPORT_SYNC_FILE %s", (caseName, c) => {
      const { kernel, proc, fd } = setup(PS, RW);
      const valid = exportSync(proc, fd);
      const closed = exportSync(proc, fd);
      proc.close(closed);
      const syncFd =
        { fd_minus_1: -1, fd_is_a_dmabuf: fd, fd_closed_number: closed }[caseName] ?? valid;
      const arg =
        c.flags === undefined ? null : encodeDmaBufSyncFile({ flags: hex(c.flags), fd: syncFd });
      const before = kernel.snapshot();
      expect(outcome(() => proc.ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg))).toEqual({
        ret: c.ret,
        errno: c.errno,
      });
      if (c.errno !== null) expect(kernel.snapshot()).toEqual(before);
    });

    it("export after import, and poll after import", () => {
      const { proc, fd } = setup(PS, RW);
      const stub = exportSync(proc, fd);
      proc.ioctl(
        fd,
        DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
        encodeDmaBufSyncFile({ flags: DMA_BUF_SYNC_RW, fd: stub }),
      );
      expect(syncFileInfo(proc, exportSync(proc, fd))).toEqual(
        sf.export_after_import.sync_file_info,
      );
      const p = sf.dmabuf_poll_after_import;
      expect(poll(proc, fd, p, POLLIN | POLLOUT)).toEqual({ ret: p.ret, revents: p.revents });
    });
  });
}
