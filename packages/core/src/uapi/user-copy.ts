// copy_from_user and strndup_user: reading the bytes user space passes to a syscall.

import { KernelError } from "../errors/kernel-error.js";
import type { IoctlArg } from "../vfs/file.js";

/**
 * Reads `size` bytes of an ioctl argument (`copy_from_user`).
 * @throws KernelError EFAULT for a NULL pointer or a too-short buffer.
 */
export function copyFromUser(arg: IoctlArg, size: number, syscall: string): Uint8Array {
  if (!(arg instanceof Uint8Array) || arg.length < size) {
    throw new KernelError("EFAULT", syscall, "bad user pointer");
  }
  return arg.subarray(0, size);
}

/**
 * Reads a NUL-terminated user string of at most `max` bytes including the NUL
 * (`strndup_user`): its bytes, verbatim, without the NUL. A JS string stands for its UTF-8
 * bytes.
 * @throws KernelError EFAULT (NULL or not a user buffer, or bytes end before a NUL); EINVAL
 * (longer than `max`).
 */
export function strndupUser(arg: IoctlArg, max: number, syscall: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof arg === "string") {
    const nul = arg.indexOf("\0");
    bytes = new TextEncoder().encode(nul >= 0 ? arg.slice(0, nul) : arg);
    if (bytes.length + 1 > max) throw new KernelError("EINVAL", syscall, "string too long");
    return bytes;
  }
  if (!(arg instanceof Uint8Array)) throw new KernelError("EFAULT", syscall, "bad user pointer");
  const limit = Math.min(arg.length, max);
  const nul = arg.subarray(0, limit).indexOf(0);
  if (nul < 0) {
    if (arg.length >= max) throw new KernelError("EINVAL", syscall, "string too long");
    throw new KernelError("EFAULT", syscall, "string not terminated");
  }
  return arg.slice(0, nul);
}
