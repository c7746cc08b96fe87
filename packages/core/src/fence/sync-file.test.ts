// sync_file (SPEC §6.3, §15.7): SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE and SYNC_IOC_SET_DEADLINE
// with their struct layouts and errnos, the default name, poll, and the fence reference a
// sync_file holds.

import { describe, expect, it } from "vitest";
import { DMA_BUF_SYNC_READ } from "../uapi/dma-buf.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import {
  decodeSyncFileInfo,
  decodeSyncMergeData,
  encodeSyncFileInfo,
  encodeSyncMergeData,
  encodeSyncSetDeadline,
  SYNC_FENCE_INFO_SIZE,
  SYNC_FILE_INFO_SIZE,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_MERGE,
  SYNC_IOC_SET_DEADLINE,
  SYNC_MERGE_DATA_SIZE,
} from "../uapi/sync-file.js";
import { errnoOf, type Process } from "../vfs/process.js";
import { DmaFence } from "./dma-fence.js";
import { syncFileCreate } from "./sync-file.js";
import {
  BOOT_NS,
  buffer,
  createFence,
  exportSync,
  fileInfo,
  inc,
  pollOne,
  setup,
  testFence,
  timeline,
} from "./test-fixtures.js";

/** SYNC_IOC_MERGE: the merged fd. */
function merge(proc: Process, fd: number, fd2: number, name = "merged-name"): number {
  const arg = encodeSyncMergeData({ name, fd2 });
  expect(proc.ioctl(fd, SYNC_IOC_MERGE, arg)).toBe(0);
  return decodeSyncMergeData(arg).fence;
}

describe("uapi layouts", () => {
  it("request codes and struct sizes are the x86-64 ones", () => {
    expect([SYNC_IOC_MERGE, SYNC_IOC_FILE_INFO, SYNC_IOC_SET_DEADLINE]).toEqual([
      0xc0303e03, 0xc0383e04, 0x40103e05,
    ]);
    expect([SYNC_MERGE_DATA_SIZE, SYNC_FILE_INFO_SIZE, SYNC_FENCE_INFO_SIZE]).toEqual([48, 56, 80]);
    const arg = encodeSyncMergeData({ name: "n", fd2: 7, fence: -1, flags: 2, pad: 3 });
    expect([...arg.subarray(32)]).toEqual([7, 0, 0, 0, 255, 255, 255, 255, 2, 0, 0, 0, 3, 0, 0, 0]);
    expect(decodeSyncMergeData(arg)).toEqual({ name: "n", fd2: 7, fence: -1, flags: 2, pad: 3 });
    const info = encodeSyncFileInfo({ numFences: 2 });
    expect(info.length).toBe(56 + 160);
    expect(decodeSyncFileInfo(info)).toMatchObject({ numFences: 2, syncFenceInfo: 56n });
  });
});

