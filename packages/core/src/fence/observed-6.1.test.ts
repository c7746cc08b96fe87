// Replays what a real Linux 6.1.176 kernel answered (linux-6.1-observed.json): the `fences`
// section (a sw_sync fence imported into two buffers, polled, synced, exported, signalled, and
// a timeline closed under a pending fence). Buffers come from the page exporter named "system";
// inode numbers are renumbered. The per-exporter sync_file sections replay on real buffers in
// packages/testing/src/oracle-dmabuf-fd.test.ts.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Kernel } from "../kernel.js";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_WRITE,
} from "../uapi/dma-buf.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import type { SyncFileInfo } from "../uapi/sync-file.js";
import { errnoOf, type Process } from "../vfs/process.js";
import {
  buffer,
  createFence,
  exportSync,
  fileInfo,
  importSync,
  inc,
  pollOne,
  setup,
  sync,
  timeline,
} from "./test-fixtures.js";

const OBSERVED = new URL("../../../../fixtures/linux-6.1-observed.json", import.meta.url);

interface Outcome {
  ret: number;
  errno: string | null;
}
interface ObservedPoll extends Outcome {
  events: string[];
  timeout_ms: number;
  revents: string[];
  waited_full_timeout: boolean;
}
interface ObservedSync extends Outcome {
  blocked_until_signal: boolean;
}
interface ObservedInfo extends Outcome {
  name: string;
  status: number;
  flags: number;
  num_fences: number;
  fences: {
    obj_name: string;
    driver_name: string;
    status: number;
    flags: number;
    timestamp_nonzero: boolean;
  }[];
}
interface ObservedExport extends Outcome {
  info: ObservedInfo;
  exported_sync_fd_poll_in?: ObservedPoll;
}
interface Fences {
  supported: boolean;
  sw_sync_fence: Outcome & { sync_file_info_unsignalled: ObservedInfo };
  import_pending_as_read: Outcome;
  import_pending_as_write: Outcome;
  buffer_with_pending_read_fence: {
    poll_in: ObservedPoll;
    poll_out: ObservedPoll;
    poll_in_out: ObservedPoll;
    sync_read_start: ObservedSync;
    sync_write_start: ObservedSync;
    sync_rw_end: ObservedSync;
    export_read: ObservedExport;
    export_write: ObservedExport;
    cpu_access_through_mmap_while_pending: { ok: boolean; errno: string | null };
  };
  buffer_with_pending_write_fence: {
    poll_in: ObservedPoll;
    poll_out: ObservedPoll;
    poll_in_timeout_200ms: ObservedPoll;
    sync_read_start: ObservedSync;
    export_read: ObservedExport;
  };
  bufinfo_with_pending_fences: string;
  signal_timeline: Outcome;
  after_signal: {
    fence_info: ObservedInfo;
    read_fenced_poll_in_out: ObservedPoll;
    write_fenced_poll_in_out: ObservedPoll;
    sync_rw_start_write_fenced: ObservedSync;
    bufinfo_after_signal: string;
  };
  timeline_closed_with_pending_fence: Outcome & {
    fence_info_after_timeline_close: ObservedInfo;
    dmabuf_poll_in_out: ObservedPoll;
  };
}
const observed = JSON.parse(readFileSync(OBSERVED, "utf8")) as { fences: Fences };
const fences = observed.fences;

const POLL_BITS: Record<string, number> = { POLLIN, POLLOUT };
const bits = (names: string[]): number => names.reduce((m, n) => m | (POLL_BITS[n] ?? 0), 0);

/** What FILE_INFO tells, in the shape the probe recorded. */
function asObserved(info: SyncFileInfo): Omit<ObservedInfo, "ret" | "errno"> {
  return {
    name: info.name,
    status: info.status,
    flags: info.flags,
    num_fences: info.numFences,
    fences: info.fences.map((f) => ({
      obj_name: f.objName,
      driver_name: f.driverName,
      status: f.status,
      flags: f.flags,
      timestamp_nonzero: f.timestampNs !== 0n,
    })),
  };
}

function expectInfo(proc: Process, fd: number, want: ObservedInfo): void {
  const { ret: _ret, errno: _errno, ...rest } = want;
  expect(asObserved(fileInfo(proc, fd))).toEqual(rest);
}

function expectPoll(kernel: Kernel, proc: Process, fd: number, want: ObservedPoll): void {
  const before = kernel.clock.now;
  const [ret, revents] = pollOne(proc, fd, bits(want.events), want.timeout_ms);
  expect([ret, revents]).toEqual([want.ret, bits(want.revents)]);
  expect(kernel.clock.now - before).toBe(want.waited_full_timeout ? want.timeout_ms * 1e6 : 0);
}

/** A SYNC ioctl: the model reports a wait nothing can end as EINTR, without running time. */
function expectSync(kernel: Kernel, proc: Process, fd: number, flags: number, want: ObservedSync) {
  const before = kernel.clock.now;
  expect(errnoOf(() => sync(proc, fd, flags))).toBe(want.errno);
  expect(want.errno === "EINTR").toBe(want.blocked_until_signal);
  expect(kernel.clock.now).toBe(before);
}

