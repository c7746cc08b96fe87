// fs/read_write.c: read, write, pread and pwrite of an open file after the fd lookup.

import { KernelError } from "../errors/kernel-error.js";
import { FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from "../uapi/fcntl.js";
import type { File } from "./file.js";

/** The most one read or write transfers (`MAX_RW_COUNT`: INT_MAX rounded down to a page). */
export const MAX_RW_COUNT = 0x7ffff000;

/**
 * A byte count as `vfs_read` takes it (size_t): EINVAL when it is negative as ssize_t (or not
 * an integer), otherwise capped at MAX_RW_COUNT.
 */
function rwCount(count: number, syscall: string): number {
  if (!Number.isInteger(count) || count < 0) {
    throw new KernelError("EINVAL", syscall, `count ${count}`);
  }
  return Math.min(count, MAX_RW_COUNT);
}

/** The user buffer of a write: anything but bytes is a bad pointer (EFAULT), checked first. */
function userBytes(bytes: unknown, syscall: string): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new KernelError("EFAULT", syscall, "bad user buffer");
  return bytes;
}

/**
 * read(2) of up to `count` bytes at the file position (`vfs_read`).
 * @throws KernelError EBADF (not open for reading), EINVAL (the file cannot be read, or a
 * negative count). Counts above MAX_RW_COUNT are cut to it, as in Linux.
 */
export function vfsRead(file: File, count: number): Uint8Array {
  if ((file.fMode & FMODE_READ) === 0) throw new KernelError("EBADF", "read");
  if (!file.fops.read) throw new KernelError("EINVAL", "read");
  return file.fops.read(file, rwCount(count, "read"));
}

/**
 * write(2) at the file position (`vfs_write`).
 * @throws KernelError EBADF (not open for writing), EINVAL (the file cannot be written),
 * EFAULT (`bytes` is not a byte array: nothing is written, no page is touched).
 */
export function vfsWrite(file: File, bytes: Uint8Array): number {
  if ((file.fMode & FMODE_WRITE) === 0) throw new KernelError("EBADF", "write");
  if (!file.fops.write) throw new KernelError("EINVAL", "write");
  return file.fops.write(file, userBytes(bytes, "write"));
}

/**
 * pread(2): read at `offset` without moving the file position.
 * @throws KernelError EINVAL (negative offset or count, cannot be read); ESPIPE before EBADF.
 */
export function vfsPread(file: File, count: number, offset: number): Uint8Array {
  // ksys_pread64 refuses a file without positional reads before vfs_read checks the mode.
  if ((file.fMode & FMODE_PREAD) === 0) throw new KernelError("ESPIPE", "pread64");
  if ((file.fMode & FMODE_READ) === 0) throw new KernelError("EBADF", "pread64");
  if (!file.fops.read) throw new KernelError("EINVAL", "pread64");
  const n = rwCount(count, "pread64");
  const saved = file.pos;
  file.pos = offset;
  try {
    return file.fops.read(file, n);
  } finally {
    file.pos = saved;
  }
}

/**
 * pwrite(2): write at `offset` without moving the file position.
 * @throws KernelError EINVAL; EBADF; ESPIPE; what the file's write method throws.
 */
export function vfsPwrite(file: File, bytes: Uint8Array, offset: number): number {
  if ((file.fMode & FMODE_PWRITE) === 0) throw new KernelError("ESPIPE", "pwrite64");
  if ((file.fMode & FMODE_WRITE) === 0) throw new KernelError("EBADF", "pwrite64");
  if (!file.fops.write) throw new KernelError("EINVAL", "pwrite64");
  const data = userBytes(bytes, "pwrite64");
  const saved = file.pos;
  file.pos = offset;
  try {
    return file.fops.write(file, data);
  } finally {
    file.pos = saved;
  }
}