describe("SYNC_IOC_FILE_INFO", () => {
  it("with num_fences 0 only counts, and reports the fence's own status", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const a = createFence(proc, tl, 1);
    const b = createFence(proc, timeline(proc), 1);
    const m = merge(proc, a, b);
    const arg = encodeSyncFileInfo({ numFences: 0, syncFenceInfo: 0n });
    expect(proc.ioctl(m, SYNC_IOC_FILE_INFO, arg)).toBe(0);
    expect(decodeSyncFileInfo(arg)).toMatchObject({ name: "merged-name", status: 0, numFences: 2 });
    inc(proc, tl, 1);
    expect(fileInfo(proc, m, 2).status).toBe(0);
  });

  it("the status is the first non-positive leaf status, else 1", () => {
    const { proc } = setup();
    const tl1 = timeline(proc);
    const tl2 = timeline(proc);
    const m = merge(proc, createFence(proc, tl1, 1), createFence(proc, tl2, 1));
    inc(proc, tl1, 1);
    expect(fileInfo(proc, m, 2)).toMatchObject({
      status: 0,
      fences: [{ status: 1 }, { status: 0 }],
    });
    proc.close(tl2);
    expect(fileInfo(proc, m, 2)).toMatchObject({
      status: -2,
      fences: [{ status: 1 }, { status: -2 }],
    });
  });

  it("checks flags, pad, room and where the array points", () => {
    const { proc } = setup();
    const m = merge(
      proc,
      createFence(proc, timeline(proc), 1),
      createFence(proc, timeline(proc), 1),
    );
    const cases: [string, Uint8Array | null, string][] = [
      ["NULL", null, "EFAULT"],
      ["short", new Uint8Array(55), "EFAULT"],
      ["flags", encodeSyncFileInfo({ numFences: 2, flags: 1 }), "EINVAL"],
      ["pad", encodeSyncFileInfo({ numFences: 2, pad: 1 }), "EINVAL"],
      ["room for 1 of 2", encodeSyncFileInfo({ numFences: 1 }), "EINVAL"],
      ["NULL array", encodeSyncFileInfo({ numFences: 2, syncFenceInfo: 0n }), "EFAULT"],
      ["array past the end", encodeSyncFileInfo({ numFences: 2, syncFenceInfo: 57n }), "EFAULT"],
    ];
    for (const [name, arg, errno] of cases) {
      const before = arg ? [...arg] : null;
      expect([name, errnoOf(() => proc.ioctl(m, SYNC_IOC_FILE_INFO, arg))]).toEqual([name, errno]);
      if (arg) expect([...arg]).toEqual(before);
    }
  });

  it("cuts names to 31 bytes", () => {
    const { kernel } = setup();
    const proc = kernel.spawn({ name: "fifteen-chars-x" });
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 2000000000);
    expect(fileInfo(proc, fd).name).toBe("sw_sync-fifteen-chars-x1-200000");
  });
});

describe("SYNC_IOC_MERGE", () => {
  it("keeps only the later fence of a shared context (observed: 7 and 9 give 1 fence)", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const seven = createFence(proc, tl, 7);
    const nine = createFence(proc, tl, 9);
    const m = merge(proc, seven, nine);
    expect(proc.isCloexec(m)).toBe(true);
    expect(fileInfo(proc, m)).toMatchObject({ name: "merged-name", numFences: 1, status: 0 });
    inc(proc, tl, 7);
    expect(pollOne(proc, m, POLLIN)).toEqual([0, 0]);
    inc(proc, tl, 2);
    expect(pollOne(proc, m, POLLIN)).toEqual([1, POLLIN]);
  });

  it("fences of two timelines become an array on a fresh context, named by default if unnamed", () => {
    const { kernel, proc } = setup();
    const a = createFence(proc, timeline(proc), 1);
    const b = createFence(proc, timeline(proc), 2);
    const m = merge(proc, b, a, "");
    const info = fileInfo(proc, m, 2);
    expect(info.name).toBe("dma_fence_array-unbound3-1");
    expect(info.fences.map((f) => f.objName)).toEqual(["probe", "probe"]);
    expect(kernel.fences.contextAlloc(1)).toBe(4);
  });

  it("all leaves signalled: the stub fence", () => {
    const { proc } = setup("6.1");
    const tl = timeline(proc);
    const m = merge(proc, createFence(proc, tl, 0), createFence(proc, tl, 0), "");
    expect(fileInfo(proc, m)).toMatchObject({
      name: "stub-stub0-0",
      status: 1,
      fences: [{ objName: "stub", driverName: "stub", timestampNs: BigInt(BOOT_NS) }],
    });
  });

  it("a name of 32 bytes keeps 31", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const m = merge(proc, createFence(proc, tl, 1), createFence(proc, tl, 1), "x".repeat(40));
    expect(fileInfo(proc, m).name).toBe("x".repeat(31));
  });

  it("errnos: EMFILE first, then EFAULT, EINVAL (flags, pad), ENOENT (fd2)", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 1);
    const buf = buffer(kernel, proc);
    const cases: [string, Uint8Array | null, string][] = [
      ["NULL", null, "EFAULT"],
      ["flags", encodeSyncMergeData({ fd2: fd, flags: 1 }), "EINVAL"],
      ["pad", encodeSyncMergeData({ fd2: fd, pad: 1 }), "EINVAL"],
      ["fd2 -1", encodeSyncMergeData({ fd2: -1 }), "ENOENT"],
      ["fd2 a dma-buf", encodeSyncMergeData({ fd2: buf }), "ENOENT"],
      ["fd2 closed", encodeSyncMergeData({ fd2: 99 }), "ENOENT"],
    ];
    const before = kernel.snapshot();
    for (const [name, arg, errno] of cases) {
      expect([name, errnoOf(() => proc.ioctl(fd, SYNC_IOC_MERGE, arg))]).toEqual([name, errno]);
    }
    expect(kernel.snapshot()).toEqual(before);
    proc.rlimitNofile = proc.fds().length;
    expect(errnoOf(() => proc.ioctl(fd, SYNC_IOC_MERGE, null))).toBe("EMFILE");
  });
});

