// struct file and struct file_operations: an open file, its refcount and its methods.

import { KernelBug } from "../errors/kernel-bug.js";
import type { Vma } from "../mm/vma.js";
import type { Inode } from "./inode.js";
import type { Process } from "./process.js";
import type { TextBytes } from "./text-bytes.js";

/**
 * The argument of an ioctl as user space passes it: the C struct's bytes (read and written
 * back in place), a string (for DMA_BUF_SET_NAME), or `null` for a NULL pointer (EFAULT).
 */
export type IoctlArg = Uint8Array | string | null;

/**
 * The methods of an open file (`struct file_operations`). Every member is optional; the VFS
 * supplies Linux's default behaviour for a missing one.
 */
export interface FileOperations {
  /**
   * Reposition the file offset. Called by lseek(). **Optional**: without it a seekable file
   * moves `pos` generically and a non-seekable one fails with ESPIPE.
   * @throws KernelError EINVAL for an offset or whence the file refuses.
   */
  llseek?(file: File, offset: number, whence: number): number;
  /**
   * Read up to `count` bytes at the file position. Called by read(). **Optional**: without it
   * read() fails with EINVAL.
   */
  read?(file: File, count: number): Uint8Array;
  /** Write bytes at the file position. Called by write(). **Optional** (EINVAL without it). */
  write?(file: File, bytes: Uint8Array): number;
  /**
   * Set the file's size. Called by ftruncate() after the VFS checks (length not negative, file
   * open for writing). **Optional**: without it ftruncate() fails with EINVAL, as for anything
   * that is not a regular file.
   * @throws KernelError EPERM when a seal forbids the change; EINVAL for a size the
   * filesystem refuses.
   */
  truncate?(file: File, length: number): void;
  /**
   * Allocate (mode 0 or FALLOC_FL_KEEP_SIZE) or punch out (FALLOC_FL_PUNCH_HOLE |
   * FALLOC_FL_KEEP_SIZE) a byte range. Called by fallocate() after the VFS checks (offset and
   * length, mode, write access, regular file). **Optional**: without it fallocate() fails with
   * EOPNOTSUPP.
   * @throws KernelError EPERM when a seal forbids it; ENOMEM or ENOSPC when pages run out.
   */
  fallocate?(file: File, mode: number, offset: number, length: number): void;
  /**
   * Handle an ioctl. Called by ioctl() for every request. **Optional**: without it ioctl()
   * fails with ENOTTY.
   * @returns the ioctl's return value (0 or a new fd)
   */
  ioctl?(file: File, cmd: number, arg: IoctlArg, proc: Process): number;
  /**
   * Set up a new mapping of the file. Called by mmap() after the VFS checks (length, offset,
   * access mode). **Optional**: without it mmap() fails with ENODEV.
   */
  mmap?(file: File, vma: Vma): void;
  /**
   * Report ready events. Called by poll(). **Optional**: without it the file is always ready
   * for reading and writing (DEFAULT_POLLMASK).
   */
  poll?(file: File, events: number): number;
  /** Extra lines of /proc/PID/fdinfo/FD. **Optional**. */
  showFdinfo?(file: File): TextBytes;
  /** Called once when the last reference to the file is dropped. **Optional**. */
  release?(file: File): void;
}

/** Where a file's path and mount come from. */
export interface FileIdentity {
  /** The path /proc/PID/fd/N and /proc/PID/maps show (rendered on demand). */
  path(): string;
  /** The mount id fdinfo reports. */
  readonly mntId: number;
  /** The filesystem's magic number, as fstatfs reports it (f_type). */
  readonly fsMagic: number;
}

/**
 * Something that watches a file without holding a reference to it (an epoll item): told when
 * the file's last reference goes, before the file's release method runs (`eventpoll_release`).
 */
export interface FileWatch {
  /** The watched file is going away; drop every pointer to it. */
  fileReleased(file: File): void;
}

/** Bookkeeping a kernel keeps of its live files (for leak accounting). */
export interface FileTable {
  /** Called when a file is created. */
  add(file: File): void;
  /** Called when a file's last reference is gone. */
  delete(file: File): void;
}

/**
 * An open file. Its reference count is what keeps it (and, for a dma-buf, the buffer) alive:
 * every fd, every mapping and every in-kernel reference holds one.
 */
export class File {
  /** File status flags (O_ACCMODE, O_NONBLOCK, …), never O_CLOEXEC. */
  fFlags: number;
  /** FMODE_* bits. */
  fMode: number;
  /** The file position. */
  pos = 0;
  /** Driver-private data (`file->private_data`). */
  privateData: unknown;
  #refs = 1;
  readonly #table: FileTable;
  /** Watchers holding no reference (epoll items); created on first use. */
  watches: Set<FileWatch> | undefined;

  /**
   * @param inode - the inode the file opens
   * @param fops - its methods
   * @param identity - path and mount
   * @param fFlags - file status flags
   * @param fMode - FMODE_* bits
   * @param table - the kernel's live-file table
   */
  constructor(
    readonly inode: Inode,
    readonly fops: FileOperations,
    readonly identity: FileIdentity,
    fFlags: number,
    fMode: number,
    table: FileTable,
  ) {
    this.fFlags = fFlags;
    this.fMode = fMode;
    this.#table = table;
    table.add(this);
  }

  /** The number of references held (fds, mappings, in-kernel holders). */
  get refCount(): number {
    return this.#refs;
  }

  /** Takes a reference (`get_file`). */
  get(): this {
    if (this.#refs <= 0)
      throw new KernelBug("FILE_REFCOUNT_UNDERFLOW", "get_file on a released file");
    this.#refs++;
    return this;
  }

  /** Drops a reference (`fput`); the last one runs the release method. */
  put(): void {
    if (this.#refs <= 0) throw new KernelBug("FILE_REFCOUNT_UNDERFLOW", "fput on a released file");
    if (--this.#refs === 0) {
      if (this.watches) for (const w of [...this.watches]) w.fileReleased(this);
      this.#table.delete(this);
      this.fops.release?.(this);
    }
  }
}
