// The device models: registration, importing, engines on the virtual clock, fences, IOMMU.

import {
  allocFromHeap,
  createKernel,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  device,
  dmaContiguousSize,
  type Kernel,
  type KernelConfigInput,
  syncBuffer,
} from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  POLLIN,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { CacheModel } from "./cache-model.js";
import { Camera, framePattern } from "./camera.js";
import { MemcpyEngine } from "./memcpy-engine.js";
import { Scanout } from "./scanout.js";
import { SgEngine } from "./sg-engine.js";
import { Vgem } from "./vgem.js";

const MiB = 1024 * 1024;
const PS = 4096;

function boot(...plugins: NonNullable<KernelConfigInput["plugins"]>): Kernel {
  return createKernel({
    ram: "256MiB",
    cma: { size: "64MiB" },
    plugins: [SystemHeap, CmaHeap, CacheModel, ...plugins],
  });
}

function alloc(kernel: Kernel, heap: string, len: number) {
  const proc = kernel.spawn({ name: "app" });
  const fd = allocFromHeap(proc, heap, len, { fdFlags: O_RDWR | O_CLOEXEC });
  return { proc, fd, buf: bufOf(kernel, proc, fd) };
}

/** Byte equality, compared natively (vitest's deep equality is slow on big arrays). */
function same(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && Buffer.from(a).equals(Buffer.from(b));
}

function bufOf(kernel: Kernel, proc: ReturnType<Kernel["spawn"]>, fd: number) {
  const buf = kernel.dmaBuf.get(proc, fd);
  kernel.dmaBuf.put(buf);
  return buf;
}

