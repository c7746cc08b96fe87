// Tests of the system heap's dma-buf ops: attach/map, CPU access, mmap, vmap and release.

import {
  createKernel,
  Device,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaBuf,
  type DmaSyncHooks,
  errnoOf,
  type Kernel,
} from "@dmabuf/core";
import {
  MAP_PRIVATE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { describe, expect, it, vi } from "vitest";
import { SystemHeap, type SystemHeapBuffer } from "./index.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;

/** Whether every byte is `value` (compared natively, not byte by byte in JavaScript). */
function allBytes(bytes: Uint8Array, value: number): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.equals(Buffer.alloc(bytes.length, value));
}

/** A real kernel with the system heap registered, and a way to allocate from it. */
function boot() {
  const kernel = createKernel({ ram: "64MiB", plugins: [SystemHeap] });
  const handle = kernel.heaps.find("system");
  if (!handle) throw new Error("the system heap was not registered");
  const plugin = kernel.plugin(SystemHeap);
  const alloc = (len: number, fdFlags = O_RDWR): DmaBuf<SystemHeapBuffer> =>
    plugin.allocate(handle, len, fdFlags, 0n);
  return { kernel, alloc };
}

/** Every page frame of a buffer, in buffer order. */
function pagesOf(buf: DmaBuf<SystemHeapBuffer>): number[] {
  const out: number[] = [];
  const { chunkPfns, chunkOrders } = buf.priv;
  for (let i = 0; i < chunkPfns.length; i++) {
    for (let j = 0; j < 2 ** (chunkOrders[i] as number); j++)
      out.push((chunkPfns[i] as number) + j);
  }
  return out;
}

/** Installs a DMA sync hook that records every range synced. */
function recordSyncs(kernel: Kernel): string[] {
  const log: string[] = [];
  const hooks: DmaSyncHooks = {
    syncForCpu: (dev, phys, len, dir) => log.push(`cpu ${dev.name} ${phys} ${len} ${dir}`),
    syncForDevice: (dev, phys, len, dir) => log.push(`dev ${dev.name} ${phys} ${len} ${dir}`),
  };
  kernel.dma.hooks = hooks;
  return log;
}

