// memfd_create, the seal commands and what each seal blocks (SPEC §15.9–§15.12), on both
// profiles; every failing call leaves kernel.snapshot() as it was.

import { describe, expect, it } from "vitest";
import { KernelSignal } from "../errors/kernel-bug.js";
import { createKernel, type Kernel } from "../kernel.js";
import type { KernelVersion } from "../profile.js";
import {
  F_ADD_SEALS,
  F_GET_SEALS,
  F_GETFL,
  F_SEAL_EXEC,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  O_RDONLY,
  O_WRONLY,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from "../uapi/fcntl.js";
import {
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  MFD_HUGE_1GB,
  MFD_HUGE_2MB,
  MFD_HUGE_SHIFT,
  MFD_HUGETLB,
  MFD_NOEXEC_SEAL,
} from "../uapi/memfd.js";
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { errnoOf, type Process } from "./process.js";

const PS = 4096;
const HUGE = 2 * 1024 * 1024;

function boot(profile: KernelVersion = "6.1", hugepages = 0) {
  const kernel = createKernel({ ram: "64MiB", profile, hugepages });
  const proc = kernel.spawn({ name: "probe", stdio: true });
  return { kernel, proc };
}

/** A memfd of `size` bytes with sealing allowed. */
function sealable(proc: Process, size: number, name = "seals"): number {
  const fd = proc.memfdCreate(name, MFD_ALLOW_SEALING);
  proc.ftruncate(fd, size);
  return fd;
}

/** Runs `fn` and expects it to fail with `code` leaving the kernel's counts unchanged. */
function failsCleanly(kernel: Kernel, code: string, fn: () => unknown): void {
  const before = kernel.snapshot();
  expect(errnoOf(fn)).toBe(code);
  expect(kernel.snapshot()).toEqual(before);
}

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

describe("memfd_create: flags and name", () => {
  it.each(["6.1", "6.18"] as const)("%s: CLOEXEC, ALLOW_SEALING and HUGETLB are accepted", (p) => {
    const { proc } = boot(p);
    for (const flags of [
      0,
      MFD_CLOEXEC,
      MFD_ALLOW_SEALING,
      MFD_HUGETLB,
      MFD_HUGETLB | MFD_HUGE_2MB,
    ]) {
      expect(proc.memfdCreate("ok", flags)).toBeGreaterThanOrEqual(3);
    }
  });

  it("6.1 refuses MFD_NOEXEC_SEAL, MFD_EXEC, bit 0x20 and a size field without HUGETLB", () => {
    const { kernel, proc } = boot("6.1");
    for (const flags of [MFD_NOEXEC_SEAL, MFD_EXEC, 0x20, MFD_HUGE_2MB, -1]) {
      failsCleanly(kernel, "EINVAL", () => proc.memfdCreate("x", flags));
    }
  });

  it("6.18: MFD_NOEXEC_SEAL is mode 0666 sealed with F_SEAL_EXEC; both exec flags EINVAL", () => {
    const { kernel, proc } = boot("6.18");
    const fd = proc.memfdCreate("noexec", MFD_NOEXEC_SEAL);
    expect(proc.fstat(fd).mode).toBe(0o100666);
    expect(proc.fcntl(fd, F_GET_SEALS)).toBe(F_SEAL_EXEC);
    proc.fcntl(fd, F_ADD_SEALS, F_SEAL_GROW);
    expect(proc.fcntl(fd, F_GET_SEALS)).toBe(F_SEAL_EXEC | F_SEAL_GROW);
    const exec = proc.memfdCreate("exec", MFD_EXEC);
    expect(proc.fstat(exec).mode).toBe(0o100777);
    expect(proc.fcntl(exec, F_GET_SEALS)).toBe(F_SEAL_SEAL);
    failsCleanly(kernel, "EINVAL", () => proc.memfdCreate("x", MFD_EXEC | MFD_NOEXEC_SEAL));
    failsCleanly(kernel, "EINVAL", () => proc.memfdCreate("x", 0x20));
    // F_SEAL_EXEC on a file with exec bits seals it against writes and size changes too.
    const x = proc.memfdCreate("x", MFD_ALLOW_SEALING);
    proc.fcntl(x, F_ADD_SEALS, F_SEAL_EXEC);
    expect(proc.fcntl(x, F_GET_SEALS)).toBe(62);
  });

  it("names: NULL is EFAULT, 249 bytes fit, 250 do not; any bytes but NUL", () => {
    const { kernel, proc } = boot();
    failsCleanly(kernel, "EFAULT", () => proc.memfdCreate(null, 0));
    expect(proc.memfdCreate("n".repeat(249), 0)).toBe(3);
    failsCleanly(kernel, "EINVAL", () => proc.memfdCreate("n".repeat(250), 0));
    const odd = proc.memfdCreate("a/b c\nd", 0);
    expect(proc.readlink(`/proc/self/fd/${odd}`)).toBe("/memfd:a/b c\nd (deleted)");
    const empty = proc.memfdCreate("", 0);
    expect(proc.readlink(`/proc/self/fd/${empty}`)).toBe("/memfd: (deleted)");
    const cut = proc.memfdCreate("abc\0def", 0);
    expect(proc.readlink(`/proc/self/fd/${cut}`)).toBe("/memfd:abc (deleted)");
  });

  it("EMFILE when no fd is free, before anything is made", () => {
    const { kernel, proc } = boot();
    proc.rlimitNofile = proc.fds().length;
    failsCleanly(kernel, "EMFILE", () => proc.memfdCreate("x", 0));
  });

  it("huge page sizes: 2 MiB and 1 GiB exist; 64 KiB and field value 63 are ENODEV", () => {
    const { kernel, proc } = boot();
    expect(proc.fstat(proc.memfdCreate("h", MFD_HUGETLB | MFD_HUGE_1GB)).blksize).toBe(2 ** 30);
    for (const log of [16, 63]) {
      failsCleanly(kernel, "ENODEV", () =>
        proc.memfdCreate("h", MFD_HUGETLB | (log << MFD_HUGE_SHIFT)),
      );
    }
  });
});

describe("memfd: the file", () => {
  it("readlink, F_GETFL, fdinfo, fstat and initial seals as observed", () => {
    const { proc } = boot();
    const a = proc.memfdCreate("oracle", 0);
    const b = proc.memfdCreate("oracle", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    expect(proc.readlink(`/proc/self/fd/${a}`)).toBe("/memfd:oracle (deleted)");
    expect(proc.fcntl(a, F_GETFL)).toBe(0o100002);
    const ino = proc.fstat(a).ino;
    expect(proc.readFile(`/proc/self/fdinfo/${a}`)).toBe(
      `pos:\t0\nflags:\t0100002\nmnt_id:\t0\nino:\t${ino}\n`,
    );
    expect(proc.readFile(`/proc/self/fdinfo/${b}`)).toContain("flags:\t02100002\n");
    expect(proc.fstat(a)).toMatchObject({ mode: 0o100777, nlink: 0, size: 0, blksize: 4096 });
    expect(proc.fstat(a)).toMatchObject({ uid: 0, gid: 0, blocks: 0, devMajor: 0, devMinor: 1 });
    expect(proc.fcntl(a, F_GET_SEALS)).toBe(F_SEAL_SEAL);
    expect(proc.fcntl(b, F_GET_SEALS)).toBe(0);
    const kernel = createKernel({ ram: "16MiB" });
    const user = kernel.spawn({ uid: 1000, gid: 100 });
    expect(proc.fstat(a).ino).not.toBe(proc.fstat(b).ino);
    expect(user.fstat(user.memfdCreate("u", 0))).toMatchObject({ uid: 1000, gid: 100 });
  });

  it("/proc/self/maps names a mapping like readlink, with the newline escaped", () => {
    const { proc } = boot();
    const fd = proc.memfdCreate("a/b c\nd", 0);
    proc.ftruncate(fd, PS);
    const m = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
    const ino = proc.fstat(fd).ino;
    const line = proc.readFile("/proc/self/maps").trimEnd();
    expect(
      line.startsWith(
        `${m.address.toString(16)}-${(m.address + PS).toString(16)} r--s 00000000 00:01 ${ino} `,
      ),
    ).toBe(true);
    expect(line.endsWith(" /memfd:a/b c\\012d (deleted)")).toBe(true);
  });

  it("pages come from the allocator on first write, lazily; holes read as zeros", () => {
    const { kernel, proc } = boot();
    const fd = proc.memfdCreate("sparse", 0);
    const free0 = kernel.buddy.freePageCount();
    proc.ftruncate(fd, 2 * 1024 * 1024);
    expect(kernel.buddy.freePageCount()).toBe(free0);
    expect(proc.pread(fd, 8, 4096).every((b) => b === 0)).toBe(true);
    expect(proc.pwrite(fd, Uint8Array.of(7), 1024 * 1024)).toBe(1);
    expect(kernel.buddy.freePageCount()).toBe(free0 - 1);
    expect(proc.fstat(fd)).toMatchObject({ size: 2 * 1024 * 1024, blocks: 8 });
    expect(proc.pread(fd, 2, 1024 * 1024)).toEqual(Uint8Array.of(7, 0));
    proc.close(fd);
    expect(kernel.buddy.freePageCount()).toBe(free0);
  });

  it("read, write, lseek: the position moves; writes past the end grow the file", () => {
    const { proc } = boot();
    const fd = proc.memfdCreate("rw", 0);
    expect(proc.write(fd, new TextEncoder().encode("hello"))).toBe(5);
    expect(proc.lseek(fd, 0, SEEK_CUR)).toBe(5);
    expect(proc.lseek(fd, 0, SEEK_SET)).toBe(0);
    expect(new TextDecoder().decode(proc.read(fd, 100))).toBe("hello");
    expect(proc.read(fd, 100).length).toBe(0);
    expect(proc.lseek(fd, 10, SEEK_END)).toBe(15);
    expect(proc.write(fd, Uint8Array.of(1))).toBe(1);
    expect(proc.fstat(fd).size).toBe(16);
    expect(errnoOf(() => proc.lseek(fd, -100, SEEK_CUR))).toBe("EINVAL");
    expect(errnoOf(() => proc.lseek(fd, 0, 5))).toBe("EINVAL");
    expect(errnoOf(() => proc.pwrite(fd, Uint8Array.of(1), -1))).toBe("EINVAL");
    expect(proc.pwrite(fd, Uint8Array.of(9), 0)).toBe(1);
    expect(proc.lseek(fd, 0, SEEK_CUR)).toBe(16);
  });

  it("SEEK_DATA and SEEK_HOLE walk the page cache; ENXIO at or past the end", () => {
    const { proc } = boot();
    const fd = proc.memfdCreate("holes", 0);
    proc.ftruncate(fd, 4 * PS);
    proc.pwrite(fd, Uint8Array.of(1), 2 * PS + 5);
    expect(proc.lseek(fd, 0, SEEK_DATA)).toBe(2 * PS);
    expect(proc.lseek(fd, 2 * PS + 9, SEEK_DATA)).toBe(2 * PS + 9);
    expect(proc.lseek(fd, 0, SEEK_HOLE)).toBe(0);
    expect(proc.lseek(fd, 2 * PS, SEEK_HOLE)).toBe(3 * PS);
    expect(errnoOf(() => proc.lseek(fd, 3 * PS, SEEK_DATA))).toBe("ENXIO");
    expect(errnoOf(() => proc.lseek(fd, 4 * PS, SEEK_HOLE))).toBe("ENXIO");
  });

  it("a shared mapping and read()/write() see the same pages", () => {
    const { proc } = boot();
    const fd = proc.memfdCreate("shared", 0);
    proc.ftruncate(fd, 2 * PS);
    const m = proc.mmap(fd, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0x61, PS, 3);
    expect(proc.pread(fd, 4, PS)).toEqual(Uint8Array.of(0x61, 0x61, 0x61, 0));
    proc.pwrite(fd, Uint8Array.of(0x62), 10);
    expect(m.read(10, 1)[0]).toBe(0x62);
    const priv = proc.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    priv.fill(0x63, 0, 1);
    expect(proc.pread(fd, 1, 0)[0]).toBe(0);
    expect(m.read(0, 1)[0]).toBe(0);
  });

  it("shrinking unmaps the tail (SIGBUS), zeroes the partial page; the mapping keeps the file", () => {
    const { kernel, proc } = boot();
    const fd = proc.memfdCreate("trunc", 0);
    const free0 = kernel.buddy.freePageCount();
    proc.ftruncate(fd, 3 * PS);
    const m = proc.mmap(fd, 3 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0x55);
    expect(kernel.buddy.freePageCount()).toBe(free0 - 3);
    proc.ftruncate(fd, PS + 100);
    expect(kernel.buddy.freePageCount()).toBe(free0 - 2);
    expect(() => m.read(2 * PS, 1)).toThrow(KernelSignal);
    proc.ftruncate(fd, 3 * PS);
    expect(proc.pread(fd, 200, PS)).toEqual(
      Uint8Array.from({ length: 200 }, (_, i) => (i < 100 ? 0x55 : 0)),
    );
    expect(m.read(2 * PS, 1)[0]).toBe(0);
    proc.close(fd);
    expect(m.read(0, 1)[0]).toBe(0x55);
    proc.munmap(m);
    expect(kernel.buddy.freePageCount()).toBe(free0);
  });

  it("ftruncate: EINVAL for a negative length or a file without truncation; EBADF", () => {
    const { kernel, proc } = boot();
    const fd = proc.memfdCreate("t", 0);
    failsCleanly(kernel, "EINVAL", () => proc.ftruncate(fd, -1));
    failsCleanly(kernel, "EBADF", () => proc.ftruncate(99, 0));
    const nul = proc.open("/dev/null", O_WRONLY);
    failsCleanly(kernel, "EINVAL", () => proc.ftruncate(nul, 0));
  });

  it("fallocate allocates (growing unless KEEP_SIZE) and punches holes", () => {
    const { kernel, proc } = boot();
    const fd = proc.memfdCreate("falloc", 0);
    const free0 = kernel.buddy.freePageCount();
    proc.fallocate(fd, 0, 0, 2 * PS);
    expect(proc.fstat(fd).size).toBe(2 * PS);
    proc.fallocate(fd, FALLOC_FL_KEEP_SIZE, 2 * PS, PS);
    expect(proc.fstat(fd).size).toBe(2 * PS);
    expect(kernel.buddy.freePageCount()).toBe(free0 - 3);
    proc.pwrite(fd, bytes(2 * PS, 9), 0);
    proc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, PS + 100);
    expect(kernel.buddy.freePageCount()).toBe(free0 - 3);
    const data = proc.pread(fd, 2 * PS, 0);
    expect([data[99], data[100], data[PS + 199], data[PS + 200]]).toEqual([9, 0, 0, 9]);
    proc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 3 * PS);
    expect(kernel.buddy.freePageCount()).toBe(free0);
    failsCleanly(kernel, "EOPNOTSUPP", () => proc.fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, PS));
    failsCleanly(kernel, "EINVAL", () => proc.fallocate(fd, 0, 0, 0));
  });
});

