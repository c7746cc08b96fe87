// The camera's /dev/video0: format, REQBUFS/QBUF/DQBUF with dma-buf fds, streaming, poll, both layouts.

import { allocFromHeap, createKernel } from "@dmabuf/core";
import {
  MAP_SHARED,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  POLLERR,
  POLLIN,
  POLLRDNORM,
  PROT_READ,
  V4L2_BUFFER_LAYOUT,
  V4L2_BUFFER32_LAYOUT,
  V4L2_PIX_FMT_XBGR32,
  VIDIOC_DQBUF,
  VIDIOC_DQBUF32,
  VIDIOC_G_FMT,
  VIDIOC_QBUF,
  VIDIOC_QBUF32,
  VIDIOC_QUERYCAP,
  VIDIOC_REQBUFS,
  VIDIOC_S_FMT,
  VIDIOC_S_FMT32,
  VIDIOC_STREAMOFF,
  VIDIOC_STREAMON,
} from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { Camera, framePattern } from "./camera.js";

const W = 32;
const H = 16;
const SIZE = W * H * 4;

function boot() {
  const kernel = createKernel({
    ram: "64MiB",
    plugins: [SystemHeap, { plugin: Camera, config: { coherent: true } }],
  });
  const proc = kernel.spawn({ name: "hal" });
  const video = proc.open("/dev/video0", O_RDWR);
  return { kernel, proc, video, camera: kernel.plugin(Camera) };
}

