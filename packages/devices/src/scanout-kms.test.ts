// The scanout's DRM node: framebuffer from a PRIME handle, SETCRTC, page flip and its event.

import { allocFromHeap, createKernel } from "@dmabuf/core";
import {
  DRM_FORMAT_XRGB8888,
  DRM_IOCTL_MODE_ADDFB2,
  DRM_IOCTL_MODE_GETRESOURCES,
  DRM_IOCTL_MODE_PAGE_FLIP,
  DRM_IOCTL_MODE_RMFB,
  DRM_IOCTL_MODE_SETCRTC,
  DRM_IOCTL_PRIME_FD_TO_HANDLE,
  DRM_MODE_PAGE_FLIP_EVENT,
  MAP_SHARED,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  POLLIN,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { describe, expect, it } from "vitest";
import { Scanout } from "./scanout.js";
import { SCANOUT_CONNECTOR_ID, SCANOUT_CRTC_ID, SCANOUT_ENCODER_ID } from "./scanout-kms.js";
import { Vgem } from "./vgem.js";

const W = 16;
const H = 8;

function boot() {
  const kernel = createKernel({
    ram: "64MiB",
    cma: { size: "16MiB" },
    plugins: [CmaHeap, { plugin: Scanout, config: { coherent: true } }, Vgem],
  });
  const proc = kernel.spawn({ name: "compositor" });
  const buf = allocFromHeap(proc, "default_cma_region", 4096, { fdFlags: O_RDWR | O_CLOEXEC });
  const card = proc.open("/dev/dri/card0", O_RDWR);
  const p = new Uint8Array(12);
  new DataView(p.buffer).setInt32(8, buf, true);
  proc.ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, p);
  const handle = new DataView(p.buffer).getUint32(0, true);
  return { kernel, proc, buf, card, handle, scanout: kernel.plugin(Scanout) };
}

