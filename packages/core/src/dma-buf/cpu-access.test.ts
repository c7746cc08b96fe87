// CPU access: dma_buf_begin/end_cpu_access with the implicit-fence wait, vmap/vunmap, and
// poll() against the reservation object's fences.

import { describe, expect, it } from "vitest";
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from "../dma/direction.js";
import { KernelBug } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import { DmaFence } from "../fence/dma-fence.js";
import {
  DMA_RESV_USAGE_BOOKKEEP,
  DMA_RESV_USAGE_KERNEL,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  type DmaResvUsage,
} from "../fence/dma-resv.js";
import type { Kernel } from "../kernel.js";
import { DMA_BUF_IOCTL_SYNC, encodeDmaBufSync } from "../uapi/dma-buf.js";
import { O_RDWR } from "../uapi/fcntl.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import { errnoOf, type PollFd } from "../vfs/process.js";
import { KernelMapping } from "./kernel-mapping.js";
import { boot, exportRecording, PS } from "./test-fixtures.js";

/** A fence that signals `afterNs` from now on the kernel's clock, or never. */
function fence(kernel: Kernel, afterNs: number | null): DmaFence {
  const ops = { getDriverName: () => "test", getTimelineName: () => "timeline" };
  const f = new DmaFence(kernel.fences, ops, kernel.fences.contextAlloc(1), 1);
  if (afterNs !== null) kernel.clock.schedule(afterNs, () => f.signal());
  return f;
}

describe("dma_buf_begin_cpu_access / end_cpu_access", () => {
  it("call the exporter with the direction; without fences nothing waits", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    for (const dir of [DMA_FROM_DEVICE, DMA_TO_DEVICE, DMA_BIDIRECTIONAL] as const) {
      kernel.dmaBuf.beginCpuAccess(buf, dir);
      kernel.dmaBuf.endCpuAccess(buf, dir);
    }
    expect(buf.priv.calls).toEqual([
      "begin DMA_FROM_DEVICE",
      "end DMA_FROM_DEVICE",
      "begin DMA_TO_DEVICE",
      "end DMA_TO_DEVICE",
      "begin DMA_BIDIRECTIONAL",
      "end DMA_BIDIRECTIONAL",
    ]);
    expect(kernel.clock.now).toBe(0);
  });

  it("a missing buffer is EINVAL", () => {
    const { kernel } = boot();
    const nothing = undefined as never;
    expect(errnoOf(() => kernel.dmaBuf.beginCpuAccess(nothing, DMA_TO_DEVICE))).toBe("EINVAL");
    expect(errnoOf(() => kernel.dmaBuf.endCpuAccess(nothing, DMA_TO_DEVICE))).toBe("EINVAL");
  });

  // Which implicit fences a CPU access waits for: a read waits for KERNEL and WRITE fences, a
  // write (or read-write) also for READ fences; BOOKKEEP fences never count.
  const waits: [string, DmaResvUsage, boolean, boolean][] = [
    ["KERNEL", DMA_RESV_USAGE_KERNEL, true, true],
    ["WRITE", DMA_RESV_USAGE_WRITE, true, true],
    ["READ", DMA_RESV_USAGE_READ, false, true],
    ["BOOKKEEP", DMA_RESV_USAGE_BOOKKEEP, false, false],
  ];
  it.each(waits)("a pending %s fence: CPU read waits %s, CPU write waits %s", (_n, usage, r, w) => {
    for (const [dir, waitsFor] of [
      [DMA_FROM_DEVICE, r],
      [DMA_TO_DEVICE, w],
      [DMA_BIDIRECTIONAL, w],
    ] as const) {
      const { kernel } = boot();
      const buf = exportRecording(kernel);
      const f = fence(kernel, 5_000_000);
      buf.resv.add(f, usage);
      kernel.dmaBuf.beginCpuAccess(buf, dir);
      expect(kernel.clock.now).toBe(waitsFor ? 5_000_000 : 0);
      expect(f.signaled).toBe(waitsFor);
    }
  });

  it("a fence that can never signal makes begin fail with EINTR, after the exporter's begin", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    buf.resv.add(fence(kernel, null), DMA_RESV_USAGE_WRITE);
    expect(() => kernel.dmaBuf.beginCpuAccess(buf, DMA_FROM_DEVICE)).toThrow(
      expect.objectContaining({ code: "EINTR" }),
    );
    expect(buf.priv.calls).toEqual(["begin DMA_FROM_DEVICE"]);
    // END never waits.
    kernel.dmaBuf.endCpuAccess(buf, DMA_FROM_DEVICE);
    expect(buf.priv.calls).toEqual(["begin DMA_FROM_DEVICE", "end DMA_FROM_DEVICE"]);
  });

  it("the SYNC ioctl waits the same way", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    buf.resv.add(fence(kernel, 1000), DMA_RESV_USAGE_READ);
    proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(1)); // READ start: no wait
    expect(kernel.clock.now).toBe(0);
    proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(2)); // WRITE start: waits
    expect(kernel.clock.now).toBe(1000);
  });

  it("an exporter's begin error is returned before any wait", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, {
      override: {
        beginCpuAccess: () => {
          throw new KernelError("EINTR", "begin_cpu_access");
        },
      },
    });
    buf.resv.add(fence(kernel, 1000), DMA_RESV_USAGE_WRITE);
    expect(errnoOf(() => kernel.dmaBuf.beginCpuAccess(buf, DMA_TO_DEVICE))).toBe("EINTR");
    expect(kernel.clock.now).toBe(0);
  });
});

