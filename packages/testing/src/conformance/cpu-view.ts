// The CPU's view of a buffer for the suites: through mmap() with SYNC, or through vmap.

import {
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaBuf,
  type Process,
  withCpuAccess,
} from "@dmabuf/core";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import type { ExporterCapabilities } from "./capabilities.js";
import { readBack } from "./scratch.js";
import type { ExporterSession } from "./session.js";

/** A buffer and the fd of it that `proc` holds. */
export interface BufferFd {
  /** The buffer. */
  readonly buf: DmaBuf;
  /** An fd of it in `proc`. */
  readonly fd: number;
}

/**
 * Writes `bytes` at `offset` from the CPU: through a shared mapping of the fd bracketed by
 * SYNC when the exporter can mmap, else through a vmap bracketed by begin/endCpuAccess.
 */
export function cpuWrite(
  s: ExporterSession,
  caps: ExporterCapabilities,
  b: BufferFd,
  offset: number,
  bytes: Uint8Array,
  proc: Process = s.proc,
): void {
  if (caps.mmap) {
    const m = proc.mmap(b.fd, b.buf.size, PROT_READ | PROT_WRITE, MAP_SHARED);
    try {
      withCpuAccess(proc, b.fd, "write", () => m.write(offset, bytes));
    } finally {
      proc.munmap(m);
    }
    return;
  }
  const core = s.kernel.dmaBuf;
  if (caps.cpuAccess) core.beginCpuAccess(b.buf, DMA_TO_DEVICE);
  const map = core.vmap(b.buf);
  try {
    map.write(offset, bytes);
  } finally {
    core.vunmap(b.buf, map);
    if (caps.cpuAccess) core.endCpuAccess(b.buf, DMA_TO_DEVICE);
  }
}

/**
 * Reads `length` bytes at `offset` from the CPU (mmap with SYNC, else vmap), into the start
 * of `into` when given (else a new array; a vmap that ignores `into` returns its own).
 */
export function cpuRead(
  s: ExporterSession,
  caps: ExporterCapabilities,
  b: BufferFd,
  offset = 0,
  length = b.buf.size - offset,
  proc: Process = s.proc,
  into?: Uint8Array,
): Uint8Array {
  if (caps.mmap) {
    const m = proc.mmap(b.fd, b.buf.size, PROT_READ, MAP_SHARED);
    try {
      return withCpuAccess(proc, b.fd, "read", () => m.read(offset, length, into));
    } finally {
      proc.munmap(m);
    }
  }
  const core = s.kernel.dmaBuf;
  if (caps.cpuAccess) core.beginCpuAccess(b.buf, DMA_FROM_DEVICE);
  const map = core.vmap(b.buf);
  try {
    return map.read(offset, length, into);
  } finally {
    core.vunmap(b.buf, map);
    if (caps.cpuAccess) core.endCpuAccess(b.buf, DMA_FROM_DEVICE);
  }
}

/**
 * The whole buffer as the CPU reads it ({@link cpuRead}), into the read-back scratch: valid
 * until the next read-back, so compare it at once.
 */
export function cpuReadBack(
  s: ExporterSession,
  caps: ExporterCapabilities,
  b: BufferFd,
): Uint8Array {
  const whole = b.buf.size;
  return cpuRead(s, caps, b, 0, whole, s.proc, readBack.take(whole));
}
