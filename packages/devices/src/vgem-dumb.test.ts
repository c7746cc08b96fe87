// vgem's dumb buffers: CREATE_DUMB pitch/size and errors, MAP_DUMB + mmap, PRIME export, lifetime.

import { createKernel, Device, DMA_BIDIRECTIONAL, type Kernel, type Process } from "@dmabuf/core";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_RW,
  DRM_CLOEXEC,
  DRM_IOCTL_GEM_CLOSE,
  DRM_IOCTL_MODE_CREATE_DUMB,
  DRM_IOCTL_MODE_DESTROY_DUMB,
  DRM_IOCTL_MODE_MAP_DUMB,
  DRM_IOCTL_PRIME_FD_TO_HANDLE,
  DRM_IOCTL_PRIME_HANDLE_TO_FD,
  DRM_RDWR,
  encodeDmaBufSync,
  MAP_PRIVATE,
  MAP_SHARED,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { installCacheModel } from "./cache-model.js";
import { Vgem } from "./vgem.js";

function errno(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

function boot(): { kernel: Kernel; proc: Process; card: number } {
  const kernel = createKernel({ ram: "64MiB", plugins: [Vgem] });
  const proc = kernel.spawn({ name: "app" });
  return { kernel, proc, card: proc.open("/dev/dri/card0", O_RDWR) };
}

function createDumb(proc: Process, card: number, width: number, height: number, bpp: number) {
  const a = new Uint8Array(32);
  const v = new DataView(a.buffer);
  v.setUint32(0, height, true);
  v.setUint32(4, width, true);
  v.setUint32(8, bpp, true);
  v.setUint32(16, 77, true); // handle, pitch and size given in are ignored
  v.setUint32(20, 1, true);
  v.setBigUint64(24, 1n, true);
  proc.ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, a);
  return {
    handle: v.getUint32(16, true),
    pitch: v.getUint32(20, true),
    size: v.getBigUint64(24, true),
  };
}

function mapDumb(proc: Process, card: number, handle: number): number {
  const a = new Uint8Array(16);
  const v = new DataView(a.buffer);
  v.setUint32(0, handle, true);
  proc.ioctl(card, DRM_IOCTL_MODE_MAP_DUMB, a);
  return Number(v.getBigUint64(8, true));
}

function u32(n: number): Uint8Array {
  const a = new Uint8Array(8);
  new DataView(a.buffer).setUint32(0, n, true);
  return a;
}

function handleToFd(proc: Process, card: number, handle: number, flags: number): number {
  const a = new Uint8Array(12);
  const v = new DataView(a.buffer);
  v.setUint32(0, handle, true);
  v.setUint32(4, flags, true);
  proc.ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, a);
  return v.getInt32(8, true);
}

function fdToHandle(proc: Process, card: number, fd: number): number {
  const a = new Uint8Array(12);
  const v = new DataView(a.buffer);
  v.setInt32(8, fd, true);
  proc.ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, a);
  return v.getUint32(0, true);
}

