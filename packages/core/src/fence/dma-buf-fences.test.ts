// The dma-buf side of fences: EXPORT/IMPORT_SYNC_FILE (SPEC §2.2, §6.4), poll()'s cb_in/cb_out
// slots (§5.4, §13 item 11), SYNC START's implicit wait (§5.1), a static importer's wait for
// KERNEL fences when mapping (§4.5), and the reservation object's life with its buffer.

import { describe, expect, it } from "vitest";
import { DMA_TO_DEVICE } from "../dma/direction.js";
import { boot, device, exportRecording } from "../dma-buf/test-fixtures.js";
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_WRITE,
  encodeDmaBufSyncFile,
} from "../uapi/dma-buf.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import { errnoOf } from "../vfs/process.js";
import {
  DMA_RESV_USAGE_BOOKKEEP,
  DMA_RESV_USAGE_KERNEL,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  DmaResv,
} from "./dma-resv.js";
import {
  BOOT_NS,
  buffer,
  createFence,
  exportSync,
  fileInfo,
  importSync,
  inc,
  pollOne,
  setup,
  sync,
  testFence,
  timeline,
} from "./test-fixtures.js";

const BUFINFO = "/sys/kernel/debug/dma_buf/bufinfo";

describe("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", () => {
  it.each([
    ["0", 0, "EINVAL"],
    ["END", 4, "EINVAL"],
    ["READ|END", 5, "EINVAL"],
    ["bit 3", 8, "EINVAL"],
    ["READ", DMA_BUF_SYNC_READ, null],
    ["WRITE", DMA_BUF_SYNC_WRITE, null],
    ["RW", DMA_BUF_SYNC_RW, null],
  ])("flags %s: %s", (_n, flags, errno) => {
    const { kernel, proc } = setup();
    const buf = buffer(kernel, proc);
    const arg = encodeDmaBufSyncFile({ flags, fd: -1 });
    expect(errnoOf(() => proc.ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg))).toBe(errno);
  });

  it("EFAULT for a NULL or short argument; EMFILE without a free fd, before any fence work", () => {
    const { kernel, proc } = setup();
    const buf = buffer(kernel, proc);
    kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv.add(testFence(kernel), DMA_RESV_USAGE_READ);
    kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv.add(testFence(kernel), DMA_RESV_USAGE_READ);
    const before = kernel.snapshot();
    expect(errnoOf(() => proc.ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, null))).toBe("EFAULT");
    const short = new Uint8Array(7);
    expect(errnoOf(() => proc.ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, short))).toBe("EFAULT");
    proc.rlimitNofile = buf + 1;
    expect(errnoOf(() => exportSync(proc, buf, DMA_BUF_SYNC_RW))).toBe("EMFILE");
    expect(kernel.snapshot()).toEqual(before);
    expect(kernel.fences.contextAlloc(1)).toBe(3);
  });

  it("READ exports the KERNEL and WRITE fences, WRITE also the READ ones; BOOKKEEP never", () => {
    const { kernel, proc } = setup("6.1");
    const buf = buffer(kernel, proc);
    const resv = kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv as DmaResv;
    const reader = testFence(kernel, 3);
    resv.add(testFence(kernel, 9), DMA_RESV_USAGE_BOOKKEEP);
    resv.add(reader, DMA_RESV_USAGE_READ);
    expect(fileInfo(proc, exportSync(proc, buf, DMA_BUF_SYNC_READ)).name).toBe("stub-stub0-0");
    expect(fileInfo(proc, exportSync(proc, buf, DMA_BUF_SYNC_WRITE)).name).toBe("test-tl1-3");
    const writer = testFence(kernel, 4);
    resv.add(writer, DMA_RESV_USAGE_WRITE);
    const both = exportSync(proc, buf, DMA_BUF_SYNC_RW);
    const info = fileInfo(proc, both, 2);
    expect(info).toMatchObject({ name: "dma_fence_array-unbound4-1", numFences: 2, status: 0 });
    // A snapshot: later fences are not in it, and it signals with the fences it holds.
    resv.add(testFence(kernel), DMA_RESV_USAGE_WRITE);
    reader.signal();
    writer.signal();
    expect(pollOne(proc, both, POLLIN)).toEqual([1, POLLIN]);
  });
});

