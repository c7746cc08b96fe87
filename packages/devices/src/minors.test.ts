// DRM and V4L2 minors come from each kernel's char-device registry: per kernel, lowest free first.

import { createDeviceHost, createKernel } from "@dmabuf/core";
import { O_RDWR } from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { Camera } from "./camera.js";
import { Scanout } from "./scanout.js";
import { Vgem } from "./vgem.js";

function errno(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

const cards = (k: ReturnType<typeof createKernel>) =>
  k
    .spawn({ name: "ls" })
    .readdir("/dev/dri")
    .map((n) => {
      const proc = k.spawn({ name: "stat" });
      const st = proc.fstat(proc.open(`/dev/dri/${n}`, O_RDWR));
      return `${n}=${st.rdevMajor}:${st.rdevMinor}`;
    })
    .sort();

describe("char-device minors", () => {
  it("two kernels number their DRM and V4L2 nodes independently", () => {
    const a = createKernel({ ram: "64MiB", plugins: [Vgem, Scanout, Camera] });
    const b = createKernel({ ram: "64MiB", plugins: [Scanout, Camera] });
    // A device added to the first kernel after the second booted continues the first's numbering.
    const late = new Vgem(createDeviceHost(a), { name: "vgem-late" });
    late.probe();
    expect(cards(a)).toEqual(["card0=226:0", "card1=226:1", "card2=226:2"]);
    expect(cards(b)).toEqual(["card0=226:0"]);
    expect(
      a
        .spawn({ name: "ls" })
        .readdir("/dev")
        .filter((n) => n.startsWith("video")),
    ).toEqual(["video0"]);
    expect(
      b
        .spawn({ name: "ls" })
        .readdir("/dev")
        .filter((n) => n.startsWith("video")),
    ).toEqual(["video0"]);
  });

  it("a removed card's minor is the next one handed out (lowest free, as idr_alloc)", () => {
    const k = createKernel({ ram: "64MiB", plugins: [Vgem, Scanout] });
    const host = createDeviceHost(k);
    const proc = k.spawn({ name: "app" });
    const open = proc.open("/dev/dri/card0", O_RDWR);
    host.removeDevice("/dev/dri/card0");
    expect(errno(() => proc.open("/dev/dri/card0", O_RDWR))).toBe("ENOENT");
    // A file opened before the removal keeps working.
    expect(proc.fstat(open).rdevMinor).toBe(0);
    new Vgem(host, { name: "vgem-a" }).probe();
    new Vgem(host, { name: "vgem-b" }).probe();
    expect(cards(k)).toEqual(["card0=226:0", "card1=226:1", "card2=226:2"]);
    expect(errno(() => host.removeDevice("/dev/dri/card9"))).toBe("ENOENT");
  });

  it("vgem's card is configurable from the plugin entry", () => {
    const k = createKernel({ ram: "64MiB", plugins: [{ plugin: Vgem, config: { card: 3 } }] });
    expect(cards(k)).toEqual(["card3=226:3"]);
  });

  it("a wanted card that is taken fails with ENOSPC; a wanted V4L2 number takes the next free one", () => {
    const k = createKernel({ ram: "64MiB", plugins: [Vgem] });
    const host = createDeviceHost(k);
    expect(errno(() => new Vgem(host, { name: "v2", card: 0 }).probe())).toBe("ENOSPC");
    new Camera(host, { name: "cam-a", video: 1 }).probe();
    new Camera(host, { name: "cam-b", video: 1 }).probe();
    new Camera(host, { name: "cam-c" }).probe();
    expect(
      k
        .spawn({ name: "ls" })
        .readdir("/dev")
        .filter((n) => n.startsWith("video"))
        .sort(),
    ).toEqual(["video0", "video1", "video2"]);
  });
});