describe("vgem DRM_IOCTL_MODE_CREATE_DUMB", () => {
  it("0xC02064B2 reports pitch ⌈width×bpp/8⌉ and the page-aligned size; handles from 1", () => {
    const { proc, card } = boot();
    expect(DRM_IOCTL_MODE_CREATE_DUMB).toBe(0xc02064b2);
    expect(createDumb(proc, card, 640, 480, 32)).toEqual({
      handle: 1,
      pitch: 2560,
      size: 1228800n,
    });
    // 12 bpp: pitch is ⌈3×12/8⌉ = 5, not ⌈12/8⌉×3 = 6; one page.
    expect(createDumb(proc, card, 3, 1, 12)).toEqual({ handle: 2, pitch: 5, size: 4096n });
    expect(createDumb(proc, card, 1, 1, 1)).toEqual({ handle: 3, pitch: 1, size: 4096n });
  });

  it("fails with EINVAL for a zero width, height or bpp and for 32-bit overflows", () => {
    const { kernel, proc, card } = boot();
    const before = kernel.snapshot();
    const bad: [number, number, number][] = [
      [0, 480, 32],
      [640, 0, 32],
      [640, 480, 0],
      [1, 1, 0xfffffff8], // bpp > U32_MAX - 8
      [0x40000000, 1, 32], // cpp × width overflows
      [0x10000, 0x10000, 8], // stride × height overflows
      [0xfffff001, 1, 8], // the page-aligned size wraps to 0
    ];
    for (const [w, h, bpp] of bad)
      expect(errno(() => createDumb(proc, card, w, h, bpp))).toBe("EINVAL");
    expect(kernel.snapshot()).toEqual(before);
  });

  it("allocates no page until the buffer is mapped, and frees them with the last reference", () => {
    const { kernel, proc, card } = boot();
    const before = kernel.snapshot();
    const { handle, size } = createDumb(proc, card, 64, 64, 32); // 16 KiB, 4 pages
    expect(kernel.snapshot().freePages).toBe(before.freePages);
    expect(kernel.snapshot().pools).toEqual({ "vgem/gem-objects": 1 });
    const m = proc.mmap(
      card,
      Number(size),
      PROT_READ | PROT_WRITE,
      MAP_SHARED,
      mapDumb(proc, card, handle),
    );
    expect(kernel.snapshot().freePages).toBe(before.freePages - 4);
    m.write(4 * 64 * 10 + 8, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    expect([...m.read(4 * 64 * 10 + 8, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    proc.ioctl(card, DRM_IOCTL_GEM_CLOSE, u32(handle));
    // The mapping still holds the object and its pages.
    expect(kernel.snapshot().pools).toEqual({ "vgem/gem-objects": 1 });
    expect([...m.read(4 * 64 * 10 + 8, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    proc.munmap(m);
    expect(kernel.snapshot()).toEqual(before);
  });
});

describe("vgem DRM_IOCTL_MODE_MAP_DUMB and mmap of the node", () => {
  it("gives fake offsets from 4 GiB, one range per object, stable on repeat", () => {
    const { proc, card } = boot();
    expect(DRM_IOCTL_MODE_MAP_DUMB).toBe(0xc01064b3);
    const a = createDumb(proc, card, 64, 64, 32);
    const b = createDumb(proc, card, 16, 16, 8);
    expect(mapDumb(proc, card, a.handle)).toBe(0x1_0000_0000);
    expect(mapDumb(proc, card, b.handle)).toBe(0x1_0000_0000 + 16384);
    expect(mapDumb(proc, card, a.handle)).toBe(0x1_0000_0000);
    expect(errno(() => mapDumb(proc, card, 9))).toBe("ENOENT");
  });

  it("refuses an unknown offset, a mapping longer than the object, a private mapping, and a file without a handle", () => {
    const { kernel, proc, card } = boot();
    const { handle } = createDumb(proc, card, 64, 64, 32);
    const off = mapDumb(proc, card, handle);
    const rw = PROT_READ | PROT_WRITE;
    expect(errno(() => proc.mmap(card, 4096, rw, MAP_SHARED, off + 4096))).toBe("EINVAL");
    expect(errno(() => proc.mmap(card, 5 * 4096, rw, MAP_SHARED, off))).toBe("EINVAL");
    expect(errno(() => proc.mmap(card, 4096, rw, MAP_PRIVATE, off))).toBe("EINVAL");
    const other = kernel.spawn({ name: "other" });
    const card2 = other.open("/dev/dri/card0", O_RDWR);
    expect(errno(() => other.mmap(card2, 4096, rw, MAP_SHARED, off))).toBe("EACCES");
    // A shorter mapping from the object's offset is fine.
    expect(proc.mmap(card, 4096, rw, MAP_SHARED, off).length).toBe(4096);
  });

  it("DESTROY_DUMB drops the handle; a freed handle number is reused (lowest free)", () => {
    const { proc, card } = boot();
    createDumb(proc, card, 8, 8, 32);
    const two = createDumb(proc, card, 8, 8, 32).handle;
    createDumb(proc, card, 8, 8, 32);
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, two, true);
    expect(proc.ioctl(card, DRM_IOCTL_MODE_DESTROY_DUMB, d)).toBe(0);
    expect(errno(() => proc.ioctl(card, DRM_IOCTL_MODE_DESTROY_DUMB, d))).toBe("EINVAL");
    expect(createDumb(proc, card, 8, 8, 32).handle).toBe(2);
  });
});

describe("vgem as the exporter of its dumb buffers", () => {
  it("PRIME_HANDLE_TO_FD exports a dma-buf over the same pages; it outlives the handle", () => {
    const { kernel, proc, card } = boot();
    const before = kernel.snapshot();
    const { handle, size } = createDumb(proc, card, 32, 32, 32);
    const m = proc.mmap(
      card,
      Number(size),
      PROT_READ | PROT_WRITE,
      MAP_SHARED,
      mapDumb(proc, card, handle),
    );
    m.fill(0x5a);
    const fd = handleToFd(proc, card, handle, DRM_RDWR | DRM_CLOEXEC);
    expect(proc.isCloexec(fd)).toBe(true);
    // Exporting again gives the same dma-buf; importing it back gives the same handle.
    const fd2 = handleToFd(proc, card, handle, 0);
    expect(proc.fstat(fd2).ino).toBe(proc.fstat(fd).ino);
    expect(fdToHandle(proc, card, fd)).toBe(handle);
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toMatch(/exp_name:\tdrm\n/);
    const view = proc.mmap(fd, Number(size), PROT_READ | PROT_WRITE, MAP_SHARED);
    // No CPU-access hooks: SYNC succeeds and does nothing.
    expect(proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(DMA_BUF_SYNC_RW))).toBe(0);
    expect(view.read(100, 2)).toEqual(Uint8Array.of(0x5a, 0x5a));
    view.write(0, Uint8Array.of(1, 2, 3));
    expect([...m.read(0, 3)]).toEqual([1, 2, 3]);
    proc.munmap(m);
    proc.ioctl(card, DRM_IOCTL_GEM_CLOSE, u32(handle));
    expect(errno(() => handleToFd(proc, card, handle, 0))).toBe("ENOENT");
    expect([...view.read(0, 3)]).toEqual([1, 2, 3]);
    // Another open file importing it gets a handle to the same object, not an attachment.
    const card2 = proc.open("/dev/dri/card0", O_RDWR);
    const h2 = fdToHandle(proc, card2, fd);
    expect(kernel.snapshot().attachments).toBe(0);
    expect(mapDumb(proc, card2, h2)).toBe(0x1_0000_0000);
    proc.close(card2);
    proc.munmap(view);
    proc.close(fd);
    proc.close(fd2);
    expect(kernel.snapshot()).toEqual(before);
  });

  it("an export without DRM_RDWR is read-only; an importing device maps the pinned pages", () => {
    const { kernel, proc, card } = boot();
    const { handle, size } = createDumb(proc, card, 1024, 4, 32); // 16 KiB
    const fd = handleToFd(proc, card, handle, 0);
    expect(errno(() => proc.mmap(fd, Number(size), PROT_READ | PROT_WRITE, MAP_SHARED))).toBe(
      "EACCES",
    );
    const free = kernel.snapshot().freePages;
    const buf = kernel.dmaBuf.get(proc, fd);
    const imported = kernel.plugin(Vgem).import(buf, 0);
    kernel.dmaBuf.put(buf);
    // Attach pinned (allocated) the four pages; the device's table covers 16 KiB.
    expect(kernel.snapshot().freePages).toBe(free - 4);
    expect(imported.sgt.totalLength()).toBe(16384);
    imported.release();
    proc.ioctl(card, DRM_IOCTL_GEM_CLOSE, u32(handle));
    proc.close(fd);
    expect(kernel.snapshot().pools).toEqual({ "vgem/gem-objects": 0 });
  });

  it("vmap holds the pages and reads what the CPU wrote", () => {
    const { kernel, proc, card } = boot();
    const { handle, size } = createDumb(proc, card, 16, 16, 32);
    const m = proc.mmap(
      card,
      Number(size),
      PROT_READ | PROT_WRITE,
      MAP_SHARED,
      mapDumb(proc, card, handle),
    );
    m.write(8, Uint8Array.of(9, 8, 7));
    const fd = handleToFd(proc, card, handle, DRM_RDWR);
    const buf = kernel.dmaBuf.get(proc, fd);
    const map = kernel.dmaBuf.vmap(buf);
    expect([...map.read(8, 3)]).toEqual([9, 8, 7]);
    kernel.dmaBuf.vunmap(buf, map);
    kernel.dmaBuf.put(buf);
  });

  it("maps write-combined, as vgem sets map_wc: under a cache model no line is allocated", () => {
    const { kernel, proc, card } = boot();
    const cache = installCacheModel(kernel);
    const { handle, size } = createDumb(proc, card, 16, 16, 32);
    const m = proc.mmap(
      card,
      Number(size),
      PROT_READ | PROT_WRITE,
      MAP_SHARED,
      mapDumb(proc, card, handle),
    );
    expect(m.vma.caching).toBe("write-combine");
    m.write(8, Uint8Array.of(9, 8, 7));
    const fd = handleToFd(proc, card, handle, DRM_RDWR);
    const view = proc.mmap(fd, Number(size), PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(view.vma.caching).toBe("write-combine");
    const buf = kernel.dmaBuf.get(proc, fd);
    const map = kernel.dmaBuf.vmap(buf);
    expect(map.caching).toBe("write-combine");
    expect([...map.read(8, 3)]).toEqual([9, 8, 7]);
    expect([...view.read(8, 3)]).toEqual([9, 8, 7]);
    expect([cache.cachedLines, cache.stats.lineFills, cache.stats.uncachedAccesses]).toEqual([
      0, 0, 3,
    ]);
    kernel.dmaBuf.vunmap(buf, map);
    kernel.dmaBuf.put(buf);
  });

  it("PRIME maps for a device without CPU cache maintenance, as drm_gem_map_dma_buf does", () => {
    // Linux maps and unmaps a GEM export with DMA_ATTR_SKIP_CPU_SYNC: the exporter's pages
    // are mapped write-combined, and an importer syncs through the dma-buf SYNC ioctl.
    const { kernel, proc, card } = boot();
    const { handle } = createDumb(proc, card, 16, 16, 32);
    const buf = kernel.dmaBuf.get(proc, handleToFd(proc, card, handle, DRM_RDWR));
    const calls: string[] = [];
    kernel.dma.hooks = {
      syncForCpu: (d, p, l) => calls.push(`cpu ${d.name} ${p}+${l}`),
      syncForDevice: (d, p, l) => calls.push(`device ${d.name} ${p}+${l}`),
    };
    const dev = new Device({ name: "nc", coherent: false });
    const att = kernel.dmaBuf.attach(buf, dev);
    const sgt = kernel.dmaBuf.mapAttachment(att, DMA_BIDIRECTIONAL);
    expect(sgt.nents).toBeGreaterThan(0);
    expect(kernel.dma.liveMappings(dev)).toBe(1);
    kernel.dmaBuf.unmapAttachment(att, sgt, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.detach(buf, att);
    expect(calls).toEqual([]);
    expect(kernel.dma.liveMappings(dev)).toBe(0);
    kernel.dmaBuf.put(buf);
  });
});