describe("DMA_BUF_IOCTL_IMPORT_SYNC_FILE", () => {
  it("a READ import blocks writers only; a WRITE import blocks everybody (§13 item 13)", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const fence = createFence(proc, tl, 1);
    const r = buffer(kernel, proc);
    const w = buffer(kernel, proc);
    expect(importSync(proc, r, fence, DMA_BUF_SYNC_READ)).toBe(0);
    expect(importSync(proc, w, fence, DMA_BUF_SYNC_WRITE)).toBe(0);
    expect(pollOne(proc, r, POLLIN | POLLOUT)).toEqual([1, POLLIN]);
    expect(pollOne(proc, w, POLLIN)).toEqual([0, 0]);
    expect(sync(proc, r, DMA_BUF_SYNC_READ)).toBe(0);
    expect(errnoOf(() => sync(proc, r, DMA_BUF_SYNC_WRITE))).toBe("EINTR");
    expect(errnoOf(() => sync(proc, w, DMA_BUF_SYNC_READ))).toBe("EINTR");
    expect(kernel.clock.now).toBe(BOOT_NS);
  });

  it("unwraps a merged sync_file into its fences; re-importing promotes READ to WRITE", () => {
    const { kernel, proc } = setup();
    const a = createFence(proc, timeline(proc), 1);
    const b = createFence(proc, timeline(proc), 1);
    const buf = buffer(kernel, proc);
    const resv = kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv as DmaResv;
    importSync(proc, buf, a, DMA_BUF_SYNC_READ);
    importSync(proc, buf, b, DMA_BUF_SYNC_READ);
    const both = exportSync(proc, buf, DMA_BUF_SYNC_WRITE);
    expect(fileInfo(proc, both, 2).numFences).toBe(2);
    const other = buffer(kernel, proc);
    importSync(proc, other, both, DMA_BUF_SYNC_READ);
    const otherResv = kernel.dmaBuf.fromFile(proc.fileOf(other))?.resv as DmaResv;
    expect(otherResv.fences.map((e) => e.fence.isContainer)).toEqual([false, false]);
    importSync(proc, buf, a, DMA_BUF_SYNC_WRITE);
    expect(resv.fences.map((e) => e.usage)).toEqual([DMA_RESV_USAGE_WRITE, DMA_RESV_USAGE_READ]);
  });

  it("EINVAL when fd is not an open sync_file (a dma-buf, -1, closed); EFAULT for NULL", () => {
    const { kernel, proc } = setup();
    const buf = buffer(kernel, proc);
    for (const fd of [buf, -1, 50]) {
      expect(errnoOf(() => importSync(proc, buf, fd, DMA_BUF_SYNC_RW))).toBe("EINVAL");
    }
    const stub = exportSync(proc, buf, DMA_BUF_SYNC_RW);
    for (const flags of [0, 4, 0xb]) {
      expect(errnoOf(() => importSync(proc, buf, stub, flags))).toBe("EINVAL");
    }
  });
});

describe("poll(): the cb_in / cb_out slots", () => {
  it("an armed slot reports not-ready and holds a file reference until its fence signals", () => {
    const { kernel, proc } = setup();
    const buf = buffer(kernel, proc);
    const dmabuf = kernel.dmaBuf.fromFile(proc.fileOf(buf));
    const f = testFence(kernel);
    dmabuf?.resv.add(f, DMA_RESV_USAGE_READ);
    expect(pollOne(proc, buf, POLLOUT)).toEqual([0, 0]);
    expect(proc.fileOf(buf).refCount).toBe(2);
    expect(pollOne(proc, buf, POLLOUT)).toEqual([0, 0]);
    expect(proc.fileOf(buf).refCount).toBe(2);
    expect(pollOne(proc, buf, POLLIN)).toEqual([1, POLLIN]);
    expect(proc.fileOf(buf).refCount).toBe(2);
    f.signal();
    expect(proc.fileOf(buf).refCount).toBe(1);
    expect(pollOne(proc, buf, POLLOUT)).toEqual([1, POLLOUT]);
    expect(proc.fileOf(buf).refCount).toBe(1);
  });

  it("the slot waits for the first pending fence it found; a later one does not re-arm it", () => {
    const { kernel, proc } = setup();
    const buf = buffer(kernel, proc);
    const resv = kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv as DmaResv;
    const [first, second] = [testFence(kernel), testFence(kernel)];
    resv.add(first, DMA_RESV_USAGE_KERNEL);
    resv.add(second, DMA_RESV_USAGE_WRITE);
    expect(pollOne(proc, buf, POLLIN)).toEqual([0, 0]);
    second.signal();
    expect(pollOne(proc, buf, POLLIN)).toEqual([0, 0]);
    first.signal();
    expect(pollOne(proc, buf, POLLIN)).toEqual([1, POLLIN]);
  });

  it("a buffer whose fd is closed while a slot is armed lives until the fence signals", () => {
    const { kernel, proc } = setup();
    const before = kernel.buddy.freePageCount();
    const buf = buffer(kernel, proc);
    const f = testFence(kernel);
    kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv.add(f, DMA_RESV_USAGE_WRITE);
    pollOne(proc, buf, POLLIN | POLLOUT);
    proc.close(buf);
    expect(kernel.dmaBuf.list().length).toBe(1);
    f.signal();
    expect(kernel.dmaBuf.list().length).toBe(0);
    expect(kernel.buddy.freePageCount()).toBe(before);
    expect(f.refCount).toBe(1);
  });

  it("bufinfo counts the armed slots, and 6.18 prints a signalled fence's detached names", () => {
    const { kernel, proc } = setup();
    const buf = buffer(kernel, proc);
    const f = testFence(kernel, 1);
    kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv.add(f, DMA_RESV_USAGE_WRITE);
    pollOne(proc, buf, POLLIN | POLLOUT);
    const lines = () => proc.readFile(BUFINFO).split("\n").slice(3, 5);
    expect(lines()).toEqual([
      "00004096\t00000002\t00080007\t00000003\tsystem\t00000001\t<none>",
      "\twrite fence:test tl seq 1 unsignalled",
    ]);
    f.signal();
    expect(lines()).toEqual([
      "00004096\t00000002\t00080007\t00000001\tsystem\t00000001\t<none>",
      "\twrite fence:detached-driver signaled-timeline seq 1 signalled",
    ]);
  });
});