describe("F_ADD_SEALS / F_GET_SEALS", () => {
  it("6.1 refuses an argument above 32 bits; 6.18 adds its low 32 bits", () => {
    const a = boot("6.1");
    const fd = sealable(a.proc, PS);
    failsCleanly(a.kernel, "EINVAL", () => a.proc.fcntl(fd, F_ADD_SEALS, 2 ** 32));
    const b = boot("6.18");
    const fd2 = sealable(b.proc, PS);
    expect(b.proc.fcntl(fd2, F_ADD_SEALS, 2 ** 32 + F_SEAL_GROW)).toBe(0);
    expect(b.proc.fcntl(fd2, F_GET_SEALS)).toBe(F_SEAL_GROW);
  });

  it("checks in order: writable fd (EPERM), bits (EINVAL), memfd (EINVAL), F_SEAL_SEAL (EPERM)", () => {
    const { kernel, proc } = boot();
    const ro = proc.open("/dev/null", O_RDONLY);
    failsCleanly(kernel, "EPERM", () => proc.fcntl(ro, F_ADD_SEALS, 0));
    const nul = proc.open("/dev/null", O_WRONLY);
    failsCleanly(kernel, "EINVAL", () => proc.fcntl(nul, F_ADD_SEALS, 0));
    failsCleanly(kernel, "EINVAL", () => proc.fcntl(nul, F_GET_SEALS));
    const fd = sealable(proc, PS);
    failsCleanly(kernel, "EINVAL", () => proc.fcntl(fd, F_ADD_SEALS, 0x20));
    failsCleanly(kernel, "EINVAL", () => proc.fcntl(fd, F_ADD_SEALS, 0x40));
    expect(proc.fcntl(fd, F_ADD_SEALS, 0)).toBe(0);
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)).toBe(0);
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)).toBe(0);
    proc.fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL);
    failsCleanly(kernel, "EPERM", () => proc.fcntl(fd, F_ADD_SEALS, 0));
    failsCleanly(kernel, "EINVAL", () => proc.fcntl(fd, F_ADD_SEALS, 0x80));
    expect(proc.fcntl(fd, F_GET_SEALS)).toBe(F_SEAL_SEAL | F_SEAL_SHRINK);
    const unsealable = proc.memfdCreate("plain", 0);
    failsCleanly(kernel, "EPERM", () => proc.fcntl(unsealable, F_ADD_SEALS, F_SEAL_GROW));
  });

  it("F_SEAL_WRITE is EBUSY while a shared mapping through a writable fd exists", () => {
    const { kernel, proc } = boot();
    const fd = sealable(proc, PS);
    const rw = proc.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    failsCleanly(kernel, "EBUSY", () => proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    proc.munmap(rw);
    const ro = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
    failsCleanly(kernel, "EBUSY", () => proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    // mremap keeps the count right: the moved mapping still counts, its old self does not.
    const moved = proc.mremap(ro, 2 * PS);
    failsCleanly(kernel, "EBUSY", () => proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    proc.munmap(moved);
    const priv = proc.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    const t0 = kernel.clock.now;
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)).toBe(0);
    expect(kernel.clock.now).toBe(t0);
    priv.fill(1);
  });

  it("F_SEAL_FUTURE_WRITE never waits: an earlier writable mapping keeps writing", () => {
    const { proc } = boot();
    const fd = sealable(proc, PS);
    const rw = proc.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE)).toBe(0);
    rw.fill(0x7a, 0, 2);
    expect(proc.pread(fd, 2, 0)).toEqual(Uint8Array.of(0x7a, 0x7a));
    expect(errnoOf(() => proc.write(fd, Uint8Array.of(1)))).toBe("EPERM");
  });
});