describe("attach, map, unmap, detach", () => {
  it("maps a private copy of the table per attachment, with bus = physical addresses", () => {
    const { kernel, alloc } = boot();
    const buf = alloc(2 * MiB + 64 * KiB + PAGE);
    const base = kernel.snapshot();
    const dev0 = new Device({ name: "dev0" });
    const dev1 = new Device({ name: "dev1" });
    const a0 = kernel.dmaBuf.attach(buf, dev0);
    const a1 = kernel.dmaBuf.attach(buf, dev1);

    const t0 = kernel.dmaBuf.mapAttachment(a0, DMA_BIDIRECTIONAL);
    const t1 = kernel.dmaBuf.mapAttachment(a1, DMA_TO_DEVICE);
    expect(t0).not.toBe(buf.priv.table);
    expect(t1).not.toBe(buf.priv.table);
    expect(t0).not.toBe(t1);
    for (const t of [t0, t1]) {
      expect(t.nents).toBe(4);
      for (let i = 0; i < t.nents; i++) {
        expect(t.dmaAddress[i]).toBe((buf.priv.chunkPfns[i] as number) * PAGE);
        expect(t.dmaLength[i]).toBe(buf.priv.table.length[i]);
      }
    }
    expect(buf.priv.table.nents).toBe(0);

    // Repeated maps of one attachment hand out that attachment's table again.
    expect(kernel.dmaBuf.mapAttachment(a0, DMA_FROM_DEVICE)).toBe(t0);
    expect(kernel.snapshot().deviceMappings).toBe(3);

    kernel.dmaBuf.unmapAttachment(a0, t0, DMA_FROM_DEVICE);
    kernel.dmaBuf.unmapAttachment(a0, t0, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.unmapAttachment(a1, t1, DMA_TO_DEVICE);
    expect(t0.nents).toBe(0);
    kernel.dmaBuf.detach(buf, a0);
    kernel.dmaBuf.detach(buf, a1);
    expect(a0.priv).toBeUndefined();
    expect(kernel.snapshot()).toEqual(base);
  });

  it("propagates EIO when a chunk lies above the device's dma mask, leaving state intact", () => {
    const { kernel, alloc } = boot();
    const buf = alloc(2 * MiB);
    // The second 1 MiB chunk starts at 1 MiB, above this device's reach.
    expect(buf.priv.chunkPfns[1]).toBe(256);
    const dev = new Device({ name: "dev0", dmaMask: MiB - 1, coherent: false });
    const a = kernel.dmaBuf.attach(buf, dev);
    const before = kernel.snapshot();
    expect(errnoOf(() => kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL))).toBe("EIO");
    expect(kernel.snapshot()).toEqual(before);
    // The failed attachment is not mapped: CPU access syncs nothing for it.
    const syncs = recordSyncs(kernel);
    kernel.dmaBuf.beginCpuAccess(buf, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.endCpuAccess(buf, DMA_BIDIRECTIONAL);
    expect(syncs).toEqual([]);
    kernel.dmaBuf.detach(buf, a);
  });
});

describe("CPU access", () => {
  it("syncs the table of every mapped attachment, and only those", () => {
    const { kernel, alloc } = boot();
    const buf = alloc(MiB + PAGE);
    const mappedDev = new Device({ name: "mapped", coherent: false });
    const idleDev = new Device({ name: "idle", coherent: false });
    const a = kernel.dmaBuf.attach(buf, mappedDev);
    kernel.dmaBuf.attach(buf, idleDev);
    const t = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    const syncs = recordSyncs(kernel);
    const c0 = (buf.priv.chunkPfns[0] as number) * PAGE;
    const c1 = (buf.priv.chunkPfns[1] as number) * PAGE;

    kernel.dmaBuf.beginCpuAccess(buf, DMA_FROM_DEVICE);
    expect(syncs.splice(0)).toEqual([
      `cpu mapped ${c0} ${MiB} ${DMA_FROM_DEVICE}`,
      `cpu mapped ${c1} ${PAGE} ${DMA_FROM_DEVICE}`,
    ]);
    kernel.dmaBuf.endCpuAccess(buf, DMA_TO_DEVICE);
    expect(syncs.splice(0)).toEqual([
      `dev mapped ${c0} ${MiB} ${DMA_TO_DEVICE}`,
      `dev mapped ${c1} ${PAGE} ${DMA_TO_DEVICE}`,
    ]);

    kernel.dmaBuf.unmapAttachment(a, t, DMA_BIDIRECTIONAL);
    syncs.length = 0;
    kernel.dmaBuf.beginCpuAccess(buf, DMA_FROM_DEVICE);
    kernel.dmaBuf.endCpuAccess(buf, DMA_TO_DEVICE);
    expect(syncs).toEqual([]);
  });
});

describe("mmap", () => {
  it("maps the whole buffer shared: reads zero, writes land in the buffer's pages", () => {
    const { kernel, alloc } = boot();
    const proc = kernel.spawn();
    const buf = alloc(2 * MiB + 64 * KiB + PAGE);
    const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
    const m = proc.mmap(fd, buf.size, RW, MAP_SHARED);
    expect(Array.from(m.vma.pfns)).toEqual(pagesOf(buf));
    expect(allBytes(m.read(), 0)).toBe(true);

    // Across the boundary of the first and second 1 MiB chunks.
    m.write(MiB - 2, new Uint8Array([1, 2, 3, 4]));
    const c0 = buf.priv.chunkPfns[0] as number;
    const c1 = buf.priv.chunkPfns[1] as number;
    expect(kernel.memory.read(c0 * PAGE + MiB - 2, 2)).toEqual(new Uint8Array([1, 2]));
    expect(kernel.memory.read(c1 * PAGE, 2)).toEqual(new Uint8Array([3, 4]));
    // Into the last (4 KiB) chunk.
    m.fill(0x5a, buf.size - PAGE, PAGE);
    const last = buf.priv.chunkPfns[3] as number;
    expect(allBytes(kernel.memory.read(last * PAGE, PAGE), 0x5a)).toBe(true);
  });

  it("starts at the page the mapping's offset names, inside a chunk and across chunks", () => {
    const { kernel, alloc } = boot();
    const proc = kernel.spawn();
    const buf = alloc(2 * MiB + 64 * KiB + PAGE);
    const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
    const all = pagesOf(buf);
    const cases: [offset: number, length: number][] = [
      [PAGE, 2 * PAGE],
      [MiB - PAGE, 2 * PAGE],
      [2 * MiB, 64 * KiB],
      [2 * MiB + 60 * KiB, 2 * PAGE],
      [buf.size - PAGE, PAGE],
    ];
    for (const [offset, length] of cases) {
      const m = proc.mmap(fd, length, PROT_READ, MAP_SHARED, offset);
      expect(Array.from(m.vma.pfns), `offset ${offset}`).toEqual(
        all.slice(offset / PAGE, (offset + length) / PAGE),
      );
      proc.munmap(m);
    }
  });

  it.each([
    ["four 4 KiB chunks", 16 * KiB],
    ["one 64 KiB chunk (remapped page by page, as in 6.x)", 64 * KiB],
  ])("refuses a private mapping of more than one page of %s with EINVAL", (_, len) => {
    const { kernel, alloc } = boot();
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(alloc(len), proc, O_CLOEXEC);
    const before = kernel.snapshot();
    expect(errnoOf(() => proc.mmap(fd, len, RW, MAP_PRIVATE))).toBe("EINVAL");
    expect(errnoOf(() => proc.mmap(fd, len, PROT_READ, MAP_PRIVATE))).toBe("EINVAL");
    expect(errnoOf(() => proc.mmap(fd, 2 * PAGE, PROT_READ, MAP_PRIVATE, PAGE))).toBe("EINVAL");
    expect(kernel.snapshot()).toEqual(before);
  });

  it("allows a one-page private mapping, whose writes stay private", () => {
    const { kernel, alloc } = boot();
    const proc = kernel.spawn();
    const buf = alloc(4 * PAGE);
    const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
    const shared = proc.mmap(fd, 4 * PAGE, RW, MAP_SHARED);
    shared.fill(0x11, 2 * PAGE, PAGE);
    const priv = proc.mmap(fd, PAGE, RW, MAP_PRIVATE, 2 * PAGE);
    expect(priv.vma.pfns[0]).toBe(pagesOf(buf)[2]);
    expect(priv.read(0, 4)).toEqual(new Uint8Array([0x11, 0x11, 0x11, 0x11]));
    priv.fill(0xee);
    expect(priv.read(0, 2)).toEqual(new Uint8Array([0xee, 0xee]));
    expect(allBytes(shared.read(2 * PAGE, PAGE), 0x11)).toBe(true);
    const pfn = pagesOf(buf)[2] as number;
    expect(allBytes(kernel.memory.read(pfn * PAGE, PAGE), 0x11)).toBe(true);
  });

  it("allows a writable private page of a read-only buffer (as 6.1 does)", () => {
    const { kernel, alloc } = boot();
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(alloc(PAGE, O_RDONLY), proc, O_CLOEXEC);
    expect(errnoOf(() => proc.mmap(fd, PAGE, RW, MAP_SHARED))).toBe("EACCES");
    const priv = proc.mmap(fd, PAGE, RW, MAP_PRIVATE);
    priv.fill(0xee);
    expect(allBytes(proc.mmap(fd, PAGE, PROT_READ, MAP_SHARED).read(), 0)).toBe(true);
  });
});

describe("vmap", () => {
  it("maps every page in buffer order, once for all users", () => {
    const { kernel, alloc } = boot();
    const buf = alloc(MiB + 64 * KiB + PAGE);
    const vmap = vi.spyOn(buf.ops, "vmap");
    const m1 = kernel.dmaBuf.vmap(buf);
    const m2 = kernel.dmaBuf.vmap(buf);
    expect(m2).toBe(m1);
    expect(vmap).toHaveBeenCalledTimes(1);
    expect(buf.vmappingCounter).toBe(2);
    expect(Array.from(m1.pfns)).toEqual(pagesOf(buf));
    expect(m1.length).toBe(buf.size);

    m1.write(MiB - 1, new Uint8Array([7, 8]));
    const c0 = buf.priv.chunkPfns[0] as number;
    const c1 = buf.priv.chunkPfns[1] as number;
    expect(kernel.memory.read(c0 * PAGE + MiB - 1, 1)[0]).toBe(7);
    expect(kernel.memory.read(c1 * PAGE, 1)[0]).toBe(8);

    kernel.dmaBuf.vunmap(buf, m1);
    expect(buf.vmapPtr).toBe(m1);
    kernel.dmaBuf.vunmap(buf, m2);
    expect(buf.vmapPtr).toBeNull();
    const m3 = kernel.dmaBuf.vmap(buf);
    expect(m3).not.toBe(m1);
    expect(vmap).toHaveBeenCalledTimes(2);
    expect(m3.read(MiB - 1, 2)).toEqual(new Uint8Array([7, 8]));
    kernel.dmaBuf.vunmap(buf, m3);
  });
});

describe("release", () => {
  it("frees every page once the last reference (fd, mapping, importer) is gone", () => {
    const { kernel, alloc } = boot();
    const free = kernel.buddy.freePageCount();
    const proc = kernel.spawn();
    const buf = alloc(5 * MiB + 68 * KiB);
    const release = vi.spyOn(buf.ops, "release");
    expect(kernel.buddy.freePageCount()).toBe(free - buf.size / PAGE);
    const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
    const m = proc.mmap(fd, buf.size, RW, MAP_SHARED);
    const importer = kernel.dmaBuf.get(proc, fd);
    proc.close(fd);
    proc.munmap(m);
    expect(release).not.toHaveBeenCalled();
    kernel.dmaBuf.put(importer);
    expect(release).toHaveBeenCalledTimes(1);
    expect(kernel.buddy.freePageCount()).toBe(free);
    for (const pfn of pagesOf(buf)) expect(kernel.buddy.isFree(pfn)).toBe(true);
    kernel.buddy.assertConsistent();
  });
});