describe("dma_buf_vmap / dma_buf_vunmap", () => {
  it("an exporter without vmap is EINVAL", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { omit: ["vmap", "vunmap"] });
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.vmap(buf)).toThrow(
      expect.objectContaining({ code: "EINVAL", syscall: "dma_buf_vmap" }),
    );
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.vmappingCounter).toBe(0);
  });

  it("is refcounted: one exporter vmap for many users, vunmap at the last", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const m1 = kernel.dmaBuf.vmap(buf);
    const m2 = kernel.dmaBuf.vmap(buf);
    expect(m2).toBe(m1);
    expect(m1).toBeInstanceOf(KernelMapping);
    expect(m1.length).toBe(2 * PS);
    expect(buf.vmappingCounter).toBe(2);
    expect(kernel.snapshot()).toMatchObject({ vmaps: 2, bufferRefs: 1 });
    kernel.dmaBuf.vunmap(buf, m1);
    expect(buf.priv.calls).toEqual(["vmap"]);
    kernel.dmaBuf.vunmap(buf, m2);
    expect(buf.priv.calls).toEqual(["vmap", "vunmap"]);
    expect(buf.vmapPtr).toBeNull();
    expect(kernel.snapshot().vmaps).toBe(0);
    const m3 = kernel.dmaBuf.vmap(buf);
    expect(m3).not.toBe(m1);
    expect(buf.priv.calls).toEqual(["vmap", "vunmap", "vmap"]);
  });

  it("a vmap reads into a caller's array at an offset", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const m = kernel.dmaBuf.vmap(buf);
    m.write(PS - 1, new Uint8Array([9, 8]));
    const dst = new Uint8Array(5);
    const got = m.read(PS - 1, 2, dst, 2);
    expect(got.buffer).toBe(dst.buffer);
    expect(dst).toEqual(new Uint8Array([0, 0, 9, 8, 0]));
    expect(() => m.read(0, 2, dst, 4)).toThrow(RangeError);
    expect(() => m.read(2 * PS - 1, 2, dst, 0)).toThrow("access outside the kernel mapping");
    kernel.dmaBuf.vunmap(buf, m);
  });

  it("an unbalanced or foreign vunmap is a KernelBug", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const other = exportRecording(kernel);
    const foreign = kernel.dmaBuf.vmap(other);
    expect(() => kernel.dmaBuf.vunmap(buf, foreign)).toThrow(
      expect.objectContaining({ code: "DMA_BUF_VUNMAP_UNBALANCED" }),
    );
    const m = kernel.dmaBuf.vmap(buf);
    expect(() => kernel.dmaBuf.vunmap(buf, foreign)).toThrow(KernelBug);
    kernel.dmaBuf.vunmap(buf, m);
    expect(() => kernel.dmaBuf.vunmap(buf, m)).toThrow(KernelBug);
    expect(buf.priv.calls).toEqual(["vmap", "vunmap"]);
  });

  it("an exporter's vmap error passes through and maps nothing", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, {
      override: {
        vmap: () => {
          throw new KernelError("ENOMEM", "vmap");
        },
      },
    });
    const before = kernel.snapshot();
    expect(errnoOf(() => kernel.dmaBuf.vmap(buf))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.vmappingCounter).toBe(0);
    expect(buf.vmapPtr).toBeNull();
  });

  it("works without a vunmap op", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { omit: ["vunmap"] });
    kernel.dmaBuf.vunmap(buf, kernel.dmaBuf.vmap(buf));
    expect(buf.vmappingCounter).toBe(0);
  });

  it("sees the same bytes as a user mapping", () => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const buf = pages.create(2 * PS, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    const user = proc.mmap(fd, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    const map = kernel.dmaBuf.vmap(buf);
    user.write(PS - 2, new Uint8Array([1, 2, 3, 4]));
    expect(map.read(PS - 2, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    map.fill(9, 2 * PS - 3, 3);
    expect(user.read(2 * PS - 4, 4)).toEqual(new Uint8Array([0, 9, 9, 9]));
    kernel.dmaBuf.vunmap(buf, map);
  });
});

describe("poll against fences", () => {
  // POLLOUT = no pending KERNEL/WRITE/READ fence; POLLIN = no pending KERNEL/WRITE fence.
  const cases: [string, DmaResvUsage, number][] = [
    ["KERNEL", DMA_RESV_USAGE_KERNEL, 0],
    ["WRITE", DMA_RESV_USAGE_WRITE, 0],
    ["READ", DMA_RESV_USAGE_READ, POLLIN],
    ["BOOKKEEP", DMA_RESV_USAGE_BOOKKEEP, POLLIN | POLLOUT],
  ];
  it.each(cases)("a pending %s fence leaves revents %i", (_n, usage, revents) => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    const f = fence(kernel, 1_000_000);
    buf.resv.add(f, usage);
    const fds: PollFd[] = [{ fd, events: POLLIN | POLLOUT }];
    expect(proc.poll(fds, 0)).toBe(revents ? 1 : 0);
    expect(fds[0]?.revents).toBe(revents);
    // Waiting for the blocked events long enough sees the fence signal.
    const blocked = (POLLIN | POLLOUT) & ~revents;
    if (blocked === 0) return;
    const wait: PollFd[] = [{ fd, events: blocked }];
    expect(proc.poll(wait, 5)).toBe(1);
    expect(wait[0]?.revents).toBe(blocked);
    expect(kernel.clock.now).toBe(1_000_000);
    expect(f.signaled).toBe(true);
  });

  it("a poll that times out first reports nothing and ends at the timeout", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    buf.resv.add(fence(kernel, 10_000_000), DMA_RESV_USAGE_WRITE);
    const fds: PollFd[] = [{ fd, events: POLLIN | POLLOUT }];
    expect(proc.poll(fds, 2)).toBe(0);
    expect(fds[0]?.revents).toBe(0);
    expect(kernel.clock.now).toBe(2_000_000);
  });
});
