// mmap() of a dma-buf fd (dma_buf_mmap_internal + the VFS checks) and in-kernel dma_buf_mmap.
// Expected values are the ones Linux 6.1.176 returned (observed heaps.system.dmabuf.mmap).

import { describe, expect, it } from "vitest";
import { KernelError } from "../errors/kernel-error.js";
import { Vma } from "../mm/vma.js";
import { O_CLOEXEC, O_RDONLY, O_RDWR, O_WRONLY } from "../uapi/fcntl.js";
import {
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from "../uapi/mman.js";
import { errnoOf } from "../vfs/process.js";
import { boot, exportRecording, PS } from "./test-fixtures.js";

const RW = PROT_READ | PROT_WRITE;

function setup(size = 4 * PS, fileFlags = O_RDWR) {
  const { kernel, pages } = boot();
  const proc = kernel.spawn();
  const buf = pages.create(size, fileFlags);
  const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
  return { kernel, pages, proc, buf, fd };
}

describe("mmap bounds (16 KiB buffer)", () => {
  const cases: [string, number, number, number, number, string | null][] = [
    ["shared_rw_full", 16384, 0, RW, MAP_SHARED, null],
    ["len_size_plus_page", 20480, 0, RW, MAP_SHARED, "EINVAL"],
    ["offset_last_page", 4096, 12288, RW, MAP_SHARED, null],
    ["offset_equals_size", 4096, 16384, RW, MAP_SHARED, "EINVAL"],
    ["offset_far_beyond", 4096, 262144, RW, MAP_SHARED, "EINVAL"],
    ["offset_page_len_size", 16384, 4096, RW, MAP_SHARED, "EINVAL"],
    ["offset_unaligned", 4096, 100, RW, MAP_SHARED, "EINVAL"],
    ["len_zero", 0, 0, RW, MAP_SHARED, "EINVAL"],
    ["len_unaligned_size_minus_100", 16284, 0, RW, MAP_SHARED, null],
    ["prot_read_exec", 16384, 0, PROT_READ | PROT_EXEC, MAP_SHARED, null],
    ["prot_none", 16384, 0, PROT_NONE, MAP_SHARED, null],
    ["one byte past the end", 16385, 0, RW, MAP_SHARED, "EINVAL"],
    ["last page, two pages long", 8192, 12288, RW, MAP_SHARED, "EINVAL"],
    ["MAP_SHARED_VALIDATE", 16384, 0, RW, MAP_SHARED_VALIDATE, null],
    ["no map type", 4096, 0, RW, 0, "EINVAL"],
  ];
  it.each(cases)("%s", (_name, length, offset, prot, flags, errno) => {
    const { kernel, proc, fd, buf } = setup();
    const before = kernel.snapshot();
    if (errno === null) {
      const m = proc.mmap(fd, length, prot, flags, offset);
      expect(m.length).toBe(Math.ceil(length / PS) * PS);
      expect(m.vma.pgoff).toBe(offset / PS);
      expect(buf.file.refCount).toBe(2);
      expect(kernel.snapshot()).toEqual({ ...before, bufferRefs: 2, userMappings: 1 });
    } else {
      expect(() => proc.mmap(fd, length, prot, flags, offset)).toThrow(
        expect.objectContaining({ code: errno, syscall: "mmap" }),
      );
      expect(kernel.snapshot()).toEqual(before);
    }
  });
});

describe("mmap access modes (observed mmap.access_modes)", () => {
  const cases: [string, number, number, number, string | null][] = [
    ["rdonly_fd_shared_read", O_RDONLY, PROT_READ, MAP_SHARED, null],
    ["rdonly_fd_shared_rw", O_RDONLY, RW, MAP_SHARED, "EACCES"],
    ["rdonly_fd_private_rw", O_RDONLY, RW, MAP_PRIVATE, null],
    ["wronly_fd_shared_read", O_WRONLY, PROT_READ, MAP_SHARED, "EACCES"],
    ["wronly_fd_shared_write", O_WRONLY, PROT_WRITE, MAP_SHARED, "EACCES"],
    ["wronly_fd_private_read", O_WRONLY, PROT_READ, MAP_PRIVATE, "EACCES"],
    ["rdwr_fd_shared_rw", O_RDWR, RW, MAP_SHARED, null],
  ];
  it.each(cases)("%s", (_name, fileFlags, prot, flags, errno) => {
    const { kernel, proc, fd } = setup(PS, fileFlags);
    const before = kernel.snapshot();
    const got = errnoOf(() => proc.mmap(fd, PS, prot, flags));
    expect(got).toBe(errno);
    if (errno !== null) expect(kernel.snapshot()).toEqual(before);
  });
});

describe("mmap through the exporter", () => {
  it("an exporter without mmap gives EINVAL (after the VFS checks)", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel, { omit: ["mmap"] });
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    const before = kernel.snapshot();
    expect(() => proc.mmap(fd, PS, PROT_READ, MAP_SHARED)).toThrow(
      expect.objectContaining({ code: "EINVAL", errno: 22 }),
    );
    expect(kernel.snapshot()).toEqual(before);
    const ro = kernel.dmaBuf.fd(
      exportRecording(kernel, { omit: ["mmap"], flags: O_RDONLY }),
      proc,
      0,
    );
    expect(errnoOf(() => proc.mmap(ro, PS, RW, MAP_SHARED))).toBe("EACCES");
  });

  it("the exporter sees the page offset and page count; its error fails the mmap cleanly", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel, { pages: 4 });
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    proc.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED, PS);
    // The bounds check runs before the exporter: refused mappings never reach it.
    expect(errnoOf(() => proc.mmap(fd, 4 * PS, PROT_READ, MAP_SHARED, PS))).toBe("EINVAL");
    expect(buf.priv.calls).toEqual(["mmap 1+2"]);

    const failing = exportRecording(kernel, {
      override: {
        mmap: () => {
          throw new KernelError("ENOMEM", "mmap");
        },
      },
    });
    const ffd = kernel.dmaBuf.fd(failing, proc, 0);
    const before = kernel.snapshot();
    expect(errnoOf(() => proc.mmap(ffd, PS, PROT_READ, MAP_SHARED))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    expect(failing.file.refCount).toBe(1);
  });

  it("shares data between mappings and processes, and after munmap (observed shared_rw_full)", () => {
    const { kernel, proc, fd } = setup();
    const m1 = proc.mmap(fd, 4 * PS, RW, MAP_SHARED);
    expect(m1.read().every((b) => b === 0)).toBe(true);
    m1.fill(0x5a);
    const other = kernel.spawn();
    const ofd = proc.sendFd(fd, other);
    const m2 = other.mmap(ofd, PS, PROT_READ, MAP_SHARED, 3 * PS);
    expect(m2.read(0, 4)).toEqual(new Uint8Array([0x5a, 0x5a, 0x5a, 0x5a]));
    proc.munmap(m1);
    const m3 = proc.mmap(fd, 4 * PS, PROT_READ, MAP_SHARED);
    expect(m3.read().every((b) => b === 0x5a)).toBe(true);
  });

  it("a mapping stays usable after its fd is closed (observed mapping_after_close_fd)", () => {
    const { kernel, proc, fd, buf } = setup();
    const m = proc.mmap(fd, 4 * PS, RW, MAP_SHARED);
    m.fill(7, 0, 10);
    proc.close(fd);
    expect(m.read(0, 10).every((b) => b === 7)).toBe(true);
    m.write(10, new Uint8Array([1, 2, 3]));
    expect(m.read(10, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(buf.priv.releases).toBe(0);
    proc.munmap(m);
    expect(buf.priv.releases).toBe(1);
    expect(kernel.snapshot()).toMatchObject({ buffers: 0, files: 0, userMappings: 0 });
  });

  it("reads into a caller's array at an offset, checking access before the destination", () => {
    const { proc, fd } = setup();
    const m = proc.mmap(fd, 4 * PS, RW, MAP_SHARED);
    m.write(PS - 2, new Uint8Array([1, 2, 3, 4]));
    const dst = new Uint8Array(8).fill(0xee);
    const got = m.read(PS - 2, 4, dst, 3);
    expect(got).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(got.buffer).toBe(dst.buffer);
    expect(dst).toEqual(new Uint8Array([0xee, 0xee, 0xee, 1, 2, 3, 4, 0xee]));
    expect(() => m.read(0, 4, dst, 5)).toThrow(RangeError);
    expect(() => m.read(0, 4, dst, -1)).toThrow(RangeError);
    expect(() => m.read(4 * PS - 2, 4, dst, 5)).toThrow(
      expect.objectContaining({ code: "SIGSEGV" }),
    );
    proc.munmap(m);
  });

  it("munmap of an already unmapped mapping is EINVAL and drops nothing twice", () => {
    const { kernel, proc, fd, buf } = setup();
    const m = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
    proc.munmap(m);
    const before = kernel.snapshot();
    expect(errnoOf(() => proc.munmap(m))).toBe("EINVAL");
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.file.refCount).toBe(1);
  });
});