describe("SYNC START's implicit wait", () => {
  it("runs the clock to the fence's signal; a pending fatal signal interrupts it", () => {
    const { kernel, proc } = setup();
    const buf = buffer(kernel, proc);
    const resv = kernel.dmaBuf.fromFile(proc.fileOf(buf))?.resv as DmaResv;
    const f = testFence(kernel);
    resv.add(f, DMA_RESV_USAGE_KERNEL);
    kernel.clock.schedule(7000, () => f.signal());
    expect(sync(proc, buf, DMA_BUF_SYNC_READ)).toBe(0);
    expect(kernel.clock.now).toBe(BOOT_NS + 7000);
    const g = testFence(kernel);
    resv.add(g, DMA_RESV_USAGE_WRITE);
    kernel.clock.schedule(1000, () => g.signal());
    proc.kill();
    expect(errnoOf(() => sync(proc, buf, DMA_BUF_SYNC_WRITE))).toBe("EINTR");
    expect(kernel.clock.now).toBe(BOOT_NS + 7000);
  });
});

describe("mapAttachment: a static importer waits for KERNEL fences", () => {
  it("waits on the clock; a dynamic importer and other usages do not", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    const k = testFence(kernel);
    buf.resv.add(k, DMA_RESV_USAGE_KERNEL);
    buf.resv.add(testFence(kernel), DMA_RESV_USAGE_WRITE);
    kernel.clock.schedule(500, () => k.signal());
    const dynamic = kernel.dmaBuf.dynamicAttach(buf, device("gpu"), { moveNotify: () => {} });
    const t1 = kernel.dmaBuf.mapAttachment(dynamic, DMA_TO_DEVICE);
    expect(kernel.clock.now).toBe(0);
    const a = kernel.dmaBuf.attach(buf, device("display"));
    const t2 = kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE);
    expect(kernel.clock.now).toBe(500);
    kernel.dmaBuf.unmapAttachment(a, t2, DMA_TO_DEVICE);
    kernel.dmaBuf.unmapAttachment(dynamic, t1, DMA_TO_DEVICE);
  });

  it("a KERNEL fence nothing signals: EINTR, and the exporter's mapping is undone", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { pin: true });
    buf.resv.add(testFence(kernel), DMA_RESV_USAGE_KERNEL);
    const a = kernel.dmaBuf.attach(buf, device("display"));
    expect(errnoOf(() => kernel.dmaBuf.mapAttachment(a, DMA_TO_DEVICE))).toBe("EINTR");
    expect(buf.priv.calls).toEqual([
      "attach display",
      "pin display",
      "map display DMA_TO_DEVICE",
      "unmap display DMA_TO_DEVICE",
      "unpin display",
    ]);
    expect(a.mappedCount).toBe(0);
  });

  it("6.1: the attach-time mapping waits too, and a failed wait fails the attach", () => {
    const { kernel } = boot({ profile: "6.1" });
    const buf = exportRecording(kernel, { pin: true });
    buf.resv.add(testFence(kernel), DMA_RESV_USAGE_KERNEL);
    expect(errnoOf(() => kernel.dmaBuf.attach(buf, device("display")))).toBe("EINTR");
    expect(buf.priv.calls).toEqual([
      "attach display",
      "pin display",
      "map display DMA_BIDIRECTIONAL",
      "unmap display DMA_BIDIRECTIONAL",
      "unpin display",
      "detach display",
    ]);
    expect(buf.attachments).toEqual([]);
  });
});

describe("the reservation object's life", () => {
  it("an embedded one drops its fences when the buffer goes; a shared one is left alone", () => {
    const { kernel } = boot();
    const f = testFence(kernel);
    const own = exportRecording(kernel);
    own.resv.add(f, DMA_RESV_USAGE_READ);
    const shared = new DmaResv();
    shared.add(f, DMA_RESV_USAGE_READ);
    const other = kernel.dmaBuf.export({
      expName: "x",
      ops: own.ops,
      size: 4096,
      resv: shared,
      priv: { pfns: new Float64Array([kernel.buddy.allocPages(0)]), calls: [], releases: 0 },
    });
    expect(f.refCount).toBe(3);
    kernel.dmaBuf.put(own);
    kernel.dmaBuf.put(other);
    expect(f.refCount).toBe(2);
    expect(shared.fences.length).toBe(1);
  });

  it("a sw_sync fence imported into a buffer keeps its timeline listed until the buffer goes", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 1);
    const buf = buffer(kernel, proc);
    importSync(proc, buf, fd, DMA_BUF_SYNC_WRITE);
    inc(proc, tl, 1);
    proc.close(fd);
    proc.close(tl);
    expect(kernel.swSync.timelines.length).toBe(1);
    proc.close(buf);
    expect(kernel.swSync.timelines.length).toBe(0);
  });
});
