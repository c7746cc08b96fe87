// Shared fixtures of the fence tests: kernels, test fences, and the sync-file ioctls as calls.

import { PageExporter } from "../examples/page-exporter.js";
import { createKernel, type Kernel } from "../kernel.js";
import type { KernelVersion } from "../profile.js";
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  decodeDmaBufSyncFile,
  encodeDmaBufSync,
  encodeDmaBufSyncFile,
} from "../uapi/dma-buf.js";
import { O_RDWR } from "../uapi/fcntl.js";
import {
  decodeSwSyncCreateFence,
  encodeSwSyncCreateFence,
  encodeSwSyncInc,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
} from "../uapi/sw-sync.js";
import {
  decodeSyncFileInfo,
  encodeSyncFileInfo,
  SYNC_IOC_FILE_INFO,
  type SyncFileInfo,
} from "../uapi/sync-file.js";
import type { PollFd, Process } from "../vfs/process.js";
import { DmaFence } from "./dma-fence.js";
import { SW_SYNC_PATH } from "./sw-sync.js";

/** Virtual time the tests let pass before they start, so that timestamps are non-zero. */
export const BOOT_NS = 1_897_000_000;

/** A kernel with the reference page exporter, its clock past boot, and a process "probe". */
export function setup(profile: KernelVersion = "6.18"): {
  kernel: Kernel;
  pages: PageExporter;
  proc: Process;
} {
  const kernel = createKernel({ ram: "16MiB", profile, plugins: [PageExporter] });
  kernel.clock.advance(BOOT_NS);
  return { kernel, pages: kernel.plugin(PageExporter), proc: kernel.spawn({ name: "probe" }) };
}

/** A one-page buffer from the page exporter, named like the system heap, at an fd of `proc`. */
export function buffer(kernel: Kernel, proc: Process, flags = O_RDWR): number {
  return kernel.dmaBuf.fd(kernel.plugin(PageExporter).create(4096, flags, "system"), proc, 0);
}

/** A plain test fence on a fresh context: driver `test`, timeline `tl`. */
export function testFence(kernel: Kernel, seqno: number | bigint = 1, context?: number): DmaFence {
  const ops = { getDriverName: () => "test", getTimelineName: () => "tl" };
  return new DmaFence(kernel.fences, ops, context ?? kernel.fences.contextAlloc(1), seqno);
}

/** Opens a sw_sync timeline. */
export function timeline(proc: Process): number {
  return proc.open(SW_SYNC_PATH, O_RDWR);
}

/** SW_SYNC_IOC_CREATE_FENCE: the new sync_file fd. */
export function createFence(proc: Process, tl: number, value: number): number {
  const arg = encodeSwSyncCreateFence({ value, name: "oracle-fence" });
  proc.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, arg);
  return decodeSwSyncCreateFence(arg).fence;
}

/** SW_SYNC_IOC_INC. */
export function inc(proc: Process, tl: number, increment: number): number {
  return proc.ioctl(tl, SW_SYNC_IOC_INC, encodeSwSyncInc(increment));
}

/** SYNC_IOC_FILE_INFO with room for `room` fences. */
export function fileInfo(proc: Process, fd: number, room = 1): SyncFileInfo {
  const arg = encodeSyncFileInfo({ numFences: room });
  proc.ioctl(fd, SYNC_IOC_FILE_INFO, arg);
  return decodeSyncFileInfo(arg);
}

/** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: the sync_file fd. */
export function exportSync(proc: Process, buf: number, flags: number): number {
  const arg = encodeDmaBufSyncFile({ flags, fd: -1 });
  proc.ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
  return decodeDmaBufSyncFile(arg).fd;
}

/** DMA_BUF_IOCTL_IMPORT_SYNC_FILE. */
export function importSync(proc: Process, buf: number, syncFd: number, flags: number): number {
  return proc.ioctl(
    buf,
    DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
    encodeDmaBufSyncFile({ flags, fd: syncFd }),
  );
}

/** DMA_BUF_IOCTL_SYNC with `flags`. */
export function sync(proc: Process, buf: number, flags: number): number {
  return proc.ioctl(buf, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(flags));
}

/** poll() of one fd: [return value, revents]. */
export function pollOne(
  proc: Process,
  fd: number,
  events: number,
  timeoutMs = 0,
): [number, number] {
  const fds: PollFd[] = [{ fd, events }];
  const ret = proc.poll(fds, timeoutMs);
  return [ret, fds[0]?.revents ?? 0];
}
