// open(2) of a namespace node: permission checks, f_flags/f_mode, and the driver's file.

import { KernelError } from "../errors/kernel-error.js";
import {
  FMODE_CAN_READ,
  FMODE_CAN_WRITE,
  FMODE_LSEEK,
  FMODE_OPENED,
  FMODE_PATH,
  FMODE_PREAD,
  FMODE_PWRITE,
  O_ACCMODE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_LARGEFILE,
  O_NOCTTY,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_TRUNC,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
} from "../uapi/fcntl.js";
import { DEBUGFS_MAGIC, PROC_SUPER_MAGIC, SYSFS_MAGIC, TMPFS_MAGIC } from "../uapi/magic.js";
import { File, type FileOperations, type FileTable } from "./file.js";
import type { Inode } from "./inode.js";
import type { Namespace, Node } from "./namespace.js";
import { type Guarded, MAY_READ, MAY_WRITE, mayAccess } from "./permission.js";
import { toBytes } from "./text-bytes.js";

/** What open needs from the kernel. */
export interface OpenHost {
  /** The path namespace. */
  readonly namespace: Namespace;
  /** The live-file table. */
  readonly files: FileTable;
  /** A fresh pseudo inode number. */
  nextPseudoIno(): number;
}

/** Who is opening (for permission checks). */
export interface Credentials {
  /** User id; 0 bypasses permission bits. */
  readonly uid: number;
  /** Group id. */
  readonly gid: number;
  /** The opener's command name (`comm`), for drivers that record it (sw_sync). */
  readonly name?: string;
}

/** The FMODE_READ/FMODE_WRITE bits for an access mode (`OPEN_FMODE`). */
export function openFmode(flags: number): number {
  return ((flags + 1) & O_ACCMODE) >>> 0;
}

/** The f_flags open() keeps: creation flags and O_CLOEXEC dropped, O_LARGEFILE forced. */
export function fileFlagsFromOpen(flags: number): number {
  return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
}

/**
 * Checks the permission bits of `node` (and its extra check) for the access `flags` asks
 * for; root bypasses the bits.
 * @throws KernelError EACCES.
 */
export function checkPermission(
  cred: Credentials,
  node: Guarded,
  flags: number,
  syscall: string,
): void {
  const acc = flags & O_ACCMODE;
  const wantRead = acc === O_RDONLY || acc === 2 || acc === 3;
  const wantWrite = acc !== O_RDONLY;
  mayAccess(cred, node, (wantRead ? MAY_READ : 0) | (wantWrite ? MAY_WRITE : 0), syscall);
}

/** The filesystem magic of a pseudo-file path. */
function pseudoFsMagic(path: string): number {
  if (path.startsWith("/proc")) return PROC_SUPER_MAGIC;
  if (path.startsWith("/sys/kernel/debug")) return DEBUGFS_MAGIC;
  if (path.startsWith("/sys")) return SYSFS_MAGIC;
  return TMPFS_MAGIC;
}

/** Builds f_mode for a freshly opened file. */
function fmodeFor(flags: number, fops: FileOperations, seekable: boolean): number {
  let mode = openFmode(flags) | FMODE_OPENED;
  if (seekable) mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
  if (fops.read) mode |= FMODE_CAN_READ;
  if (fops.write) mode |= FMODE_CAN_WRITE;
  return mode;
}

/** File methods of a rendered pseudo file: read through the text, seek within it. */
const textFops: FileOperations = {
  read(file, count) {
    const bytes = file.privateData as Uint8Array;
    const out = bytes.subarray(file.pos, Math.min(bytes.length, file.pos + count));
    file.pos += out.length;
    return out.slice();
  },
  llseek(file, offset, whence) {
    const size = (file.privateData as Uint8Array).length;
    const base = whence === 0 ? 0 : whence === 1 ? file.pos : whence === 2 ? size : Number.NaN;
    const pos = base + offset;
    if (!(pos >= 0)) throw new KernelError("EINVAL", "lseek");
    file.pos = pos;
    return pos;
  },
};

/** File methods of an opened directory. */
const dirFops: FileOperations = {
  read() {
    throw new KernelError("EISDIR", "read");
  },
};

/** A file on a fresh inode of a pseudo filesystem (procfs, sysfs, debugfs). */
function pseudoFile(
  host: OpenHost,
  path: string,
  mode: number,
  fops: FileOperations,
  fflags: number,
  openFlags: number,
  seekable: boolean,
  owner: { uid?: number; gid?: number } = {},
): File {
  const inode: Inode = {
    ino: host.nextPseudoIno(),
    mode,
    uid: owner.uid ?? 0,
    gid: owner.gid ?? 0,
    size: 0,
    dev: [0, 0],
    rdev: [0, 0],
    nlink: (mode & S_IFDIR) === S_IFDIR ? 2 : 1,
    blocks: 0,
    blksize: 4096,
  };
  return new File(
    inode,
    fops,
    { path: () => path, mntId: 22, fsMagic: pseudoFsMagic(path) },
    fflags,
    fmodeFor(openFlags, fops, seekable),
    host.files,
  );
}