describe("in-kernel dma_buf_mmap", () => {
  /** A driver's VMA over another file (a second buffer stands in for the driver's file). */
  function driverVma(
    kernel: ReturnType<typeof boot>["kernel"],
    pages: number,
    pgoff = 0,
  ): { vma: Vma; driverFile: ReturnType<typeof exportRecording>["file"] } {
    const driver = exportRecording(kernel, { pages: 1, expName: "driver" });
    const vma = new Vma(0x100000, pages * PS, pgoff, PROT_READ, MAP_SHARED, driver.file, PS);
    return { vma, driverFile: driver.file };
  }

  it("redirects the VMA to the buffer's file at pgoff and moves the file reference", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pages: 4 });
    const { vma, driverFile } = driverVma(kernel, 2, 99);
    driverFile.get(); // the VMA's reference
    kernel.dmaBuf.mmap(buf, vma, 2);
    expect(vma.file).toBe(buf.file);
    expect(vma.pgoff).toBe(2);
    expect(buf.file.refCount).toBe(2);
    expect(driverFile.refCount).toBe(1);
    expect(buf.priv.calls).toEqual(["mmap 2+2"]);
    expect(Array.from(vma.pfns)).toEqual([buf.priv.pfns[2], buf.priv.pfns[3]]);
  });

  const cases: [string, number, number, string][] = [
    ["pgoff + pages overflows", 1, Number.MAX_SAFE_INTEGER, "EOVERFLOW"],
    ["past the end", 2, 3, "EINVAL"],
    ["pgoff at the end", 1, 4, "EINVAL"],
    ["longer than the buffer", 5, 0, "EINVAL"],
  ];
  it.each(cases)("%s → %s, leaving the VMA alone", (_name, pages, pgoff, errno) => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pages: 4 });
    const { vma, driverFile } = driverVma(kernel, pages, 0);
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.mmap(buf, vma, pgoff)).toThrow(
      expect.objectContaining({ code: errno, syscall: "dma_buf_mmap" }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(vma.file).toBe(driverFile);
    expect(vma.pgoff).toBe(0);
    expect(buf.priv.calls).toEqual([]);
  });

  it("an exporter without mmap is EINVAL", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { omit: ["mmap"] });
    const { vma } = driverVma(kernel, 1);
    expect(errnoOf(() => kernel.dmaBuf.mmap(buf, vma, 0))).toBe("EINVAL");
  });

  it("the last page fits exactly", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pages: 4 });
    const { vma, driverFile } = driverVma(kernel, 1);
    driverFile.get();
    kernel.dmaBuf.mmap(buf, vma, 3);
    expect(vma.pgoff).toBe(3);
  });
});
