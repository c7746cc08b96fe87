// struct fdtable: a process's open-file slots, numbered from 0, with close-on-exec bits.

import { KernelError } from "../errors/kernel-error.js";
import { O_CLOEXEC } from "../uapi/fcntl.js";
import type { File } from "./file.js";

/** One slot of the fd table. */
export interface FdEntry {
  /** The open file (the slot holds one reference). */
  file: File;
  /** FD_CLOEXEC. */
  cloexec: boolean;
}

/**
 * The fd table of one process. Lookups by number are O(1); the slot {@link FdTable.lowestFree}
 * returns is found from a hint, not by scanning from 0.
 */
export class FdTable {
  /** RLIMIT_NOFILE: fds are numbered below this. */
  rlimitNofile = 1024;
  readonly #fds: (FdEntry | undefined)[] = [];

  /** Open fds in ascending order. */
  fds(): number[] {
    const out: number[] = [];
    this.#fds.forEach((e, fd) => {
      if (e) out.push(fd);
    });
    return out;
  }

  /** The slot of `fd`, if open. */
  entry(fd: number): FdEntry | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.#fds[fd] : undefined;
  }

  /**
   * The file behind an fd (`fget` without a reference).
   * @throws KernelError EBADF when the fd is not open.
   */
  fileOf(fd: number, syscall: string): File {
    const e = this.entry(fd);
    if (!e) throw new KernelError("EBADF", syscall, `fd ${fd} is not open`);
    return e.file;
  }

  /**
   * The lowest free fd (`get_unused_fd_flags`).
   * @throws KernelError EMFILE when every fd below RLIMIT_NOFILE is in use.
   */
  lowestFree(syscall: string): number {
    for (let fd = 0; fd < this.rlimitNofile; fd++) if (!this.#fds[fd]) return fd;
    throw new KernelError("EMFILE", syscall);
  }

  /** Fills slot `fd` (`fd_install`); the caller's reference moves into the table. */
  install(fd: number, file: File, flags: number): void {
    this.#fds[fd] = { file, cloexec: (flags & O_CLOEXEC) !== 0 };
  }

  /** Empties slot `fd` and returns its file; the slot's reference is now the caller's. */
  remove(fd: number): File | undefined {
    const e = this.#fds[fd];
    this.#fds[fd] = undefined;
    return e?.file;
  }
}