/** What an O_PATH file's methods are: none (`empty_fops`). */
const pathFops: FileOperations = {};

/**
 * An O_PATH file: it names the node and holds no driver state; only close, dup, fcntl, fstat,
 * fstatfs and fd passing work through it (everything else is EBADF). The driver's open is not
 * called and no permission is needed to read or write.
 */
function pathFile(host: OpenHost, path: string, node: Node, flags: number): File {
  const fflags = flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW);
  const base =
    node.kind === "chr"
      ? S_IFCHR
      : node.kind === "dir"
        ? S_IFDIR
        : node.kind === "link"
          ? S_IFLNK
          : S_IFREG;
  const file =
    node.kind === "chr"
      ? new File(
          {
            ino: node.ino,
            mode: S_IFCHR | node.mode,
            uid: node.uid,
            gid: node.gid,
            size: 0,
            dev: [0, 5],
            rdev: node.rdev,
            nlink: 1,
            blocks: 0,
            blksize: 4096,
          },
          pathFops,
          { path: () => path, mntId: 21, fsMagic: TMPFS_MAGIC },
          fflags,
          FMODE_PATH | FMODE_OPENED,
          host.files,
        )
      : pseudoFile(
          host,
          path,
          base | ("mode" in node ? node.mode : 0o777),
          pathFops,
          fflags,
          0,
          false,
        );
  if (node.kind !== "chr") file.fMode = FMODE_PATH | FMODE_OPENED;
  return file;
}

/**
 * Opens the node at `path` for `cred`.
 * @throws KernelError ENOENT, ENOTDIR (O_DIRECTORY on a non-directory, a trailing slash),
 * EEXIST (O_CREAT | O_EXCL: the name exists), EACCES, EISDIR (a directory opened for writing),
 * ELOOP (O_NOFOLLOW on a link), and whatever the driver's open returns.
 */
export function openNode(host: OpenHost, cred: Credentials, path: string, flags: number): File {
  const exclusive = (flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL) && (flags & O_PATH) === 0;
  const node: Node = host.namespace.resolve(path, "open", {
    follow: !exclusive && (flags & O_NOFOLLOW) === 0,
    cred,
  });
  // The model cannot create nodes: with O_CREAT | O_EXCL every name that resolves exists.
  if (exclusive) throw new KernelError("EEXIST", "open", path);
  if (flags & O_DIRECTORY && node.kind !== "dir") throw new KernelError("ENOTDIR", "open", path);
  if (flags & O_PATH) return pathFile(host, path, node, flags);
  const fflags = fileFlagsFromOpen(flags);
  switch (node.kind) {
    case "chr": {
      checkPermission(cred, node, flags, "open");
      const inode: Inode = {
        ino: node.ino,
        mode: S_IFCHR | node.mode,
        uid: node.uid,
        gid: node.gid,
        size: 0,
        dev: [0, 5],
        rdev: node.rdev,
        nlink: 1,
        blocks: 0,
        blksize: 4096,
      };
      const file = new File(
        inode,
        node.fops,
        { path: () => path, mntId: 21, fsMagic: TMPFS_MAGIC },
        fflags,
        fmodeFor(flags, node.fops, !node.nonseekable),
        host.files,
      );
      file.privateData = node.privateData;
      return file;
    }
    case "file": {
      checkPermission(cred, node, flags, "open");
      if ((flags & O_ACCMODE) !== O_RDONLY) {
        // Pseudo files have no write method: sysfs/debugfs refuse write opens even for root.
        throw new KernelError("EACCES", "open", `${path} cannot be written`);
      }
      const file = pseudoFile(host, path, S_IFREG | node.mode, textFops, fflags, flags, true, node);
      file.privateData = toBytes(node.render());
      return file;
    }
    case "reg": {
      checkPermission(cred, node, flags, "open");
      const privateData = node.open?.(cred);
      const file = pseudoFile(host, path, S_IFREG | node.mode, node.fops, fflags, flags, false);
      file.privateData = privateData;
      return file;
    }
    case "dir": {
      if ((flags & O_ACCMODE) !== O_RDONLY) throw new KernelError("EISDIR", "open", path);
      checkPermission(cred, node, flags, "open");
      return pseudoFile(
        host,
        path,
        S_IFDIR | node.mode,
        dirFops,
        fflags | O_DIRECTORY,
        flags,
        true,
        node,
      );
    }
    case "link":
      throw new KernelError("ELOOP", "open", path);
  }
}
