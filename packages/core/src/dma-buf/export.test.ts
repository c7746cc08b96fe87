// dma_buf_export validation, dma_buf_fd, dma_buf_get / get_dma_buf / dma_buf_put.

import { describe, expect, it } from "vitest";
import { DmaResv } from "../fence/dma-resv.js";
import {
  FMODE_LSEEK,
  FMODE_OPENED,
  FMODE_READ,
  FMODE_WRITE,
  O_APPEND,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
} from "../uapi/fcntl.js";
import { errnoOf } from "../vfs/process.js";
import type { DmaBufOps } from "./ops.js";
import {
  BUFINFO,
  boot,
  exportRecording,
  PS,
  type RecordingPriv,
  recordingOps,
  recordingPriv,
} from "./test-fixtures.js";

describe("dma_buf_export", () => {
  it("creates a buffer holding one reference, listed newest first", () => {
    const { kernel } = boot();
    const a = exportRecording(kernel, { pages: 1 });
    const b = exportRecording(kernel, { pages: 3, expName: "other" });
    expect(a.size).toBe(PS);
    expect(b.size).toBe(3 * PS);
    expect(b.expName).toBe("other");
    expect(a.owner).toBe("kernel");
    expect(a.file.refCount).toBe(1);
    expect(a.file.privateData).toBe(a);
    expect(kernel.dmaBuf.fromFile(a.file)).toBe(a);
    expect(kernel.dmaBuf.list()).toEqual([b, a]);
    expect(a.name).toBeNull();
    expect(a.attachments).toEqual([]);
    expect(a.vmappingCounter).toBe(0);
    expect(a.priv.calls).toEqual([]);
  });

  it("keeps only O_ACCMODE and O_NONBLOCK of the flags in the file", () => {
    const { kernel } = boot();
    const cases: [number, number, number][] = [
      [O_RDWR, O_RDWR, FMODE_READ | FMODE_WRITE],
      [O_RDONLY, O_RDONLY, FMODE_READ],
      [O_WRONLY, O_WRONLY, FMODE_WRITE],
      [O_RDWR | O_CLOEXEC | O_APPEND | O_NONBLOCK, O_RDWR | O_NONBLOCK, FMODE_READ | FMODE_WRITE],
    ];
    for (const [flags, fFlags, rw] of cases) {
      const buf = exportRecording(kernel, { flags });
      expect(buf.file.fFlags).toBe(fFlags);
      expect(buf.file.fMode).toBe(rw | FMODE_LSEEK | FMODE_OPENED);
    }
    expect(exportRecording(kernel, { flags: O_RDWR }).file.fMode).toBe(0x80007);
    expect(exportRecording(kernel, { flags: O_RDONLY }).file.fMode).toBe(0x80005);
  });

  it("embeds a reservation object unless one is shared", () => {
    const { kernel } = boot();
    const resv = new DmaResv();
    const shared = kernel.dmaBuf.export({
      expName: "x",
      ops: recordingOps(kernel),
      size: PS,
      resv,
      priv: recordingPriv(kernel, 1),
    });
    const own = exportRecording(kernel);
    expect(shared.resv).toBe(resv);
    expect(own.resv).toBeInstanceOf(DmaResv);
    expect(own.resv).not.toBe(resv);
  });

  it("accepts an owner and defaults flags to O_RDONLY", () => {
    const { kernel } = boot();
    const buf = kernel.dmaBuf.export({
      expName: "x",
      owner: "my_module",
      ops: recordingOps(kernel),
      size: PS,
      priv: recordingPriv(kernel, 1),
    });
    expect(buf.owner).toBe("my_module");
    expect(buf.file.fFlags).toBe(O_RDONLY);
  });

  describe("rejects invalid export info with EINVAL, consuming no inode number", () => {
    const base = (kernel: ReturnType<typeof boot>["kernel"]) => ({
      expName: "x",
      ops: recordingOps(kernel),
      size: PS,
      flags: O_RDWR,
      priv: { pfns: new Float64Array(), calls: [], releases: 0 } as RecordingPriv,
    });
    const cases: [string, Record<string, unknown>][] = [
      ["size 0", { size: 0 }],
      ["negative size", { size: -PS }],
      ["fractional size", { size: 1.5 }],
      ["NaN size", { size: Number.NaN }],
      ["string size", { size: "4096" }],
      ["missing size", { size: undefined }],
      ["negative flags", { flags: -1 }],
      ["fractional flags", { flags: 0.5 }],
      ["ops null", { ops: null }],
      ["ops undefined", { ops: undefined }],
      ["ops a string", { ops: "ops" }],
      ["priv undefined", { priv: undefined }],
      ["priv null", { priv: null }],
      ["resv not a DmaResv", { resv: {} }],
      ["expName a number", { expName: 42 }],
      ["owner a number", { owner: 7 }],
    ];
    it.each(cases)("%s", (_name, patch) => {
      const { kernel } = boot();
      const before = kernel.snapshot();
      const info = { ...base(kernel), ...patch } as Parameters<typeof kernel.dmaBuf.export>[0];
      expect(() => kernel.dmaBuf.export(info)).toThrow(
        expect.objectContaining({ code: "EINVAL", errno: 22, syscall: "dma_buf_export" }),
      );
      expect(kernel.snapshot()).toEqual(before);
      expect(exportRecording(kernel).ino).toBe(1);
    });
  });

  describe("rejects an ops table the kernel refuses with EINVAL", () => {
    const cases: [string, (keyof DmaBufOps)[], Partial<DmaBufOps<RecordingPriv>>][] = [
      ["without mapDmaBuf", ["mapDmaBuf"], {}],
      ["without unmapDmaBuf", ["unmapDmaBuf"], {}],
      ["without release", ["release"], {}],
      ["without all three", ["mapDmaBuf", "unmapDmaBuf", "release"], {}],
      ["with pin but no unpin", [], { pin: () => {} }],
      ["with unpin but no pin", [], { unpin: () => {} }],
    ];
    it.each(cases)("%s", (_name, omit, override) => {
      const { kernel } = boot();
      const before = kernel.snapshot();
      const ops = recordingOps(kernel, { omit, override });
      expect(
        errnoOf(() =>
          kernel.dmaBuf.export({ expName: "x", ops, size: PS, priv: recordingPriv(kernel, 0) }),
        ),
      ).toBe("EINVAL");
      expect(kernel.snapshot()).toEqual(before);
      // Checked before the file exists: no inode number is consumed.
      expect(exportRecording(kernel).ino).toBe(1);
    });

    it("warns in the kernel log when a mandatory op is missing", () => {
      const { kernel } = boot();
      const ops = recordingOps(kernel, { omit: ["release"] });
      expect(() =>
        kernel.dmaBuf.export({ expName: "x", ops, size: PS, priv: recordingPriv(kernel, 0) }),
      ).toThrow(expect.objectContaining({ code: "EINVAL" }));
      expect(kernel.log.records.map((r) => r.level)).toEqual(["warn"]);
    });
  });

  it("6.1: refuses cacheSgtMapping together with pin/unpin (EINVAL)", () => {
    const { kernel } = boot({ profile: "6.1" });
    const ops = recordingOps(kernel, { pin: true, cacheSgtMapping: true });
    const before = kernel.snapshot();
    expect(() =>
      kernel.dmaBuf.export({ expName: "x", ops, size: PS, priv: recordingPriv(kernel, 0) }),
    ).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(kernel.snapshot()).toEqual(before);
    // Each alone is fine.
    expect(exportRecording(kernel, { pin: true }).ino).toBe(1);
    expect(exportRecording(kernel, { cacheSgtMapping: true }).ino).toBe(2);
  });

  it("6.18: has no sg-table caching, so cacheSgtMapping with pin is accepted", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pin: true, cacheSgtMapping: true });
    expect(buf.ino).toBe(1);
    expect(buf.isDynamic).toBe(true);
  });

  it.each(["6.18", "6.1"] as const)(
    "%s: a missing expName is EINVAL (sysfs stats) and consumes an inode number",
    (profile) => {
      const { kernel } = boot({ profile });
      expect(exportRecording(kernel).ino).toBe(1);
      const before = kernel.snapshot();
      expect(() =>
        kernel.dmaBuf.export({
          ops: recordingOps(kernel),
          size: PS,
          priv: recordingPriv(kernel, 0),
        }),
      ).toThrow(expect.objectContaining({ code: "EINVAL", syscall: "dma_buf_export" }));
      expect(kernel.snapshot()).toEqual(before);
      expect(exportRecording(kernel).ino).toBe(3);
    },
  );

  it("accepts an empty expName (a non-NULL string in C)", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { expName: "" });
    expect(buf.expName).toBe("");
    const p = kernel.spawn();
    const fd = kernel.dmaBuf.fd(buf, p, 0);
    expect(p.readFile(`/proc/self/fdinfo/${fd}`)).toContain("\nexp_name:\t\n");
  });

  it("a PageExporter allocation that cannot be satisfied fails with ENOMEM and leaks nothing", () => {
    const { kernel, pages } = boot();
    const before = kernel.snapshot();
    expect(errnoOf(() => pages.create(17 * 1024 * 1024, O_RDWR))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    expect(errnoOf(() => pages.create(0, O_RDWR))).toBe("EINVAL");
    expect(kernel.snapshot()).toEqual(before);
    // Nothing was exported: the first inode number is still free.
    expect(pages.create(1, O_RDWR).ino).toBe(1);
  });

  it("rounds a PageExporter size up to whole pages", () => {
    const { pages } = boot();
    expect(pages.create(1, O_RDWR).size).toBe(PS);
    expect(pages.create(PS + 1, O_RDWR).size).toBe(2 * PS);
  });
});