describe("what each seal blocks (§15.11)", () => {
  type Row = Record<"SHRINK" | "GROW" | "WRITE" | "FUTURE_WRITE", string | null>;
  const seals = {
    SHRINK: F_SEAL_SHRINK,
    GROW: F_SEAL_GROW,
    WRITE: F_SEAL_WRITE,
    FUTURE_WRITE: F_SEAL_FUTURE_WRITE,
  };
  const table: Record<string, [Row, (k: Kernel, p: Process, fd: number) => unknown]> = {
    "ftruncate smaller": [
      { SHRINK: "EPERM", GROW: null, WRITE: null, FUTURE_WRITE: null },
      (_k, p, fd) => p.ftruncate(fd, PS),
    ],
    "ftruncate same size": [
      { SHRINK: null, GROW: null, WRITE: null, FUTURE_WRITE: null },
      (_k, p, fd) => p.ftruncate(fd, 2 * PS),
    ],
    "ftruncate larger": [
      { SHRINK: null, GROW: "EPERM", WRITE: null, FUTURE_WRITE: null },
      (_k, p, fd) => p.ftruncate(fd, 3 * PS),
    ],
    "pwrite inside": [
      { SHRINK: null, GROW: null, WRITE: "EPERM", FUTURE_WRITE: "EPERM" },
      (_k, p, fd) => p.pwrite(fd, bytes(10, 1), 0),
    ],
    pread: [
      { SHRINK: null, GROW: null, WRITE: null, FUTURE_WRITE: null },
      (_k, p, fd) => p.pread(fd, 10, 0),
    ],
    "fallocate past the end": [
      { SHRINK: null, GROW: "EPERM", WRITE: null, FUTURE_WRITE: null },
      (_k, p, fd) => p.fallocate(fd, FALLOC_FL_KEEP_SIZE, PS, 2 * PS),
    ],
    "fallocate inside": [
      { SHRINK: null, GROW: null, WRITE: null, FUTURE_WRITE: null },
      (_k, p, fd) => p.fallocate(fd, 0, 0, PS),
    ],
    "punch a hole": [
      { SHRINK: null, GROW: null, WRITE: "EPERM", FUTURE_WRITE: "EPERM" },
      (_k, p, fd) => p.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PS),
    ],
    "mmap shared read-write": [
      { SHRINK: null, GROW: null, WRITE: "EPERM", FUTURE_WRITE: "EPERM" },
      (_k, p, fd) => p.mmap(fd, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED),
    ],
    "mmap shared write-only": [
      { SHRINK: null, GROW: null, WRITE: "EPERM", FUTURE_WRITE: "EPERM" },
      (_k, p, fd) => p.mmap(fd, PS, PROT_WRITE, MAP_SHARED),
    ],
    "mmap shared read-only, then mprotect(PROT_WRITE)": [
      { SHRINK: null, GROW: null, WRITE: "EACCES", FUTURE_WRITE: "EACCES" },
      (_k, p, fd) => {
        const m = p.mmap(fd, PS, PROT_READ, MAP_SHARED);
        try {
          p.mprotect(m, PROT_READ | PROT_WRITE);
        } finally {
          p.munmap(m);
        }
      },
    ],
    "mmap private read-write and store": [
      { SHRINK: null, GROW: null, WRITE: null, FUTURE_WRITE: null },
      (_k, p, fd) => p.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE).fill(3),
    ],
  };
  for (const [op, [row, call]] of Object.entries(table)) {
    for (const [seal, errno] of Object.entries(row)) {
      it(`${op} under F_SEAL_${seal}: ${errno ?? "ok"}`, () => {
        const { kernel, proc } = boot();
        const fd = sealable(proc, 2 * PS);
        proc.pwrite(fd, bytes(2 * PS, 5), 0);
        proc.fcntl(fd, F_ADD_SEALS, seals[seal as keyof typeof seals]);
        if (errno) failsCleanly(kernel, errno, () => call(kernel, proc, fd));
        else expect(errnoOf(() => call(kernel, proc, fd))).toBeNull();
      });
    }
  }

  it("F_SEAL_GROW stops a write at the first page past the end (short counts)", () => {
    const { kernel, proc } = boot();
    const fd = sealable(proc, PS);
    proc.fcntl(fd, F_ADD_SEALS, F_SEAL_GROW);
    expect(proc.pwrite(fd, bytes(PS, 1), 0)).toBe(PS);
    expect(proc.pwrite(fd, bytes(2 * PS, 1), 0)).toBe(PS);
    failsCleanly(kernel, "EPERM", () => proc.pwrite(fd, bytes(1, 1), PS));
    expect(proc.pwrite(fd, bytes(100, 2), 4000)).toBe(96);
    expect(proc.fstat(fd).size).toBe(PS);
  });

  it("a zero-length write succeeds even when sealed", () => {
    const { proc } = boot();
    const fd = sealable(proc, PS);
    proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);
    expect(proc.write(fd, new Uint8Array(0))).toBe(0);
  });
});