/** Renumbers the probe's inode column (observed → model). */
function renumber(text: string, inos: Record<string, number>): string {
  return text.replace(
    /^(\d{8}\t[0-9a-f]{8}\t[0-9a-f]{8}\t\d{8}\tsystem\t)(\d{8})/gm,
    (_m, head: string, ino: string) => head + String(inos[String(Number(ino))]).padStart(8, "0"),
  );
}

describe("observed fences (6.1.176): a sw_sync fence imported into two buffers", () => {
  it("is supported", () => {
    expect(fences.supported).toBe(true);
  });

  it("replays the whole sequence", () => {
    const { kernel, proc } = setup("6.1");
    const tl = timeline(proc);
    const fence = createFence(proc, tl, 1);
    expect(fence).toBeGreaterThanOrEqual(0);
    expect(fences.sw_sync_fence.errno).toBeNull();
    expectInfo(proc, fence, fences.sw_sync_fence.sync_file_info_unsignalled);

    const readBuf = buffer(kernel, proc);
    const writeBuf = buffer(kernel, proc);
    expect(errnoOf(() => importSync(proc, readBuf, fence, DMA_BUF_SYNC_READ))).toBe(
      fences.import_pending_as_read.errno,
    );
    expect(errnoOf(() => importSync(proc, writeBuf, fence, DMA_BUF_SYNC_WRITE))).toBe(
      fences.import_pending_as_write.errno,
    );

    // A buffer with a pending READ fence: readers go, writers wait.
    const r = fences.buffer_with_pending_read_fence;
    expectPoll(kernel, proc, readBuf, r.poll_in);
    expectPoll(kernel, proc, readBuf, r.poll_out);
    expectPoll(kernel, proc, readBuf, r.poll_in_out);
    expectSync(kernel, proc, readBuf, DMA_BUF_SYNC_READ, r.sync_read_start);
    expectSync(kernel, proc, readBuf, DMA_BUF_SYNC_WRITE, r.sync_write_start);
    expectSync(kernel, proc, readBuf, DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END, r.sync_rw_end);
    for (const [flags, want] of [
      [DMA_BUF_SYNC_READ, r.export_read],
      [DMA_BUF_SYNC_WRITE, r.export_write],
    ] as const) {
      const fd = exportSync(proc, readBuf, flags);
      expectInfo(proc, fd, want.info);
      proc.close(fd);
    }
    const map = proc.mmap(readBuf, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
    map.write(0, new Uint8Array([1, 2, 3]));
    expect(map.read(0, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(r.cpu_access_through_mmap_while_pending).toMatchObject({ ok: true, errno: null });
    proc.munmap(map);

    // A buffer with a pending WRITE fence: nobody goes.
    const w = fences.buffer_with_pending_write_fence;
    expectPoll(kernel, proc, writeBuf, w.poll_in);
    expectPoll(kernel, proc, writeBuf, w.poll_out);
    expectPoll(kernel, proc, writeBuf, w.poll_in_timeout_200ms);
    expectSync(kernel, proc, writeBuf, DMA_BUF_SYNC_READ, w.sync_read_start);
    const exported = exportSync(proc, writeBuf, DMA_BUF_SYNC_READ);
    expectInfo(proc, exported, w.export_read.info);
    expectPoll(kernel, proc, exported, w.export_read.exported_sync_fd_poll_in as ObservedPoll);
    proc.close(exported);

    // Armed poll callbacks hold file references: counts 3 (IN and OUT armed) and 2 (OUT).
    const inoOf = (fd: number): number => kernel.dmaBuf.fromFile(proc.fileOf(fd))?.ino ?? -1;
    const inos = { "101": inoOf(readBuf), "102": inoOf(writeBuf) };
    const bufinfo = "/sys/kernel/debug/dma_buf/bufinfo";
    expect(proc.readFile(bufinfo)).toBe(renumber(fences.bufinfo_with_pending_fences, inos));

    // Signalling the timeline releases everything.
    expect(errnoOf(() => inc(proc, tl, 1))).toBe(fences.signal_timeline.errno);
    const a = fences.after_signal;
    expectInfo(proc, fence, a.fence_info);
    expectPoll(kernel, proc, readBuf, a.read_fenced_poll_in_out);
    expectPoll(kernel, proc, writeBuf, a.write_fenced_poll_in_out);
    expectSync(kernel, proc, writeBuf, DMA_BUF_SYNC_RW, a.sync_rw_start_write_fenced);
    expect(proc.readFile(bufinfo)).toBe(renumber(a.bufinfo_after_signal, inos));

    // Closing the timeline errors its pending fence with -ENOENT.
    const c = fences.timeline_closed_with_pending_fence;
    const pending = createFence(proc, tl, 5);
    importSync(proc, writeBuf, pending, DMA_BUF_SYNC_WRITE);
    expect(pollOne(proc, writeBuf, POLLIN | POLLOUT)).toEqual([0, 0]);
    expect(errnoOf(() => proc.close(tl))).toBe(c.errno);
    expectInfo(proc, pending, c.fence_info_after_timeline_close);
    expectPoll(kernel, proc, writeBuf, c.dmabuf_poll_in_out);
  });
});
