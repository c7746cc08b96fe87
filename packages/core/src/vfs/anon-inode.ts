// fs/anon_inodes.c: files without a path that all share one inode (sync_file, …).

import { FMODE_OPENED, O_ACCMODE, O_NONBLOCK } from "../uapi/fcntl.js";
import { ANON_INODE_FS_MAGIC } from "../uapi/magic.js";
import { File, type FileOperations, type FileTable } from "./file.js";
import type { Inode } from "./inode.js";
import { openFmode } from "./open.js";

/** What the anonymous-inode filesystem needs from its kernel. */
export interface AnonInodeHost {
  /** The live-file table. */
  readonly files: FileTable;
  /** A fresh pseudo inode number. */
  nextPseudoIno(): number;
}

/** Mount id of the anon-inode filesystem, as fdinfo shows it (observed on 6.1: 13). */
export const ANON_INODE_MNT_ID = 13;
/** The anon-inode filesystem's device, as fstat reports it (not observed; a plausible value). */
export const ANON_INODE_DEV: readonly [number, number] = [0, 14];

/**
 * The anonymous-inode filesystem of one kernel: every file it makes shares a single inode
 * (mode 0600 without file-type bits, size 0), created on first use, and is named
 * `anon_inode:<name>` in /proc/PID/fd.
 */
export class AnonInodeFs {
  #inode: Inode | undefined;

  /** @param host - the kernel */
  constructor(private readonly host: AnonInodeHost) {}

  /** The one inode every anonymous file shares. */
  get inode(): Inode {
    this.#inode ??= {
      ino: this.host.nextPseudoIno(),
      mode: 0o600,
      uid: 0,
      gid: 0,
      size: 0,
      dev: ANON_INODE_DEV,
      rdev: [0, 0],
      nlink: 1,
      blocks: 0,
      blksize: 4096,
    };
    return this.#inode;
  }

  /**
   * Creates a file on the shared inode (`anon_inode_getfile`). The caller owns its one
   * reference.
   * @param name - the name after `anon_inode:`
   * @param fops - the file's methods
   * @param privateData - `file.privateData`
   * @param flags - open flags: the access mode and O_NONBLOCK are kept
   */
  getFile(name: string, fops: FileOperations, privateData: unknown, flags: number): File {
    const file = new File(
      this.inode,
      fops,
      { path: () => `anon_inode:${name}`, mntId: ANON_INODE_MNT_ID, fsMagic: ANON_INODE_FS_MAGIC },
      flags & (O_ACCMODE | O_NONBLOCK),
      openFmode(flags) | FMODE_OPENED,
      this.host.files,
    );
    file.privateData = privateData;
    return file;
  }
}
