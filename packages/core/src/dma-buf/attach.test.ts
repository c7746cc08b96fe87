// Attachments and device mappings: dma_buf_attach / dynamic_attach / detach, pin / unpin,
// map / unmap_attachment, move_notify, and the 6.1 sg-table caching.

import { describe, expect, it } from "vitest";
import { Device } from "../dma/device.js";
import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_NONE,
  DMA_TO_DEVICE,
  type DmaDirection,
} from "../dma/direction.js";
import { KernelBug } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import type { SgTable } from "../mm/sg-table.js";
import { O_RDWR } from "../uapi/fcntl.js";
import { errnoOf } from "../vfs/process.js";
import type { DmaBufAttachment } from "./dma-buf.js";
import type { DmaBufAttachOps } from "./ops.js";
import { boot, device, exportRecording, PS } from "./test-fixtures.js";

const importer = (log: string[] = [], allowPeer2peer?: boolean): DmaBufAttachOps => ({
  ...(allowPeer2peer === undefined ? {} : { allowPeer2peer }),
  moveNotify: (a) => log.push(`move ${a.dev.name}`),
});

describe("dma_buf_attach / dma_buf_dynamic_attach", () => {
  it("calls the exporter's attach before the attachment is listed; newest first", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, {
      override: {
        attach(b, a) {
          b.priv.calls.push(`attach ${a.dev.name} listed=${b.attachments.includes(a)}`);
          a.priv = `priv-of-${a.dev.name}`;
        },
      },
    });
    const gpu = device("gpu");
    const a1 = kernel.dmaBuf.attach(buf, gpu);
    const a2 = kernel.dmaBuf.dynamicAttach(buf, device("vpu"), importer(), { mine: 1 });
    expect(buf.attachments).toEqual([a2, a1]);
    expect(buf.priv.calls).toEqual(["attach gpu listed=false", "attach vpu listed=false"]);
    expect(a1.priv).toBe("priv-of-gpu");
    expect(a1.dev).toBe(gpu);
    expect(a1.dmabuf).toBe(buf);
    expect(a1.isDynamic).toBe(false);
    expect(a1.importerOps).toBeNull();
    expect(a2.isDynamic).toBe(true);
    expect(a2.importerPriv).toEqual({ mine: 1 });
    expect(kernel.snapshot()).toMatchObject({ attachments: 2, deviceMappings: 0 });
  });

  it("copies allowPeer2peer of the importer (false for static importers)", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    expect(kernel.dmaBuf.attach(buf, device("a")).peer2peer).toBe(false);
    expect(kernel.dmaBuf.dynamicAttach(buf, device("b"), importer()).peer2peer).toBe(false);
    expect(kernel.dmaBuf.dynamicAttach(buf, device("c"), importer([], true)).peer2peer).toBe(true);
    expect(kernel.dmaBuf.dynamicAttach(buf, device("d"), importer([], false)).peer2peer).toBe(
      false,
    );
  });

  it("attaches without an exporter attach op", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { omit: ["attach", "detach"] });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    kernel.dmaBuf.detach(buf, a);
    expect(buf.attachments).toEqual([]);
  });

  it.each([
    ["no moveNotify", {}],
    ["moveNotify not a function", { moveNotify: 1 }],
    ["only allowPeer2peer", { allowPeer2peer: true }],
  ])("importer ops with %s are EINVAL (and WARN)", (_name, ops) => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const before = kernel.snapshot();
    expect(() =>
      kernel.dmaBuf.dynamicAttach(buf, device("gpu"), ops as unknown as DmaBufAttachOps),
    ).toThrow(expect.objectContaining({ code: "EINVAL", errno: 22 }));
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.attachments).toEqual([]);
    expect(buf.priv.calls).toEqual([]);
    expect(kernel.log.records.map((r) => r.level)).toEqual(["warn"]);
  });

  it("a missing buffer or device is EINVAL", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const nothing = undefined as never;
    expect(errnoOf(() => kernel.dmaBuf.attach(buf, nothing))).toBe("EINVAL");
    expect(errnoOf(() => kernel.dmaBuf.attach(nothing, device("gpu")))).toBe("EINVAL");
  });

  it("an exporter refusing the device (EBUSY) leaves no attachment and calls no detach", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, {
      override: {
        attach(b, a) {
          b.priv.calls.push(`attach ${a.dev.name}`);
          if (a.dev.name === "far") throw new KernelError("EBUSY", "attach", "cannot reach");
        },
      },
    });
    const near = kernel.dmaBuf.attach(buf, device("near"));
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.attach(buf, device("far"))).toThrow(
      expect.objectContaining({ code: "EBUSY", errno: 16 }),
    );
    expect(() => kernel.dmaBuf.dynamicAttach(buf, device("far"), importer())).toThrow(
      expect.objectContaining({ code: "EBUSY" }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.attachments).toEqual([near]);
    expect(buf.priv.calls).toEqual(["attach near", "attach far", "attach far"]);
  });
});

