// KernelError: a failed syscall or in-kernel call, carrying the errno Linux returns for it.

import { ERRNO, type ErrnoCode } from "./errno.js";

/**
 * A failure with the errno Linux gives for it, shaped like Node's `SystemError`.
 *
 * @remarks
 * Every syscall-level failure in the model is a `KernelError`. The `code` is stable and is what
 * tests and callers should assert on; the message may change between releases. A failed call
 * leaves the kernel's state as it was (no leaked pages, files, references or mappings).
 *
 * @example
 * ```ts
 * try { proc.ioctl(fd, 0x6209, new Uint8Array(8)); }
 * catch (e) { if (e instanceof KernelError && e.code === "ENOTTY") { … } }
 * ```
 */
export class KernelError extends Error {
  /** Symbolic errno, e.g. `"EINVAL"`. */
  readonly code: ErrnoCode;
  /** Positive errno number, e.g. 22 for `EINVAL`. */
  readonly errno: number;
  /** The syscall or kernel function that failed, e.g. `"ioctl"` or `"dma_buf_export"`. */
  readonly syscall: string;

  /**
   * @param code - the errno name Linux returns
   * @param syscall - the failing syscall or kernel function
   * @param detail - optional words on why, appended to the message
   */
  constructor(code: ErrnoCode, syscall: string, detail?: string) {
    const entry = ERRNO[code];
    super(`${code}: ${entry.description}, ${syscall}${detail ? ` (${detail})` : ""}`);
    this.name = "KernelError";
    this.code = code;
    this.errno = entry.errno;
    this.syscall = syscall;
  }
}

/** True if `e` is a {@link KernelError}, optionally with the given code. */
export function isKernelError(e: unknown, code?: ErrnoCode): e is KernelError {
  return e instanceof KernelError && (code === undefined || e.code === code);
}