function errno(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

function u32(values: number[], size: number): Uint8Array {
  const a = new Uint8Array(size);
  const v = new DataView(a.buffer);
  values.forEach((n, i) => {
    v.setUint32(i * 4, n, true);
  });
  return a;
}

function format(pix: number, size: number, w: number, h: number): Uint8Array {
  const a = new Uint8Array(size);
  const v = new DataView(a.buffer);
  v.setUint32(0, 1, true);
  v.setUint32(pix, w, true);
  v.setUint32(pix + 4, h, true);
  return a;
}

function buffer(
  l: typeof V4L2_BUFFER_LAYOUT | typeof V4L2_BUFFER32_LAYOUT,
  index: number,
  fd: number,
) {
  const a = new Uint8Array(l.size);
  const v = new DataView(a.buffer);
  v.setUint32(l.index, index, true);
  v.setUint32(l.type, 1, true);
  v.setUint32(l.memory, 4, true);
  v.setInt32(l.m, fd, true);
  return { a, v };
}

function setup() {
  const ctx = boot();
  const { proc, video } = ctx;
  proc.ioctl(video, VIDIOC_S_FMT, format(8, 208, W, H));
  const req = u32([2, 1, 4], 20);
  proc.ioctl(video, VIDIOC_REQBUFS, req);
  const fds = [0, 1].map(() =>
    allocFromHeap(proc, "system", SIZE, { fdFlags: O_RDWR | O_CLOEXEC }),
  );
  return { ...ctx, fds, req };
}

describe("the camera's V4L2 node", () => {
  it("QUERYCAP names the driver and capture + streaming", () => {
    const { proc, video } = boot();
    const a = new Uint8Array(104);
    proc.ioctl(video, VIDIOC_QUERYCAP, a);
    const v = new DataView(a.buffer);
    expect(new TextDecoder().decode(a.subarray(0, 13))).toBe("dmabuf-camera");
    expect(new TextDecoder().decode(a.subarray(48, 64))).toBe("platform:camera0");
    expect(v.getUint32(84, true) >>> 0).toBe(0x84000001);
    expect(v.getUint32(88, true)).toBe(0x04000001);
  });

  it("S_FMT adjusts and answers, in the LP64 (208-byte) and ILP32 (204-byte) layouts", () => {
    const { proc, video } = boot();
    const a = format(8, 208, 8, 10000);
    proc.ioctl(video, VIDIOC_S_FMT, a);
    const v = new DataView(a.buffer);
    expect([8, 12, 16, 24, 28].map((o) => v.getUint32(o, true))).toEqual([
      16,
      4096,
      V4L2_PIX_FMT_XBGR32,
      64,
      16 * 4096 * 4,
    ]);
    const b = format(4, 204, W, H);
    proc.ioctl(video, VIDIOC_S_FMT32, b);
    const g = new Uint8Array(208);
    new DataView(g.buffer).setUint32(0, 1, true);
    proc.ioctl(video, VIDIOC_G_FMT, g);
    expect(new DataView(g.buffer).getUint32(28, true)).toBe(SIZE);
    expect(errno(() => proc.ioctl(video, VIDIOC_G_FMT, new Uint8Array(208)))).toBe("EINVAL");
  });

  it("REQBUFS serves DMABUF only; S_FMT is EBUSY once buffers exist", () => {
    const { proc, video, req } = setup();
    expect(new DataView(req.buffer).getUint32(0, true)).toBe(2);
    expect(errno(() => proc.ioctl(video, VIDIOC_REQBUFS, u32([2, 1, 1], 20)))).toBe("EINVAL");
    expect(errno(() => proc.ioctl(video, VIDIOC_S_FMT, format(8, 208, W, H)))).toBe("EBUSY");
    expect(errno(() => proc.ioctl(video, 0xc0505609, new Uint8Array(80)))).toBe("ENOTTY");
  });

  it("streams frames into dma-bufs: DQBUF blocks on the clock, poll sees them, sequence counts", () => {
    const { kernel, proc, video, fds, camera } = setup();
    const l = V4L2_BUFFER_LAYOUT;
    for (const [i, fd] of fds.entries())
      proc.ioctl(video, VIDIOC_QBUF, buffer(l, i, fd as number).a);
    expect(errno(() => proc.ioctl(video, VIDIOC_QBUF, buffer(l, 0, fds[0] as number).a))).toBe(
      "EINVAL",
    );
    expect(proc.poll([{ fd: video, events: POLLIN }], 0)).toBe(1); // POLLERR: not streaming
    expect(errno(() => proc.ioctl(video, VIDIOC_DQBUF, buffer(l, 0, 0).a))).toBe("EINVAL");
    proc.ioctl(video, VIDIOC_STREAMON, u32([1], 4));
    const fds2 = [{ fd: video, events: POLLIN }];
    expect(proc.poll(fds2, 0)).toBe(0);
    const d = buffer(l, 0, 0);
    expect(proc.ioctl(video, VIDIOC_DQBUF, d.a)).toBe(0);
    expect([l.index, l.bytesused, l.sequence].map((o) => d.v.getUint32(o, true))).toEqual([
      0,
      SIZE,
      0,
    ]);
    expect(d.v.getUint32(l.flags, true) & 0x4).toBe(0x4);
    expect(Number(d.v.getBigInt64(l.timestamp, true)) * 1e9).toBeLessThanOrEqual(kernel.clock.now);
    const m = proc.mmap(fds[0] as number, SIZE, PROT_READ, MAP_SHARED);
    expect(Buffer.from(m.read(0, SIZE)).equals(Buffer.from(framePattern(0, SIZE)))).toBe(true);
    expect(proc.poll(fds2, -1)).toBe(1);
    expect((fds2[0] as { revents?: number }).revents).toBe(POLLIN);
    void POLLRDNORM;
    proc.ioctl(video, VIDIOC_QBUF, buffer(l, 0, fds[0] as number).a);
    const e = buffer(l, 0, 0);
    proc.ioctl(video, VIDIOC_DQBUF, e.a);
    expect([e.v.getUint32(l.index, true), e.v.getUint32(l.sequence, true)]).toEqual([1, 1]);
    expect(camera.framesCaptured).toBeGreaterThanOrEqual(2);
    proc.ioctl(video, VIDIOC_STREAMOFF, u32([1], 4));
    const off = [{ fd: video, events: POLLIN }];
    expect(proc.poll(off, 0)).toBe(1);
    expect((off[0] as { revents?: number }).revents).toBe(POLLERR);
  });

  it("another open file may not touch the queue (EBUSY); O_NONBLOCK DQBUF is EAGAIN", () => {
    const { proc, video, fds } = setup();
    const l = V4L2_BUFFER32_LAYOUT;
    const other = proc.open("/dev/video0", O_RDWR | O_NONBLOCK);
    expect(errno(() => proc.ioctl(other, VIDIOC_QBUF32, buffer(l, 0, fds[0] as number).a))).toBe(
      "EBUSY",
    );
    proc.close(video);
    proc.ioctl(other, VIDIOC_REQBUFS, u32([1, 1, 4], 20));
    proc.ioctl(other, VIDIOC_STREAMON, u32([1], 4));
    expect(errno(() => proc.ioctl(other, VIDIOC_DQBUF32, buffer(l, 0, 0).a))).toBe("EAGAIN");
  });

  it("the wasm32 layout: QBUF32/DQBUF32 carry the fd at offset 64 and length at 68", () => {
    const { proc, video, fds } = setup();
    const l = V4L2_BUFFER32_LAYOUT;
    proc.ioctl(video, VIDIOC_STREAMON, u32([1], 4));
    const q = buffer(l, 1, fds[1] as number);
    proc.ioctl(video, VIDIOC_QBUF32, q.a);
    expect(q.v.getUint32(l.length, true)).toBe(4096); // the dma-buf's size
    const d = buffer(l, 0, 0);
    proc.ioctl(video, VIDIOC_DQBUF32, d.a);
    expect([d.v.getUint32(l.index, true), d.v.getUint32(l.bytesused, true)]).toEqual([1, SIZE]);
  });

  it("closing the node releases every import", () => {
    const { kernel, proc, video, fds } = setup();
    proc.ioctl(video, VIDIOC_QBUF, buffer(V4L2_BUFFER_LAYOUT, 0, fds[0] as number).a);
    expect(kernel.plugin(Camera).imports().length).toBe(1);
    proc.close(video);
    expect(kernel.plugin(Camera).imports()).toEqual([]);
  });
});