describe("dma_buf_fd", () => {
  it("transfers the export's reference to the lowest free fd; only O_CLOEXEC matters", () => {
    const { kernel, pages } = boot();
    const p = kernel.spawn();
    const a = pages.create(PS, O_RDWR);
    const b = pages.create(PS, O_RDWR);
    expect(kernel.dmaBuf.fd(a, p, O_CLOEXEC)).toBe(0);
    expect(kernel.dmaBuf.fd(b, p, O_NONBLOCK | O_WRONLY)).toBe(1);
    expect(a.file.refCount).toBe(1);
    expect(b.file.refCount).toBe(1);
    expect(p.isCloexec(0)).toBe(true);
    expect(p.isCloexec(1)).toBe(false);
    expect(b.file.fFlags).toBe(O_RDWR);
    p.close(0);
    const c = pages.create(PS, O_RDWR);
    expect(kernel.dmaBuf.fd(c, p, 0)).toBe(0);
    expect(a.priv.releases).toBe(1);
  });

  it("fails with EMFILE when RLIMIT_NOFILE is exhausted; the reference stays with the caller", () => {
    const { kernel, pages } = boot();
    const p = kernel.spawn();
    const buf = pages.create(PS, O_RDWR);
    p.rlimitNofile = 0;
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.fd(buf, p, O_CLOEXEC)).toThrow(
      expect.objectContaining({ code: "EMFILE", errno: 24 }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.file.refCount).toBe(1);
    // A full table also gives EMFILE.
    p.rlimitNofile = 2;
    kernel.dmaBuf.fd(pages.create(PS, O_RDWR), p, 0);
    kernel.dmaBuf.fd(pages.create(PS, O_RDWR), p, 0);
    expect(errnoOf(() => kernel.dmaBuf.fd(buf, p, 0))).toBe("EMFILE");
    expect(buf.file.refCount).toBe(1);
    // The caller still owns its reference and drops it: exactly one release.
    kernel.dmaBuf.put(buf);
    expect(buf.priv.releases).toBe(1);
    expect(kernel.dmaBuf.list()).not.toContain(buf);
  });
});

