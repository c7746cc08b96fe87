// File-status and open flags, seek whences and file-mode bits as Linux x86-64 defines them.

/** Open for reading only. */
export const O_RDONLY = 0o0;
/** Open for writing only. */
export const O_WRONLY = 0o1;
/** Open for reading and writing. */
export const O_RDWR = 0o2;
/** Mask of the access-mode bits. */
export const O_ACCMODE = 0o3;
/** Create the file if it does not exist. */
export const O_CREAT = 0o100;
/** With O_CREAT: fail if the file exists. */
export const O_EXCL = 0o200;
/** Do not make the file the controlling terminal. */
export const O_NOCTTY = 0o400;
/** Truncate to length 0. */
export const O_TRUNC = 0o1000;
/** Append on each write. */
export const O_APPEND = 0o2000;
/** Non-blocking I/O. */
export const O_NONBLOCK = 0o4000;
/** Synchronous data writes. */
export const O_DSYNC = 0o10000;
/** Signal-driven I/O. */
export const FASYNC = 0o20000;
/** Direct I/O. */
export const O_DIRECT = 0o40000;
/** Large-file offsets (set implicitly by 64-bit open()). */
export const O_LARGEFILE = 0o100000;
/** Fail unless the path is a directory. */
export const O_DIRECTORY = 0o200000;
/** Do not follow a final symlink. */
export const O_NOFOLLOW = 0o400000;
/** Do not update the access time. */
export const O_NOATIME = 0o1000000;
/** Close the fd on exec. Lives in the fd table, never in the file's f_flags. */
export const O_CLOEXEC = 0o2000000;
/** Synchronous writes (includes O_DSYNC). */
export const O_SYNC = 0o4010000;
/** Obtain a path-only fd. */
export const O_PATH = 0o10000000;
/** Unnamed temporary file (includes O_DIRECTORY). */
export const O_TMPFILE = 0o20200000;

/** lseek: set the position to `offset`. */
export const SEEK_SET = 0;
/** lseek: position + `offset`. */
export const SEEK_CUR = 1;
/** lseek: size + `offset`. */
export const SEEK_END = 2;
/** lseek: next data at or after `offset`. */
export const SEEK_DATA = 3;
/** lseek: next hole at or after `offset`. */
export const SEEK_HOLE = 4;

/** fcntl: get the fd flags (FD_CLOEXEC). */
export const F_GETFD = 1;
/** fcntl: set the fd flags. */
export const F_SETFD = 2;
/** fcntl: get the file status flags. */
export const F_GETFL = 3;
/** fcntl: set the file status flags. */
export const F_SETFL = 4;
/** The close-on-exec bit of F_GETFD. */
export const FD_CLOEXEC = 1;

/** File type mask of st_mode. */
export const S_IFMT = 0o170000;
/** Directory. */
export const S_IFDIR = 0o040000;
/** Character device. */
export const S_IFCHR = 0o020000;
/** Regular file. */
export const S_IFREG = 0o100000;
/** Symbolic link. */
export const S_IFLNK = 0o120000;

/** f_mode: the file may be read. */
export const FMODE_READ = 0x1;
/** f_mode: the file may be written. */
export const FMODE_WRITE = 0x2;
/** f_mode: the file is seekable. */
export const FMODE_LSEEK = 0x4;
/** f_mode: pread is allowed. */
export const FMODE_PREAD = 0x8;
/** f_mode: pwrite is allowed. */
export const FMODE_PWRITE = 0x10;
/** f_mode: an O_PATH file — a location only; no I/O through it (`FMODE_PATH`). */
export const FMODE_PATH = 0x4000;
/** f_mode: the file has a read method. */
export const FMODE_CAN_READ = 0x20000;
/** f_mode: the file has a write method. */
export const FMODE_CAN_WRITE = 0x40000;
/** f_mode: the file is fully opened (6.1 value). */
export const FMODE_OPENED = 0x80000;

/** fcntl: add seals to a memfd (F_LINUX_SPECIFIC_BASE + 9). */
export const F_ADD_SEALS = 1033;
/** fcntl: read a memfd's seals (F_LINUX_SPECIFIC_BASE + 10). */
export const F_GET_SEALS = 1034;
/** Seal: no further seals may be added. */
export const F_SEAL_SEAL = 0x01;
/** Seal: the file may not shrink. */
export const F_SEAL_SHRINK = 0x02;
/** Seal: the file may not grow. */
export const F_SEAL_GROW = 0x04;
/** Seal: the contents may not change (write, hole punch, writable shared mappings). */
export const F_SEAL_WRITE = 0x08;
/** Seal: like F_SEAL_WRITE for new writers only; existing writable shared mappings keep working. */
export const F_SEAL_FUTURE_WRITE = 0x10;
/** Seal (Linux 6.3+): the exec bits of the mode may no longer change. */
export const F_SEAL_EXEC = 0x20;

/** fallocate: do not change the file size. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
/** fallocate: deallocate the range (needs FALLOC_FL_KEEP_SIZE). */
export const FALLOC_FL_PUNCH_HOLE = 0x02;