describe("registration through @device", () => {
  it("registers each device with the kernel, configured from its plugin entry", () => {
    const k = boot(Vgem, { plugin: Camera, config: { name: "cam-left", coherent: true } });
    expect(k.dma.devices().map((d) => [d.name, d.coherent])).toEqual([
      ["vgem", true],
      ["cam-left", true],
    ]);
    expect(k.plugin(Camera).device.dmaMask).toBe(0xffffffff);
  });

  it("rejects an invalid configuration, a duplicate device name, and a class without probe", () => {
    expect(() => boot({ plugin: Camera, config: { fps: -1 } })).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(() => boot(Vgem, { plugin: MemcpyEngine, config: { name: "vgem" } })).toThrow(
      expect.objectContaining({ code: "EEXIST" }),
    );
    @device({ name: "broken" })
    class Broken {}
    expect(() => boot(Broken)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});

describe("Vgem", () => {
  it("imports with attach + map, returns one handle per buffer and process, closes", () => {
    const k = boot(Vgem);
    const vgem = k.plugin(Vgem);
    const { proc, fd, buf } = alloc(k, "system", MiB);
    const before = k.snapshot();
    const h = vgem.primeFdToHandle(proc, fd);
    expect(vgem.primeFdToHandle(proc, proc.dup(fd))).toBe(h);
    expect(buf.attachments.map((a) => a.dev.name)).toEqual(["vgem"]);
    expect(vgem.lookup(proc, h)?.sgt.nents).toBeGreaterThan(0);
    expect(k.snapshot().bufferRefs).toBe(before.bufferRefs + 2);
    vgem.gemClose(proc, h);
    expect(buf.attachments).toEqual([]);
    expect(() => vgem.gemClose(proc, h)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(k.dma.liveMappings()).toBe(0);
  });

  it("fails like dma_buf_get on a bad fd", () => {
    const k = boot(Vgem);
    const proc = k.spawn();
    expect(() => k.plugin(Vgem).primeFdToHandle(proc, 9)).toThrow(
      expect.objectContaining({ code: "EBADF" }),
    );
  });
});

describe("Scanout (contiguous-only)", () => {
  it("imports and maps a CMA buffer as one contiguous bus range", () => {
    const k = boot(Scanout);
    const scanout = k.plugin(Scanout);
    const { proc, fd, buf } = alloc(k, "default_cma_region", 4 * MiB);
    const fb = scanout.addFramebuffer(proc, fd);
    expect(fb.sgt.nents).toBe(1);
    expect(dmaContiguousSize(fb.sgt)).toBe(buf.size);
    fb.release();
  });

  it("refuses a multi-chunk system-heap buffer with EINVAL, leaving nothing behind", () => {
    const k = boot(Scanout);
    const scanout = k.plugin(Scanout);
    // A one-page buffer first, so the next buffer's 1 MiB and 4 KiB chunks are not adjacent.
    alloc(k, "system", PS);
    const { proc, fd, buf } = alloc(k, "system", MiB + PS);
    const chunks = (buf.priv as { chunkPfns: ArrayLike<number> }).chunkPfns;
    expect(chunks.length).toBe(2);
    expect(chunks[1]).not.toBe((chunks[0] as number) + 256);
    const before = k.snapshot();
    expect(() => scanout.addFramebuffer(proc, fd)).toThrow(
      expect.objectContaining({ code: "EINVAL", syscall: "drm_gem_dma_prime_import_sg_table" }),
    );
    expect(k.snapshot()).toEqual(before);
    expect(k.dma.liveMappings()).toBe(0);
    // A buffer of one chunk is contiguous: accepted.
    const one = alloc(k, "system", MiB);
    scanout.addFramebuffer(one.proc, one.fd).release();
  });

  it("scans out what the CPU wrote once SYNC END cleaned it", () => {
    const k = boot(Scanout);
    const scanout = k.plugin(Scanout);
    const { proc, fd } = alloc(k, "default_cma_region", 64 * 1024);
    const fb = scanout.addFramebuffer(proc, fd);
    const map = proc.mmap(fd, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED);
    syncBuffer(proc, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    map.fill(0xc3);
    syncBuffer(proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    const fence = scanout.present(fb);
    expect(fence.isSignaled()).toBe(false);
    scanout.wait(fence);
    expect(k.clock.now).toBe(Math.round(1e9 / 60));
    expect(scanout.lastFrame?.every((b) => b === 0xc3)).toBe(true);
    expect(k.plugin(CacheModel).checker.violations).toEqual([]);
  });
});

describe("engines on the virtual clock", () => {
  it("a camera frame lands at completion; SYNC START waits for its fence", () => {
    const k = boot({ plugin: Camera, config: { fps: 50 } });
    const cam = k.plugin(Camera);
    const { proc, fd, buf } = alloc(k, "system", 64 * 1024);
    const target = cam.importFd(proc, fd, DMA_FROM_DEVICE);
    const map = proc.mmap(fd, 64 * 1024, PROT_READ, MAP_SHARED);
    const fence = cam.capture(target);
    expect(cam.pending).toBe(1);
    expect(proc.readFile("/sys/kernel/debug/dma_buf/bufinfo")).toContain(
      "write fence:dmabuf-camera camera0 seq 1 unsignalled",
    );
    // poll() sleeps on the virtual clock until the write fence signals.
    const pfd = [{ fd, events: POLLIN }];
    expect(proc.poll(pfd, -1)).toBe(1);
    expect(fence.isSignaled()).toBe(true);
    expect(k.clock.now).toBe(20_000_000);
    syncBuffer(proc, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    expect(same(map.read(), framePattern(0, 64 * 1024))).toBe(true);
    syncBuffer(proc, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    expect(cam.framesCaptured).toBe(1);
    expect(buf.resv.testSignaled(3)).toBe(true);
    expect(k.plugin(CacheModel).checker.violations).toEqual([]);
  });

  it("a SYNC START issued while the device still writes invalidates too early: caught", () => {
    const k = boot(Camera);
    const cam = k.plugin(Camera);
    const { proc, fd } = alloc(k, "system", 64 * 1024);
    const target = cam.importFd(proc, fd, DMA_FROM_DEVICE);
    const map = proc.mmap(fd, 64 * 1024, PROT_READ, MAP_SHARED);
    cam.capture(target);
    // The exporter invalidates first, then the core waits for the fence: the frame lands
    // after the invalidate, so the CPU reads lines written since it.
    syncBuffer(proc, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    map.read();
    const found = k.plugin(CacheModel).checker.violations;
    // Its own finding: the SYNC was there but came before the write, not "no SYNC START".
    expect(found.map((v) => [v.kind, v.writer, v.offset, v.length])).toEqual([
      ["device-write-during-sync-start", "camera0", 0, 64 * 1024],
    ]);
    expect(found[0]?.missing).toBe(
      "no wait for POLLIN on the dma-buf fd (or for the device's fence) before DMA_BUF_IOCTL_SYNC START",
    );
    expect(found[0]?.message).toContain("after the exporter's invalidate had run");
    expect(found[0]?.message).not.toContain("no DMA_BUF_IOCTL_SYNC START");
  });

  it("implicit sync orders camera → memcpy → scanout through the reservation objects", () => {
    const k = boot(Camera, MemcpyEngine, Scanout);
    const cam = k.plugin(Camera);
    const dma = k.plugin(MemcpyEngine);
    const scanout = k.plugin(Scanout);
    const size = 256 * 1024;
    const a = alloc(k, "system", size);
    const b = alloc(k, "default_cma_region", size);
    const camOut = cam.importFd(a.proc, a.fd, DMA_FROM_DEVICE);
    const src = dma.importFd(a.proc, a.fd, DMA_TO_DEVICE);
    const dst = dma.importFd(b.proc, b.fd, DMA_FROM_DEVICE);
    const fb = scanout.addFramebuffer(b.proc, b.fd);
    cam.capture(camOut);
    const copied = dma.copy(dst, 0, src, 0, size);
    const shown = scanout.present(fb);
    // Nothing ran yet: every job waits for its predecessor's fence.
    expect([cam.pending, dma.pending, scanout.pending]).toEqual([1, 1, 1]);
    scanout.wait(shown);
    expect(copied.isSignaled()).toBe(true);
    expect(same(scanout.lastFrame, framePattern(0, size))).toBe(true);
    const camNs = Math.round(1e9 / 30);
    expect(k.clock.now).toBe(camNs + 2000 + size / 8 + Math.round(1e9 / 60));
    expect(k.plugin(CacheModel).checker.violations).toEqual([]);
  });

  it("a job whose transfer faults signals its fence with -EIO and reports the error", () => {
    const k = boot(SgEngine);
    const sg = k.plugin(SgEngine);
    const { buf } = alloc(k, "system", 64 * 1024);
    const dst = sg.import(buf, DMA_BIDIRECTIONAL);
    expect(() => sg.fill(dst, 1, 60 * 1024, 8 * 1024)).toThrow(RangeError);
    const fence = sg.fill(dst, 1);
    // The mapping is torn down behind the import's back while the job is still queued.
    k.dmaBuf.unmapAttachment(dst.attachment, dst.sgt, DMA_BIDIRECTIONAL);
    expect(() => sg.wait(fence)).toThrow(expect.objectContaining({ code: "DMA_FAULT_UNMAPPED" }));
    expect(fence.getStatus()).toBe(-5);
    expect(sg.pending).toBe(0);
  });

  it("a release while a job is queued leaves the teardown to the job: the bytes land first", () => {
    const k = boot(SgEngine);
    const sg = k.plugin(SgEngine);
    const { buf, fd, proc } = alloc(k, "system", 64 * 1024);
    const probe = sg.import(buf, DMA_BIDIRECTIONAL);
    const dst = sg.import(buf, DMA_BIDIRECTIONAL, true);
    const fence = sg.fill(dst, 7, 4096, 100);
    dst.release();
    expect(buf.attachments).toHaveLength(2);
    expect(() => sg.fill(dst, 1)).toThrow(TypeError);
    sg.wait(fence);
    expect(fence.getStatus()).toBe(1);
    expect(buf.attachments).toEqual([probe.attachment]);
    expect(sg.imports()).toEqual([probe]);
    expect(same(probe.read(4096, 100), new Uint8Array(100).fill(7))).toBe(true);
    probe.release();
    proc.close(fd);
    expect(k.dmaBuf.list()).toEqual([]);
  });

  it("the SG engine sees a scattered buffer as one IOVA range", () => {
    const k = boot(SgEngine);
    const sg = k.plugin(SgEngine);
    const { buf } = alloc(k, "system", 2 * MiB + 64 * 1024 + PS);
    const dst = sg.import(buf, DMA_BIDIRECTIONAL);
    expect(dst.sgt.entryCount).toBe(4);
    expect(dst.sgt.nents).toBe(1);
    expect(dmaContiguousSize(dst.sgt)).toBe(buf.size);
    expect(k.dma.iovaBytes(sg.device)).toBe(buf.size);
    sg.fill(dst, 0x6b);
    const back = new Uint8Array(buf.size);
    sg.wait(sg.readback(dst, back));
    expect(back.every((x) => x === 0x6b)).toBe(true);
    sg.wait(sg.upload(dst, MiB - 2, new Uint8Array([1, 2, 3, 4])));
    const edge = new Uint8Array(4);
    sg.wait(sg.readback(dst, edge, MiB - 2));
    expect([...edge]).toEqual([1, 2, 3, 4]);
    dst.release();
    expect(k.dma.iovaBytes(sg.device)).toBe(0);
  });

  it("engines refuse buffers they did not import or may not access that way", () => {
    const k = boot(MemcpyEngine, Camera);
    const { buf } = alloc(k, "system", PS);
    const theirs = k.plugin(Camera).import(buf, DMA_FROM_DEVICE);
    const ro = k.plugin(MemcpyEngine).import(buf, DMA_TO_DEVICE);
    expect(() => k.plugin(MemcpyEngine).copy(theirs, 0, ro, 0, 1)).toThrow(TypeError);
    expect(() => k.plugin(MemcpyEngine).copy(ro, 0, ro, 0, 1)).toThrow(TypeError);
  });
});
