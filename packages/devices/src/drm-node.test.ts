// /dev/dri/card0 of vgem through ioctl(): version in both ABIs, PRIME import/export, GEM close.

import { allocFromHeap, createKernel } from "@dmabuf/core";
import {
  DRM_IOCTL_GEM_CLOSE,
  DRM_IOCTL_PRIME_FD_TO_HANDLE,
  DRM_IOCTL_PRIME_HANDLE_TO_FD,
  DRM_IOCTL_VERSION,
  DRM_IOCTL_VERSION32,
  O_CLOEXEC,
  O_RDWR,
} from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { Vgem } from "./vgem.js";

function boot() {
  const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap, Vgem] });
  const proc = kernel.spawn({ name: "app" });
  const buf = allocFromHeap(proc, "system", 8192, { fdFlags: O_RDWR | O_CLOEXEC });
  const card = proc.open("/dev/dri/card0", O_RDWR);
  return { kernel, proc, buf, card };
}

function errno(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

function prime(handle: number, flags: number, fd: number): Uint8Array {
  const a = new Uint8Array(12);
  const v = new DataView(a.buffer);
  v.setUint32(0, handle, true);
  v.setUint32(4, flags, true);
  v.setInt32(8, fd, true);
  return a;
}

describe("vgem's DRM node", () => {
  it("is /dev/dri/card0, char 226:0, mode 0660 group video", () => {
    const { proc, card } = boot();
    const st = proc.fstat(card);
    expect([st.mode, st.gid, st.rdevMajor, st.rdevMinor]).toEqual([0o20660, 44, 226, 0]);
  });

  it("DRM_IOCTL_VERSION answers in the LP64 layout (0xC0406400)", () => {
    const { proc, card } = boot();
    expect(DRM_IOCTL_VERSION).toBe(0xc0406400);
    const a = new Uint8Array(64 + 40);
    const v = new DataView(a.buffer);
    v.setBigUint64(16, 4n, true); // name_len: room for 4 bytes at offset 64
    v.setBigUint64(24, 64n, true);
    v.setBigUint64(32, 0n, true); // date: no room
    v.setBigUint64(48, 3n, true); // desc: room for 3 bytes at offset 80
    v.setBigUint64(56, 80n, true);
    expect(proc.ioctl(card, DRM_IOCTL_VERSION, a)).toBe(0);
    expect([v.getInt32(0, true), v.getInt32(4, true), v.getInt32(8, true)]).toEqual([1, 0, 0]);
    expect(new TextDecoder().decode(a.subarray(64, 68))).toBe("vgem");
    expect(v.getBigUint64(16, true)).toBe(4n);
    expect(v.getBigUint64(32, true)).toBe(8n); // "20120112"
    expect(v.getBigUint64(48, true)).toBe(20n); // "Virtual GEM provider"
    expect(new TextDecoder().decode(a.subarray(80, 84))).toBe("Vir\0");
  });

  it("DRM_IOCTL_VERSION answers in the ILP32 layout a 32-bit process uses (0xC0246400)", () => {
    const { proc, card } = boot();
    expect(DRM_IOCTL_VERSION32).toBe(0xc0246400);
    const a = new Uint8Array(36 + 8);
    const v = new DataView(a.buffer);
    v.setUint32(12, 8, true); // name_len: 8 bytes of room at 36
    v.setUint32(16, 36, true);
    expect(proc.ioctl(card, DRM_IOCTL_VERSION32, a)).toBe(0);
    expect(v.getUint32(12, true)).toBe(4);
    expect(new TextDecoder().decode(a.subarray(36, 40))).toBe("vgem");
    expect(v.getUint32(20, true)).toBe(8);
    expect(v.getUint32(28, true)).toBe(20);
  });

  it("PRIME import: one handle per buffer and open file; export gives a new fd; GEM_CLOSE", () => {
    const { kernel, proc, buf, card } = boot();
    const vgem = kernel.plugin(Vgem);
    const a = prime(0, 0, buf);
    expect(proc.ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, a)).toBe(0);
    const h = new DataView(a.buffer).getUint32(0, true);
    expect(h).toBe(1);
    const again = prime(0, 0, proc.dup(buf));
    proc.ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, again);
    expect(new DataView(again.buffer).getUint32(0, true)).toBe(h);
    expect(vgem.imports().length).toBe(1);

    const out = prime(h, O_CLOEXEC, -1);
    expect(proc.ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, out)).toBe(0);
    const fd = new DataView(out.buffer).getInt32(8, true);
    expect(kernel.dmaBuf.fromFile(proc.fileOf(fd))).toBe(kernel.dmaBuf.fromFile(proc.fileOf(buf)));
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, prime(h, 0x1, -1)))).toBe(
      "EINVAL",
    );
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, prime(7, 0, -1)))).toBe(
      "ENOENT",
    );

    const close = new Uint8Array(8);
    new DataView(close.buffer).setUint32(0, h, true);
    expect(proc.ioctl(card, DRM_IOCTL_GEM_CLOSE, close)).toBe(0);
    expect(vgem.imports()).toEqual([]);
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_GEM_CLOSE, close))).toBe("EINVAL");
  });

  it("handles belong to the open file: another open gets its own, close drops them", () => {
    const { kernel, proc, buf, card } = boot();
    const vgem = kernel.plugin(Vgem);
    const card2 = proc.open("/dev/dri/card0", O_RDWR);
    proc.ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, prime(0, 0, buf));
    proc.ioctl(card2, DRM_IOCTL_PRIME_FD_TO_HANDLE, prime(0, 0, buf));
    expect(vgem.imports().length).toBe(2);
    proc.close(card2);
    expect(vgem.imports().length).toBe(1);
    proc.close(card);
    expect(vgem.imports()).toEqual([]);
    expect(kernel.dma.liveMappings()).toBe(0);
  });

  it("a request it does not serve is EINVAL; a bad fd to import is EBADF", () => {
    const { proc, card } = boot();
    expect(errno(() => proc.ioctl(card, 0xc01064ab, new Uint8Array(16)))).toBe("EINVAL");
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, prime(0, 0, 99)))).toBe(
      "EBADF",
    );
  });
});