describe("dma_buf_get / get_dma_buf / dma_buf_put", () => {
  it("takes and drops file references", () => {
    const { kernel, pages } = boot();
    const p = kernel.spawn();
    const buf = pages.create(PS, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, p, 0);
    expect(kernel.dmaBuf.get(p, fd)).toBe(buf);
    expect(buf.file.refCount).toBe(2);
    expect(kernel.dmaBuf.getDmaBuf(buf)).toBe(buf);
    expect(buf.file.refCount).toBe(3);
    kernel.dmaBuf.put(buf);
    kernel.dmaBuf.put(buf);
    expect(buf.file.refCount).toBe(1);
    expect(buf.priv.releases).toBe(0);
  });

  it("fails with EBADF for an fd that is not open", () => {
    const { kernel, pages } = boot();
    const p = kernel.spawn();
    const fd = kernel.dmaBuf.fd(pages.create(PS, O_RDWR), p, 0);
    const before = kernel.snapshot();
    for (const bad of [-1, 1, 99, 1.5, Number.NaN]) {
      expect(() => kernel.dmaBuf.get(p, bad)).toThrow(
        expect.objectContaining({ code: "EBADF", errno: 9 }),
      );
    }
    expect(kernel.snapshot()).toEqual(before);
    p.close(fd);
    expect(errnoOf(() => kernel.dmaBuf.get(p, fd))).toBe("EBADF");
  });

  it("fails with EINVAL for an fd that is not a dma-buf", () => {
    const { kernel } = boot();
    const p = kernel.spawn();
    const fd = p.open(BUFINFO, O_RDONLY);
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.get(p, fd)).toThrow(
      expect.objectContaining({ code: "EINVAL", syscall: "dma_buf_get" }),
    );
    expect(kernel.snapshot()).toEqual(before);
  });
});
