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

/** Index of the lowest clear bit of a 32-bit word that has one. */
function lowestClearBit(word: number): number {
  const bit = ~word & (word + 1);
  return 31 - Math.clz32(bit);
}

/**
 * The fd table of one process. Lookups by number are O(1); the lowest free fd comes from a
 * two-level bitmap (`open_fds` and `full_fds_bits`) and a `next_fd` hint, as in Linux, so its
 * cost does not grow with the number of open fds.
 */
export class FdTable {
  /** RLIMIT_NOFILE: fds are numbered below this. */
  rlimitNofile = 1024;
  readonly #fds: (FdEntry | undefined)[] = [];
  /** One bit per fd: open. */
  #open = new Uint32Array(2);
  /** One bit per word of `#open`: that word is full. */
  #full = new Uint32Array(1);
  /** No fd below this is free (`next_fd`). */
  #next = 0;
  #count = 0;

  /** How many fds are open. */
  get count(): number {
    return this.#count;
  }

  /** Open fds in ascending order. */
  fds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.#fds.length; fd++) if (this.#fds[fd]) out.push(fd);
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
    const fd = this.#findFree(this.#next);
    if (fd >= this.rlimitNofile) throw new KernelError("EMFILE", syscall);
    this.#next = fd;
    return fd;
  }

  /** The lowest fd at or above `from` whose bit is clear (may be past the bitmap's end). */
  #findFree(from: number): number {
    let word = from >>> 5;
    const open = this.#open;
    if (word >= open.length) return from;
    const first = open[word] as number;
    const masked = first | ((1 << (from & 31)) - 1);
    if (masked >>> 0 !== 0xffffffff) return word * 32 + lowestClearBit(masked);
    // Skip full words 32 at a time through the second level.
    word++;
    const full = this.#full;
    for (let fw = word >>> 5; fw < full.length; fw++) {
      let bits = full[fw] as number;
      if (fw === word >>> 5) bits |= (1 << (word & 31)) - 1;
      if (bits >>> 0 === 0xffffffff) continue;
      const w = fw * 32 + lowestClearBit(bits);
      if (w >= open.length) return open.length * 32;
      return w * 32 + lowestClearBit(open[w] as number);
    }
    return open.length * 32;
  }

  #grow(fd: number): void {
    let n = this.#open.length;
    while (n * 32 <= fd) n *= 2;
    const open = new Uint32Array(n);
    open.set(this.#open);
    this.#open = open;
    const full = new Uint32Array(Math.ceil(n / 32));
    full.set(this.#full);
    this.#full = full;
  }

  /** Fills slot `fd` (`fd_install`); the caller's reference moves into the table. */
  install(fd: number, file: File, flags: number): void {
    if (!this.#fds[fd]) {
      if (fd >>> 5 >= this.#open.length) this.#grow(fd);
      const w = fd >>> 5;
      const v = ((this.#open[w] as number) | (1 << (fd & 31))) >>> 0;
      this.#open[w] = v;
      if (v === 0xffffffff) this.#full[w >>> 5] = (this.#full[w >>> 5] as number) | (1 << (w & 31));
      this.#count++;
      if (fd === this.#next) this.#next = fd + 1;
    }
    this.#fds[fd] = { file, cloexec: (flags & O_CLOEXEC) !== 0 };
  }

  /** Empties slot `fd` and returns its file; the slot's reference is now the caller's. */
  remove(fd: number): File | undefined {
    const e = this.#fds[fd];
    if (!e) return undefined;
    this.#fds[fd] = undefined;
    const w = fd >>> 5;
    this.#open[w] = (this.#open[w] as number) & ~(1 << (fd & 31));
    this.#full[w >>> 5] = (this.#full[w >>> 5] as number) & ~(1 << (w & 31));
    this.#count--;
    if (fd < this.#next) this.#next = fd;
    return e.file;
  }
}
