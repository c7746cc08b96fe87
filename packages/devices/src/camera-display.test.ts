// Camera → CPU → display on one CMA buffer: DMA-API debugging warns about the mixed directions, as Linux does.

import { allocFromHeap, createKernel, DMA_FROM_DEVICE, DMA_TO_DEVICE } from "@dmabuf/core";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  encodeDmaBufSync,
  MAP_SHARED,
  POLLIN,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { describe, expect, it } from "vitest";
import { CacheModel } from "./cache-model.js";
import { Camera, framePattern } from "./camera.js";
import { Scanout } from "./scanout.js";

const SIZE = 64 * 1024;

function pipeline() {
  const kernel = createKernel({
    ram: "128MiB",
    cma: { size: "16MiB" },
    plugins: [CmaHeap, CacheModel, Camera, Scanout],
  });
  const app = kernel.spawn({ name: "viewer" });
  const fd = allocFromHeap(app, "default_cma_region", SIZE);
  const ino = app.fstat(fd).ino;
  const camera = kernel.plugin(Camera);
  const display = kernel.plugin(Scanout);
  const target = camera.importFd(app, fd, DMA_FROM_DEVICE);
  const fb = display.addFramebuffer(app, fd, DMA_TO_DEVICE); // a driver mapping TO_DEVICE
  const map = app.mmap(fd, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED);
  /** DMA_BUF_IOCTL_SYNC with `flags`; returns what the ioctl returned. */
  const sync = (flags: number) => app.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(flags));
  return { kernel, app, fd, ino, camera, display, target, fb, map, sync };
}

describe("camera + display on one buffer (FROM_DEVICE and TO_DEVICE mappings)", () => {
  it("SYNC returns 0, the warning is in the log and in the report, and the pixels are right", () => {
    const { kernel, app, ino, camera, display, target, fb, map, sync, fd } = pipeline();
    camera.wait(camera.capture(target));
    expect(app.poll([{ fd, events: POLLIN }], -1)).toBe(1);

    expect(sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)).toBe(0);
    const frame = map.read();
    expect(sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)).toBe(0);
    expect(Buffer.from(frame).equals(Buffer.from(framePattern(0, SIZE)))).toBe(true);

    // The heap synced the display's TO_DEVICE mapping for a read, at START and at END:
    // Linux's check_sync warns each time and the ioctl goes on.
    const reports = kernel.dma.debug.reports;
    expect(reports.map((r) => [r.code, r.device, r.buffer?.ino, r.buffer?.expName])).toEqual([
      ["DMA_API_SYNC_WRONG_DIR", "scanout0", ino, "default_cma_region"],
      ["DMA_API_SYNC_WRONG_DIR", "scanout0", ino, "default_cma_region"],
    ]);
    expect(reports.map((r) => r.chain)).toEqual([
      ["default_cma_region begin_cpu_access", `DMA_BUF_IOCTL_SYNC from pid ${app.pid}`],
      ["default_cma_region end_cpu_access", `DMA_BUF_IOCTL_SYNC from pid ${app.pid}`],
    ]);
    const warnings = kernel.log.records.filter((r) => r.level === "warn").map((r) => r.text);
    expect(warnings).toEqual(reports.map((r) => r.line));
    expect(warnings[0]).toBe(
      `DMA-API: scanout0: dma_sync_sgtable_for_cpu: device driver syncs DMA memory with different direction [mapped as DMA_TO_DEVICE] [synced as DMA_FROM_DEVICE] [buffer ${ino} (unnamed) (default_cma_region)] in default_cma_region begin_cpu_access for DMA_BUF_IOCTL_SYNC from pid ${app.pid}`,
    );

    // The application draws an overlay on the frame and shows it.
    expect(sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)).toBe(0);
    map.fill(0xee, 0, 4096);
    expect(sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)).toBe(0);
    display.wait(display.present(fb));
    const shown = framePattern(0, SIZE);
    shown.fill(0xee, 0, 4096);
    expect(Buffer.from(display.lastFrame as Uint8Array).equals(Buffer.from(shown))).toBe(true);
    expect(kernel.plugin(CacheModel).checker.violations).toEqual([]);
    // The write syncs warned about the camera's FROM_DEVICE mapping, once each way.
    expect(reports.slice(2).map((r) => [r.code, r.device, r.chain[0]])).toEqual([
      ["DMA_API_SYNC_WRONG_DIR", "camera0", "default_cma_region begin_cpu_access"],
      ["DMA_API_SYNC_WRONG_DIR", "camera0", "default_cma_region end_cpu_access"],
    ]);
    target.release();
    fb.release();
  });

  it("throws the report into the ioctl only when a test asks for it", () => {
    const { kernel, camera, target, sync } = pipeline();
    camera.wait(camera.capture(target));
    kernel.dma.debug.fatal.add("DMA_API_SYNC_WRONG_DIR");
    expect(() => sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)).toThrow(
      expect.objectContaining({ code: "DMA_API_SYNC_WRONG_DIR" }),
    );
  });

  it("a display that maps framebuffers BIDIRECTIONAL, as DRM PRIME imports do, draws no warning", () => {
    const kernel = createKernel({
      ram: "128MiB",
      cma: { size: "16MiB" },
      plugins: [CmaHeap, CacheModel, Camera, Scanout],
    });
    const app = kernel.spawn();
    const fd = allocFromHeap(app, "default_cma_region", SIZE);
    const camera = kernel.plugin(Camera);
    const target = camera.importFd(app, fd, DMA_FROM_DEVICE);
    const fb = kernel.plugin(Scanout).addFramebuffer(app, fd);
    camera.wait(camera.capture(target));
    const map = app.mmap(fd, SIZE, PROT_READ, MAP_SHARED);
    app.poll([{ fd, events: POLLIN }], -1);
    const arg = encodeDmaBufSync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    expect(app.ioctl(fd, DMA_BUF_IOCTL_SYNC, arg)).toBe(0);
    expect(Buffer.from(map.read()).equals(Buffer.from(framePattern(0, SIZE)))).toBe(true);
    expect(kernel.dma.debug.reports).toEqual([]);
    target.release();
    fb.release();
  });
});