describe("MFD_HUGETLB: 2 MiB pages from the hugepages pool", () => {
  it("sizes are whole huge pages; write() is EINVAL; read works; pages come from the pool", () => {
    const { kernel, proc } = boot("6.1", 2);
    const pool = kernel.hugetlb.defaultPool;
    expect([pool.total, pool.free]).toEqual([2, 2]);
    const fd = proc.memfdCreate("hugeone", MFD_HUGETLB | MFD_ALLOW_SEALING);
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe("/memfd:hugeone (deleted)");
    expect(proc.fstat(fd).blksize).toBe(HUGE);
    failsCleanly(kernel, "EINVAL", () => proc.ftruncate(fd, PS));
    proc.ftruncate(fd, 2 * HUGE);
    failsCleanly(kernel, "EINVAL", () => proc.write(fd, Uint8Array.of(1)));
    expect(proc.pread(fd, 4, HUGE).every((b) => b === 0)).toBe(true);
    const m = proc.mmap(fd, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect([pool.free, pool.reserved]).toEqual([2, 2]);
    m.fill(0x68, HUGE + 5, 1);
    expect([pool.free, pool.reserved]).toEqual([1, 1]);
    expect(proc.pread(fd, 1, HUGE + 5)[0]).toBe(0x68);
    expect(proc.fstat(fd).blocks).toBe(HUGE / 512);
    proc.munmap(m);
    proc.close(fd);
    expect([pool.free, pool.reserved]).toEqual([2, 0]);
  });

  it("a mapping needs a reservation for every page it covers (ENOMEM), at a huge offset", () => {
    const { kernel, proc } = boot("6.1", 1);
    const fd = proc.memfdCreate("h", MFD_HUGETLB);
    proc.ftruncate(fd, 2 * HUGE);
    failsCleanly(kernel, "ENOMEM", () => proc.mmap(fd, 2 * HUGE, PROT_READ, MAP_SHARED));
    failsCleanly(kernel, "EINVAL", () => proc.mmap(fd, HUGE, PROT_READ, MAP_SHARED, PS));
    const m = proc.mmap(fd, HUGE, PROT_READ, MAP_SHARED, HUGE);
    expect(m.read(0, 1)[0]).toBe(0);
    expect(kernel.hugetlb.defaultPool.free).toBe(0);
  });

  it("hugepages beyond RAM: the pool takes what there is, with a warning", () => {
    const kernel = createKernel({ ram: "16MiB", hugepages: 100 });
    expect(kernel.hugetlb.defaultPool.total).toBe(8);
    expect(kernel.buddy.freePageCount()).toBe(0);
    expect(kernel.log.text()).toContain(
      "hugetlb: only 8 of 100 huge pages of 2 MiB were allocated",
    );
  });

  it("without huge pages the file exists but a mapping cannot be made", () => {
    const { kernel, proc } = boot("6.1", 0);
    const fd = proc.memfdCreate("h", MFD_HUGETLB);
    proc.ftruncate(fd, HUGE);
    failsCleanly(kernel, "ENOMEM", () => proc.mmap(fd, HUGE, PROT_READ, MAP_SHARED));
    failsCleanly(kernel, "ENOSPC", () => proc.fallocate(fd, 0, 0, HUGE));
  });
});
