// struct inode: the identity and attributes fstat() reports.

/** The attributes of a file's inode, as fstat() reports them. */
export interface Inode {
  /** Inode number. */
  readonly ino: number;
  /** st_mode: type bits (S_IF*) and permission bits. */
  readonly mode: number;
  /** Owner user id. */
  readonly uid: number;
  /** Owner group id. */
  readonly gid: number;
  /** Size in bytes (st_size). */
  size: number;
  /** The device of the filesystem holding the inode, as [major, minor]. */
  readonly dev: readonly [number, number];
  /** For device nodes, the device number as [major, minor]; [0, 0] otherwise. */
  readonly rdev: readonly [number, number];
  /** Hard-link count. */
  readonly nlink: number;
  /** Allocated 512-byte blocks (st_blocks). */
  blocks: number;
  /** Preferred I/O size (st_blksize). */
  readonly blksize: number;
}

/** The result of fstat(), as `struct stat` carries it. */
export interface Stat {
  /** Device of the filesystem, major. */
  devMajor: number;
  /** Device of the filesystem, minor. */
  devMinor: number;
  /** Inode number. */
  ino: number;
  /** Type and permission bits. */
  mode: number;
  /** Hard-link count. */
  nlink: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Device number of a device node, major. */
  rdevMajor: number;
  /** Device number of a device node, minor. */
  rdevMinor: number;
  /** Size in bytes. */
  size: number;
  /** Preferred I/O block size. */
  blksize: number;
  /** Allocated 512-byte blocks. */
  blocks: number;
}

/** Renders an inode as fstat() reports it. */
export function statOf(inode: Inode): Stat {
  return {
    devMajor: inode.dev[0],
    devMinor: inode.dev[1],
    ino: inode.ino,
    mode: inode.mode,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    rdevMajor: inode.rdev[0],
    rdevMinor: inode.rdev[1],
    size: inode.size,
    blksize: inode.blksize,
    blocks: inode.blocks,
  };
}