describe("dma_buf_detach", () => {
  it("unlinks the attachment and calls the exporter's detach once", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const a1 = kernel.dmaBuf.attach(buf, device("one"));
    const a2 = kernel.dmaBuf.attach(buf, device("two"));
    kernel.dmaBuf.detach(buf, a1);
    expect(buf.attachments).toEqual([a2]);
    expect(a1.attached).toBe(false);
    // A second detach, or a detach through the wrong buffer, only warns.
    const other = exportRecording(kernel);
    kernel.dmaBuf.detach(buf, a1);
    kernel.dmaBuf.detach(other, a2);
    expect(buf.attachments).toEqual([a2]);
    expect(buf.priv.calls).toEqual(["attach one", "attach two", "detach one"]);
    expect(kernel.log.records.map((r) => r.level)).toEqual(["warn", "warn"]);
  });

  it("warns when live mappings remain, and still detaches", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    kernel.dmaBuf.detach(buf, a);
    expect(buf.attachments).toEqual([]);
    expect(kernel.log.records.some((r) => r.text.includes("1 live mappings"))).toBe(true);
  });
});

describe("dma_buf_map_attachment / unmap (6.18: no caching)", () => {
  it("maps through the exporter on every call, with fresh DMA-mapped tables", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pages: 3 });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    const t1 = kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    const t2 = kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    const t3 = kernel.dmaBuf.mapAttachment(a, DMA_FROM_DEVICE);
    expect(t1).not.toBe(t2);
    expect(t1.totalLength()).toBe(3 * PS);
    expect(t1.nents).toBeGreaterThan(0);
    expect(kernel.snapshot()).toMatchObject({ deviceMappings: 3 });
    expect(a.mappedCount).toBe(3);
    kernel.dmaBuf.unmapAttachment(a, t2, DMA_TO_DEVICE);
    kernel.dmaBuf.unmapAttachment(a, t1, DMA_TO_DEVICE);
    kernel.dmaBuf.unmapAttachment(a, t3, DMA_FROM_DEVICE);
    expect(kernel.snapshot()).toMatchObject({ deviceMappings: 0 });
    expect(buf.priv.calls).toEqual([
      "attach gpu",
      "map gpu DMA_TO_DEVICE",
      "map gpu DMA_TO_DEVICE",
      "map gpu DMA_FROM_DEVICE",
      "unmap gpu DMA_TO_DEVICE",
      "unmap gpu DMA_TO_DEVICE",
      "unmap gpu DMA_FROM_DEVICE",
    ]);
  });

  it("has no direction-conflict check", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { cacheSgtMapping: true });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    kernel.dmaBuf.mapAttachment(a, DMA_FROM_DEVICE);
    kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    expect(buf.priv.calls.filter((c) => c.startsWith("map"))).toHaveLength(3);
    expect(a.sgt).toBeNull();
  });

  it("attaching maps nothing, even a static importer of a pinnable exporter", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pin: true });
    kernel.dmaBuf.attach(buf, device("gpu"));
    kernel.dmaBuf.dynamicAttach(buf, device("vpu"), importer());
    expect(buf.priv.calls).toEqual(["attach gpu", "attach vpu"]);
    expect(kernel.snapshot()).toMatchObject({ deviceMappings: 0 });
  });

  const pinCases: [string, boolean, boolean, boolean][] = [
    ["static importer", false, false, true],
    ["static importer, MOVE_NOTIFY", false, true, true],
    ["dynamic importer", true, false, true],
    ["dynamic importer, MOVE_NOTIFY", true, true, false],
  ];
  it.each(pinCases)("pin on map of a pinnable exporter: %s → pinned %s", (_n, dyn, mn, pinned) => {
    const { kernel } = boot({ moveNotify: mn });
    const buf = exportRecording(kernel, { pin: true });
    const a = dyn
      ? kernel.dmaBuf.dynamicAttach(buf, device("gpu"), importer())
      : kernel.dmaBuf.attach(buf, device("gpu"));
    const t = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.unmapAttachment(a, t, DMA_BIDIRECTIONAL);
    const map = "map gpu DMA_BIDIRECTIONAL";
    const unmap = "unmap gpu DMA_BIDIRECTIONAL";
    expect(buf.priv.calls.slice(1)).toEqual(
      pinned ? ["pin gpu", map, unmap, "unpin gpu"] : [map, unmap],
    );
  });

  it.each([
    ["DMA_NONE", DMA_NONE],
    ["7", 7],
    ["-1", -1],
  ])("an invalid direction (%s) is EINVAL", (_n, dir) => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pin: true });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.mapAttachment(a, dir as DmaDirection)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.priv.calls).toEqual(["attach gpu"]);
  });

  it("mapping a detached attachment is EINVAL and reaches no exporter op", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pin: true });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    kernel.dmaBuf.detach(buf, a);
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE)).toThrow(
      expect.objectContaining({ code: "EINVAL", syscall: "dma_buf_map_attachment" }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.priv.calls).toEqual(["attach gpu", "detach gpu"]);
  });

  it("an exporter returning no table is ENOMEM; the pin taken for it is dropped", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, {
      pin: true,
      override: {
        mapDmaBuf: (a: DmaBufAttachment) => {
          (a.dmabuf.priv as { calls: string[] }).calls.push("map null");
          return null;
        },
      },
    });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE)).toThrow(
      expect.objectContaining({ code: "ENOMEM" }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.priv.calls).toEqual(["attach gpu", "pin gpu", "map null", "unpin gpu"]);
  });

  it("an exporter's map error passes through, pin undone", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, {
      pin: true,
      override: {
        mapDmaBuf: () => {
          throw new KernelError("EINTR", "map_dma_buf");
        },
      },
    });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    expect(errnoOf(() => kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE))).toBe("EINTR");
    expect(buf.priv.calls).toEqual(["attach gpu", "pin gpu", "unpin gpu"]);
    expect(a.mappedCount).toBe(0);
  });

  it("a device that cannot reach the pages fails the map (EIO) without leaking", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const a = kernel.dmaBuf.attach(buf, new Device({ name: "tiny-mask", dmaMask: 0xfff }));
    const before = kernel.snapshot();
    expect(errnoOf(() => kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE))).toBe("EIO");
    expect(kernel.snapshot()).toEqual(before);
  });

  it("unmapping a table that is not mapped through the attachment is a KernelBug", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const a = kernel.dmaBuf.attach(buf, device("a"));
    const b = kernel.dmaBuf.attach(buf, device("b"));
    const t = kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    expect(() => kernel.dmaBuf.unmapAttachment(b, t, DMA_TO_DEVICE)).toThrow(
      expect.objectContaining({ code: "DMA_BUF_UNMAP_NOT_MAPPED" }),
    );
    kernel.dmaBuf.unmapAttachment(a, t, DMA_TO_DEVICE);
    expect(() => kernel.dmaBuf.unmapAttachment(a, t, DMA_TO_DEVICE)).toThrow(KernelBug);
    expect(buf.priv.calls.filter((c) => c.startsWith("unmap"))).toEqual(["unmap a DMA_TO_DEVICE"]);
  });
});