describe("SYNC_IOC_SET_DEADLINE", () => {
  it("6.18: pad must be 0; the hint reaches a pending fence's implementation", () => {
    const { kernel, proc } = setup();
    const seen: number[] = [];
    const ops = {
      getDriverName: () => "d",
      getTimelineName: () => "t",
      setDeadline: (_f: unknown, d: number) => seen.push(d),
    };
    const f = new DmaFence(kernel.fences, ops, kernel.fences.contextAlloc(1), 1);
    const sync = syncFileCreate(kernel.fences, f);
    const fd = proc.installFd(sync.file, 0);
    expect(errnoOf(() => proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, null))).toBe("EFAULT");
    const bad = encodeSyncSetDeadline({ deadlineNs: 5n, pad: 1n });
    expect(errnoOf(() => proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, bad))).toBe("EINVAL");
    proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, encodeSyncSetDeadline({ deadlineNs: 123n }));
    f.signal();
    proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, encodeSyncSetDeadline({ deadlineNs: 456n }));
    expect(seen).toEqual([123]);
  });

  it("6.1 does not know it: ENOTTY", () => {
    const { proc } = setup("6.1");
    const fd = createFence(proc, timeline(proc), 1);
    const arg = encodeSyncSetDeadline({ deadlineNs: 1n });
    expect(errnoOf(() => proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, arg))).toBe("ENOTTY");
  });
});

describe("poll and references", () => {
  it("POLLIN (only) once the fence has signalled, with or without an error", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 1);
    expect(pollOne(proc, fd, POLLIN | POLLOUT)).toEqual([0, 0]);
    kernel.clock.schedule(2_000_000, () => inc(proc, tl, 1));
    expect(pollOne(proc, fd, POLLIN | POLLOUT, 5)).toEqual([1, POLLIN]);
    expect(kernel.clock.now).toBe(BOOT_NS + 2_000_000);
    expect(pollOne(proc, fd, POLLOUT)).toEqual([0, 0]);
  });

  it("a sync_file holds one fence reference, dropped (with its poll callback) at close", () => {
    const { kernel, proc } = setup();
    const f = testFence(kernel);
    const sync = syncFileCreate(kernel.fences, f);
    expect(f.refCount).toBe(2);
    const fd = proc.installFd(sync.file, 0);
    pollOne(proc, fd, POLLIN);
    proc.close(fd);
    expect(f.refCount).toBe(1);
    f.put();
    expect(f.refCount).toBe(0);
  });

  it("6.18: an export of a buffer without fences is the stub, under its detached names", () => {
    const { kernel, proc } = setup();
    const fd = exportSync(proc, buffer(kernel, proc), DMA_BUF_SYNC_READ);
    expect(fileInfo(proc, fd)).toMatchObject({
      name: "detached-driver-signaled-timeli", // "detached-driver-signaled-timeline0-0", cut to 31
      status: 1,
      fences: [{ objName: "signaled-timeline", driverName: "detached-driver", status: 1 }],
    });
    expect(pollOne(proc, fd, POLLIN)).toEqual([1, POLLIN]);
  });
});