function errno(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

function addfb2(handle: number, format = DRM_FORMAT_XRGB8888, pitch = W * 4): Uint8Array {
  const a = new Uint8Array(104);
  const v = new DataView(a.buffer);
  v.setUint32(4, W, true);
  v.setUint32(8, H, true);
  v.setUint32(12, format, true);
  v.setUint32(20, handle, true);
  v.setUint32(36, pitch, true);
  return a;
}

/** A drm_mode_crtc with its connector ids behind it (set_connectors_ptr = 104). */
function setcrtc(
  fb: number,
  modeValid = 1,
  connectors: readonly number[] = [SCANOUT_CONNECTOR_ID],
  crtc = SCANOUT_CRTC_ID,
): Uint8Array {
  const a = new Uint8Array(104 + 4 * connectors.length);
  const v = new DataView(a.buffer);
  v.setBigUint64(0, 104n, true);
  v.setUint32(8, connectors.length, true);
  v.setUint32(12, crtc, true);
  v.setUint32(16, fb, true);
  v.setUint32(32, modeValid, true);
  connectors.forEach((id, i) => {
    v.setUint32(104 + 4 * i, id, true);
  });
  return a;
}

function flip(fb: number, flags: number, userData: bigint): Uint8Array {
  const a = new Uint8Array(24);
  const v = new DataView(a.buffer);
  v.setUint32(0, SCANOUT_CRTC_ID, true);
  v.setUint32(4, fb, true);
  v.setUint32(8, flags, true);
  v.setBigUint64(16, userData, true);
  return a;
}

describe("the scanout's DRM node", () => {
  it("is card0 when probed first (vgem gets card1)", () => {
    const { proc } = boot();
    const v = proc.open("/dev/dri/card1", O_RDWR);
    expect(proc.fstat(v).rdevMinor).toBe(1);
  });

  it("ADDFB2 + SETCRTC shows the buffer: the scanout has read it when SETCRTC returns", () => {
    const { proc, buf, card, handle, scanout } = boot();
    const m = proc.mmap(buf, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.write(0, new Uint8Array(4096).fill(0x5a));
    const a = addfb2(handle);
    expect(proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, a)).toBe(0);
    const fb = new DataView(a.buffer).getUint32(0, true);
    expect(fb).toBeGreaterThan(0);
    expect(proc.ioctl(card, DRM_IOCTL_MODE_SETCRTC, setcrtc(fb))).toBe(0);
    expect(scanout.framesShown).toBe(1);
    expect(scanout.lastFrame?.every((b) => b === 0x5a)).toBe(true);
  });

  it("PAGE_FLIP with EVENT: EBUSY while pending, then a FLIP_COMPLETE record to read", () => {
    const { kernel, proc, card, handle, scanout } = boot();
    const a = addfb2(handle);
    proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, a);
    const fb = new DataView(a.buffer).getUint32(0, true);
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_PAGE_FLIP, flip(fb, 0, 0n)))).toBe("EBUSY");
    proc.ioctl(card, DRM_IOCTL_MODE_SETCRTC, setcrtc(fb));
    expect(
      proc.ioctl(card, DRM_IOCTL_MODE_PAGE_FLIP, flip(fb, DRM_MODE_PAGE_FLIP_EVENT, 0x1234n)),
    ).toBe(0);
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_PAGE_FLIP, flip(fb, 0, 0n)))).toBe("EBUSY");
    const fds = [{ fd: card, events: POLLIN }];
    expect(proc.poll(fds, 0)).toBe(0);
    const other = proc.open("/dev/dri/card0", O_RDWR | O_NONBLOCK);
    expect(errno(() => proc.read(other, 64))).toBe("EAGAIN"); // events go to the flipping file
    expect(proc.read(card, 16).length).toBe(0); // the event does not fit: drm_read returns 0
    const ev = proc.read(card, 64);
    expect(ev.length).toBe(32);
    const v = new DataView(ev.buffer, ev.byteOffset);
    expect([v.getUint32(0, true), v.getUint32(4, true)]).toEqual([2, 32]);
    expect(v.getBigUint64(8, true)).toBe(0x1234n);
    expect([v.getUint32(24, true), v.getUint32(28, true)]).toEqual([2, SCANOUT_CRTC_ID]);
    const ns = kernel.clock.now;
    expect(v.getUint32(16, true) * 1e9 + v.getUint32(20, true) * 1e3).toBeLessThanOrEqual(ns);
    expect(scanout.framesShown).toBe(2);
    expect(proc.ioctl(card, DRM_IOCTL_MODE_PAGE_FLIP, flip(fb, 0, 0n))).toBe(0);
  });

  it("refuses what Linux refuses", () => {
    const { proc, card, handle } = boot();
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, addfb2(handle, 0x3231564e)))).toBe(
      "EINVAL",
    );
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, addfb2(handle, undefined, 8)))).toBe(
      "EINVAL",
    );
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, addfb2(99)))).toBe("ENOENT");
    const a = addfb2(handle);
    proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, a);
    const fb = new DataView(a.buffer).getUint32(0, true);
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_SETCRTC, setcrtc(fb, 1, [])))).toBe(
      "EINVAL",
    );
    expect(
      errno(() => proc.ioctl(card, DRM_IOCTL_MODE_SETCRTC, setcrtc(fb, 1, undefined, 7))),
    ).toBe("ENOENT");
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_SETCRTC, setcrtc(fb + 1)))).toBe("ENOENT");
    const rm = new Uint8Array(4);
    new DataView(rm.buffer).setUint32(0, fb, true);
    expect(proc.ioctl(card, DRM_IOCTL_MODE_RMFB, rm)).toBe(0);
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_RMFB, rm))).toBe("ENOENT");
  });

  it("SETCRTC checks its connector array and coordinates as drm_mode_setcrtc does", () => {
    const { proc, card, handle } = boot();
    const a = addfb2(handle);
    proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, a);
    const fb = new DataView(a.buffer).getUint32(0, true);
    const call = (arg: Uint8Array) => errno(() => proc.ioctl(card, DRM_IOCTL_MODE_SETCRTC, arg));
    expect(call(setcrtc(fb, 1, [5]))).toBe("ENOENT");
    expect(call(setcrtc(fb, 1, [SCANOUT_CONNECTOR_ID, SCANOUT_CONNECTOR_ID]))).toBe("EINVAL");
    expect(call(setcrtc(fb, 0, [SCANOUT_CONNECTOR_ID]))).toBe("EINVAL");
    expect(call(setcrtc(0xffffffff))).toBe("EINVAL"); // fb -1 with nothing shown yet
    const far = setcrtc(fb);
    new DataView(far.buffer).setUint32(20, 0x10000, true);
    expect(call(far)).toBe("ERANGE");
    const lost = setcrtc(fb);
    new DataView(lost.buffer).setBigUint64(0, 4096n, true);
    expect(call(lost)).toBe("EFAULT");
    expect(call(setcrtc(fb))).toBeNull();
    expect(call(setcrtc(0xffffffff))).toBeNull(); // fb -1: the one shown
    expect(call(setcrtc(0, 0, []))).toBeNull(); // off
  });

  it("GETRESOURCES lists the file's framebuffers (newest first), the CRTC, encoder and connector", () => {
    const { proc, card, handle } = boot();
    const fbs = [0, 1].map(() => {
      const a = addfb2(handle);
      proc.ioctl(card, DRM_IOCTL_MODE_ADDFB2, a);
      return new DataView(a.buffer).getUint32(0, true);
    });
    expect(DRM_IOCTL_MODE_GETRESOURCES).toBe(0xc04064a0);
    // First call: counts only (no room), as libdrm's drmModeGetResources starts.
    const probe = new Uint8Array(64);
    proc.ioctl(card, DRM_IOCTL_MODE_GETRESOURCES, probe);
    const pv = new DataView(probe.buffer);
    expect([32, 36, 40, 44, 48, 52, 56, 60].map((o) => pv.getUint32(o, true))).toEqual([
      2, 1, 1, 1, 1, 8192, 1, 8192,
    ]);
    // Second call with room for every id, the arrays behind the struct.
    const a = new Uint8Array(64 + 5 * 4);
    const v = new DataView(a.buffer);
    // fb, crtc, connector, encoder arrays behind the struct, with room for 2, 1, 1, 1 ids
    [64, 72, 76, 80].forEach((ptr, i) => {
      v.setBigUint64(8 * i, BigInt(ptr), true);
    });
    [2, 1, 1, 1].forEach((n, i) => {
      v.setUint32(32 + 4 * i, n, true);
    });
    proc.ioctl(card, DRM_IOCTL_MODE_GETRESOURCES, a);
    expect([64, 68, 72, 76, 80].map((o) => v.getUint32(o, true))).toEqual([
      fbs[1],
      fbs[0],
      SCANOUT_CRTC_ID,
      SCANOUT_CONNECTOR_ID,
      SCANOUT_ENCODER_ID,
    ]);
    // Another open file has no framebuffers.
    const other = proc.open("/dev/dri/card0", O_RDWR);
    const b = new Uint8Array(64);
    proc.ioctl(other, DRM_IOCTL_MODE_GETRESOURCES, b);
    expect(new DataView(b.buffer).getUint32(32, true)).toBe(0);
  });
});
