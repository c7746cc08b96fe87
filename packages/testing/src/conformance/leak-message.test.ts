// A LEAK names what grew and who holds it: page owners, buffers, attachments, vmaps, fence callbacks.

import { allocFromHeap, createKernel, Device, DmaFence, setBufferName } from "@dmabuf/core";
import { describe, expect, it } from "vitest";
import { LeakOnEnomemHeap } from "../zoo/leak-on-enomem.js";
import { ConformanceFailure } from "./assert.js";
import { KernelTracker } from "./tracker.js";

function leakOf(tracker: KernelTracker): ConformanceFailure {
  try {
    tracker.verify();
  } catch (e) {
    if (e instanceof ConformanceFailure) return e;
    throw e;
  }
  throw new Error("no leak reported");
}

describe("the after-case leak message", () => {
  it("names leaked pages by their owner, and the holders of attachments, vmaps and fence callbacks", () => {
    const k = createKernel({ ram: "16MiB", plugins: [LeakOnEnomemHeap] });
    const tracker = new KernelTracker();
    tracker.track(k);
    const free = k.snapshot().freePages;
    const app = k.spawn({ name: "camera" });
    const fd = allocFromHeap(app, "leak_on_enomem", 2 * 4096);
    setBufferName(app, fd, "frame");
    const buf = k.dmaBuf.get(app, fd); // a kernel reference: outlives the process
    k.dmaBuf.attach(buf, new Device({ name: "isp" }));
    k.dmaBuf.vmap(buf);
    // The third page allocation of a 4-page ALLOC fails: the heap keeps the first two.
    k.faults.failNth("page", 3);
    expect(() => allocFromHeap(app, "leak_on_enomem", 4 * 4096)).toThrow(/ENOMEM/);
    const ops = { getDriverName: () => "gpu", getTimelineName: () => "ring0" };
    const ctx = k.fences.contextAlloc(1);
    new DmaFence(k.fences, ops, ctx, 1).addCallback(() => {});
    const leak = leakOf(tracker);
    expect(leak.code).toBe("LEAK");
    expect(leak.message).toBe(
      `after every process exited the kernel is not as it booted: freePages ${free} → ${free - 4}, ` +
        "files 0 → 1, buffers 0 → 1, bufferRefs 0 → 1, attachments 0 → 1, " +
        `attachmentsByHolder ${buf.ino}:isp 0 → 1, vmaps 0 → 1, vmapsByBuffer ${buf.ino} 0 → 1, ` +
        `fenceCallbacks 0 → 1, fenceCallbacksByTimeline gpu:ring0:${ctx} 0 → 1 ` +
        `(live buffers: ${buf.ino} (leak_on_enomem, 8192 bytes, 1 refs); ` +
        `pages in use: 2 pages owned by heap 'leak_on_enomem' buffer inode ${buf.ino} (name "frame"), ` +
        `2 pages owned by heap 'leak_on_enomem' ALLOC of 16384 bytes by pid ${app.pid} (camera) that failed; ` +
        `attachments: buffer ${buf.ino} by isp; vmaps: buffer ${buf.ino}; ` +
        `fence callbacks armed: gpu:ring0:${ctx})`,
    );
  });

  it("names the pages of a released buffer its heap never freed", () => {
    const k = createKernel({ ram: "16MiB", plugins: [LeakOnEnomemHeap] });
    const tracker = new KernelTracker();
    tracker.track(k);
    const free = k.snapshot().freePages;
    const app = k.spawn({ name: "app" });
    const fd = allocFromHeap(app, "leak_on_enomem", 3 * 4096);
    const buf = k.dmaBuf.get(app, fd);
    const { release } = buf.ops;
    (buf.ops as { release: unknown }).release = () => {}; // forget to free: 3 pages leak
    app.close(fd);
    k.dmaBuf.put(buf);
    (buf.ops as { release: unknown }).release = release;
    expect(leakOf(tracker).message).toBe(
      `after every process exited the kernel is not as it booted: freePages ${free} → ${free - 3} ` +
        `(pages in use: 3 pages owned by heap 'leak_on_enomem' buffer inode ${buf.ino} (released))`,
    );
  });
});