describe("6.1 profile: sg-table caching", () => {
  it("maps and pins a static importer of a pinnable exporter at attach time", () => {
    const { kernel } = boot({ profile: "6.1" });
    const buf = exportRecording(kernel, { pin: true });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    expect(buf.priv.calls).toEqual(["attach gpu", "pin gpu", "map gpu DMA_BIDIRECTIONAL"]);
    expect(a.sgt).not.toBeNull();
    expect(a.dir).toBe(DMA_BIDIRECTIONAL);
    expect(kernel.snapshot()).toMatchObject({ attachments: 1, deviceMappings: 1 });
    // Every direction is served from the cached bidirectional table without the exporter.
    for (const dir of [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL] as const) {
      const t = kernel.dmaBuf.mapAttachment(a, dir);
      expect(t).toBe(a.sgt);
      kernel.dmaBuf.unmapAttachment(a, t, dir); // a no-op for the cached table
    }
    expect(buf.priv.calls).toHaveLength(3);
    kernel.dmaBuf.detach(buf, a);
    expect(buf.priv.calls.slice(3)).toEqual([
      "unmap gpu DMA_BIDIRECTIONAL",
      "unpin gpu",
      "detach gpu",
    ]);
    expect(kernel.snapshot()).toMatchObject({ attachments: 0, deviceMappings: 0 });
  });

  it("maps (without pinning) a dynamic importer of a non-pinnable exporter at attach time", () => {
    const { kernel } = boot({ profile: "6.1" });
    const buf = exportRecording(kernel);
    const a = kernel.dmaBuf.dynamicAttach(buf, device("gpu"), importer());
    expect(buf.priv.calls).toEqual(["attach gpu", "map gpu DMA_BIDIRECTIONAL"]);
    kernel.dmaBuf.detach(buf, a);
    expect(buf.priv.calls.slice(2)).toEqual(["unmap gpu DMA_BIDIRECTIONAL", "detach gpu"]);
  });

  it("maps nothing at attach when importer and exporter agree", () => {
    const { kernel } = boot({ profile: "6.1" });
    const stat = exportRecording(kernel);
    const dyn = exportRecording(kernel, { pin: true });
    kernel.dmaBuf.attach(stat, device("gpu"));
    kernel.dmaBuf.dynamicAttach(dyn, device("gpu"), importer());
    expect(stat.priv.calls).toEqual(["attach gpu"]);
    expect(dyn.priv.calls).toEqual(["attach gpu"]);
  });

  it("an attach-time mapping failure undoes the pin, detaches and returns the error", () => {
    const { kernel } = boot({ profile: "6.1" });
    const buf = exportRecording(kernel, {
      pin: true,
      override: {
        mapDmaBuf: () => {
          throw new KernelError("ENOMEM", "map_dma_buf");
        },
      },
    });
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.attach(buf, device("gpu"))).toThrow(
      expect.objectContaining({ code: "ENOMEM" }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.attachments).toEqual([]);
    expect(buf.priv.calls).toEqual(["attach gpu", "pin gpu", "unpin gpu", "detach gpu"]);
  });

  it("cacheSgtMapping: the first map is cached; a conflicting direction is EBUSY", () => {
    const { kernel } = boot({ profile: "6.1" });
    const buf = exportRecording(kernel, { cacheSgtMapping: true });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    const t = kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    expect(kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE)).toBe(t);
    kernel.dmaBuf.unmapAttachment(a, t, DMA_TO_DEVICE);
    expect(kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE)).toBe(t);
    const before = kernel.snapshot();
    for (const dir of [DMA_FROM_DEVICE, DMA_BIDIRECTIONAL] as const) {
      expect(() => kernel.dmaBuf.mapAttachment(a, dir)).toThrow(
        expect.objectContaining({ code: "EBUSY", errno: 16 }),
      );
    }
    expect(kernel.snapshot()).toEqual(before);
    expect(kernel.snapshot().deviceMappings).toBe(1);
    expect(buf.priv.calls).toEqual(["attach gpu", "map gpu DMA_TO_DEVICE"]);
    kernel.dmaBuf.detach(buf, a);
    expect(buf.priv.calls.slice(2)).toEqual(["unmap gpu DMA_TO_DEVICE", "detach gpu"]);
  });

  it("cacheSgtMapping: a cached bidirectional table serves every direction", () => {
    const { kernel } = boot({ profile: "6.1" });
    const buf = exportRecording(kernel, { cacheSgtMapping: true });
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    const t = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect(kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE)).toBe(t);
    expect(kernel.dmaBuf.mapAttachment(a, DMA_FROM_DEVICE)).toBe(t);
    expect(buf.priv.calls).toEqual(["attach gpu", "map gpu DMA_BIDIRECTIONAL"]);
  });

  it("without cacheSgtMapping every map calls the exporter", () => {
    const { kernel } = boot({ profile: "6.1" });
    const buf = exportRecording(kernel);
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    const tables: SgTable[] = [];
    for (const dir of [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_TO_DEVICE] as const) {
      tables.push(kernel.dmaBuf.mapAttachment(a, dir));
    }
    expect(new Set(tables).size).toBe(3);
    expect(a.sgt).toBeNull();
    expect(buf.priv.calls.filter((c) => c.startsWith("map"))).toHaveLength(3);
  });

  it.each([
    [false, true],
    [true, false],
  ])(
    "a dynamic importer of a pinnable exporter (MOVE_NOTIFY %s) is pinned on map: %s",
    (mn, pinned) => {
      const { kernel } = boot({ profile: "6.1", moveNotify: mn });
      const buf = exportRecording(kernel, { pin: true });
      const a = kernel.dmaBuf.dynamicAttach(buf, device("gpu"), importer());
      const t = kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
      kernel.dmaBuf.unmapAttachment(a, t, DMA_TO_DEVICE);
      const map = "map gpu DMA_TO_DEVICE";
      const unmap = "unmap gpu DMA_TO_DEVICE";
      expect(buf.priv.calls.slice(1)).toEqual(
        pinned ? ["pin gpu", map, unmap, "unpin gpu"] : [map, unmap],
      );
    },
  );
});

