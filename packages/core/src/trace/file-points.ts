// Trace points of the fd table and the address space, for files that are dma-bufs.

import { DMA_BUF_MAGIC } from "../uapi/dma-buf.js";
import type { File } from "../vfs/file.js";
import type { TraceRecorder } from "./recorder.js";

/** Records an fd of a dma-buf installed or closed; other files are not traced. */
export function traceFd(
  trace: TraceRecorder,
  kind: "fd-install" | "fd-close",
  fd: number,
  file: File,
): void {
  if (file.identity.fsMagic === DMA_BUF_MAGIC) trace.emit(kind, { buf: file.inode.ino, fd });
}

/** Records a user mapping of a dma-buf made or removed; other files are not traced. */
export function traceMmap(
  trace: TraceRecorder,
  kind: "mmap" | "munmap",
  file: File,
  address: number,
  bytes: number,
): void {
  if (file.identity.fsMagic === DMA_BUF_MAGIC) {
    trace.emit(kind, { buf: file.inode.ino, iova: address, bytes });
  }
}
