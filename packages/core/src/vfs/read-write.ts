// fs/read_write.c: read, write, pread and pwrite of an open file after the fd lookup.

import { KernelError } from "../errors/kernel-error.js";
import { FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from "../uapi/fcntl.js";
import type { File } from "./file.js";

/**
 * read(2) of up to `count` bytes at the file position (`vfs_read`).
 * @throws KernelError EBADF (not open for reading), EINVAL (the file cannot be read).
 */
export function vfsRead(file: File, count: number): Uint8Array {
  if ((file.fMode & FMODE_READ) === 0) throw new KernelError("EBADF", "read");
  if (!file.fops.read) throw new KernelError("EINVAL", "read");
  return file.fops.read(file, count);
}

/**
 * write(2) at the file position (`vfs_write`).
 * @throws KernelError EBADF (not open for writing), EINVAL (the file cannot be written).
 */
export function vfsWrite(file: File, bytes: Uint8Array): number {
  if ((file.fMode & FMODE_WRITE) === 0) throw new KernelError("EBADF", "write");
  if (!file.fops.write) throw new KernelError("EINVAL", "write");
  return file.fops.write(file, bytes);
}

/**
 * pread(2): read at `offset` without moving the file position.
 * @throws KernelError EINVAL (negative offset, cannot be read); EBADF; ESPIPE.
 */
export function vfsPread(file: File, count: number, offset: number): Uint8Array {
  if ((file.fMode & FMODE_READ) === 0) throw new KernelError("EBADF", "pread64");
  if ((file.fMode & FMODE_PREAD) === 0) throw new KernelError("ESPIPE", "pread64");
  if (!file.fops.read) throw new KernelError("EINVAL", "pread64");
  const saved = file.pos;
  file.pos = offset;
  try {
    return file.fops.read(file, count);
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
  const saved = file.pos;
  file.pos = offset;
  try {
    return file.fops.write(file, bytes);
  } finally {
    file.pos = saved;
  }
}