describe("dma_buf_pin / unpin and move_notify", () => {
  it("pin and unpin call the exporter; an unbalanced unpin is a KernelBug", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pin: true });
    const a = kernel.dmaBuf.dynamicAttach(buf, device("gpu"), importer());
    kernel.dmaBuf.pin(a);
    kernel.dmaBuf.pin(a);
    kernel.dmaBuf.unpin(a);
    kernel.dmaBuf.unpin(a);
    expect(() => kernel.dmaBuf.unpin(a)).toThrow(
      expect.objectContaining({ code: "DMA_BUF_UNPIN_UNBALANCED" }),
    );
    expect(buf.priv.calls).toEqual(["attach gpu", "pin gpu", "pin gpu", "unpin gpu", "unpin gpu"]);
    expect(kernel.log.records).toEqual([]);
  });

  it("pin of a static attachment warns; pin of a non-pinnable exporter is a no-op", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const a = kernel.dmaBuf.attach(buf, device("gpu"));
    kernel.dmaBuf.pin(a);
    kernel.dmaBuf.unpin(a);
    expect(buf.priv.calls).toEqual(["attach gpu"]);
    expect(kernel.log.records.map((r) => r.level)).toEqual(["warn", "warn"]);
  });

  it("an exporter's pin error passes through", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, {
      pin: true,
      override: {
        pin: () => {
          throw new KernelError("EBUSY", "pin");
        },
      },
    });
    const a = kernel.dmaBuf.dynamicAttach(buf, device("gpu"), importer());
    expect(errnoOf(() => kernel.dmaBuf.pin(a))).toBe("EBUSY");
    expect(a.pinCount).toBe(0);
    expect(errnoOf(() => kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE))).toBe("EBUSY");
    expect(a.mappedCount).toBe(0);
  });

  it("move_notify reaches every dynamic attachment, newest first, and skips static ones", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pin: true });
    const log: string[] = [];
    kernel.dmaBuf.dynamicAttach(buf, device("one"), importer(log));
    kernel.dmaBuf.attach(buf, device("static"));
    kernel.dmaBuf.dynamicAttach(buf, device("two"), importer(log));
    kernel.dmaBuf.moveNotify(buf);
    expect(log).toEqual(["move two", "move one"]);
  });
});

describe("attachments keep no buffer reference", () => {
  it("the importer's get is what keeps the buffer; attach adds no file reference", () => {
    const { kernel, pages } = boot();
    const p = kernel.spawn();
    const buf = pages.create(PS, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, p, 0);
    const got = kernel.dmaBuf.get(p, fd);
    const refs = buf.file.refCount;
    const a = kernel.dmaBuf.attach(got, device("gpu"));
    const t = kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    expect(buf.file.refCount).toBe(refs);
    kernel.dmaBuf.unmapAttachment(a, t, DMA_TO_DEVICE);
    kernel.dmaBuf.detach(got, a);
    kernel.dmaBuf.put(got);
    p.close(fd);
    expect(buf.priv.releases).toBe(1);
  });
});
