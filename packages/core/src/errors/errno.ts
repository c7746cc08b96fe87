// The Linux errno table (asm-generic values, as on x86-64): name, number and strerror text.

/** One row of the errno table. */
export interface ErrnoEntry {
  /** Symbolic name, e.g. `EINVAL`. */
  readonly code: string;
  /** Positive errno number, e.g. 22. */
  readonly errno: number;
  /** The C library's strerror() text. */
  readonly description: string;
}

/**
 * Every errno Linux defines on x86-64 (asm-generic/errno-base.h and errno.h), keyed by name.
 * Aliases (`EWOULDBLOCK`, `EDEADLOCK`, `ENOTSUP`) are resolved through {@link ERRNO_ALIASES}.
 */
export const ERRNO = {
  EPERM: { code: "EPERM", errno: 1, description: "Operation not permitted" },
  ENOENT: { code: "ENOENT", errno: 2, description: "No such file or directory" },
  ESRCH: { code: "ESRCH", errno: 3, description: "No such process" },
  EINTR: { code: "EINTR", errno: 4, description: "Interrupted system call" },
  EIO: { code: "EIO", errno: 5, description: "Input/output error" },
  ENXIO: { code: "ENXIO", errno: 6, description: "No such device or address" },
  E2BIG: { code: "E2BIG", errno: 7, description: "Argument list too long" },
  ENOEXEC: { code: "ENOEXEC", errno: 8, description: "Exec format error" },
  EBADF: { code: "EBADF", errno: 9, description: "Bad file descriptor" },
  ECHILD: { code: "ECHILD", errno: 10, description: "No child processes" },
  EAGAIN: { code: "EAGAIN", errno: 11, description: "Resource temporarily unavailable" },
  ENOMEM: { code: "ENOMEM", errno: 12, description: "Cannot allocate memory" },
  EACCES: { code: "EACCES", errno: 13, description: "Permission denied" },
  EFAULT: { code: "EFAULT", errno: 14, description: "Bad address" },
  ENOTBLK: { code: "ENOTBLK", errno: 15, description: "Block device required" },
  EBUSY: { code: "EBUSY", errno: 16, description: "Device or resource busy" },
  EEXIST: { code: "EEXIST", errno: 17, description: "File exists" },
  EXDEV: { code: "EXDEV", errno: 18, description: "Invalid cross-device link" },
  ENODEV: { code: "ENODEV", errno: 19, description: "No such device" },
  ENOTDIR: { code: "ENOTDIR", errno: 20, description: "Not a directory" },
  EISDIR: { code: "EISDIR", errno: 21, description: "Is a directory" },
  EINVAL: { code: "EINVAL", errno: 22, description: "Invalid argument" },
  ENFILE: { code: "ENFILE", errno: 23, description: "Too many open files in system" },
  EMFILE: { code: "EMFILE", errno: 24, description: "Too many open files" },
  ENOTTY: { code: "ENOTTY", errno: 25, description: "Inappropriate ioctl for device" },
  ETXTBSY: { code: "ETXTBSY", errno: 26, description: "Text file busy" },
  EFBIG: { code: "EFBIG", errno: 27, description: "File too large" },
  ENOSPC: { code: "ENOSPC", errno: 28, description: "No space left on device" },
  ESPIPE: { code: "ESPIPE", errno: 29, description: "Illegal seek" },
  EROFS: { code: "EROFS", errno: 30, description: "Read-only file system" },
  EMLINK: { code: "EMLINK", errno: 31, description: "Too many links" },
  EPIPE: { code: "EPIPE", errno: 32, description: "Broken pipe" },
  EDOM: { code: "EDOM", errno: 33, description: "Numerical argument out of domain" },
  ERANGE: { code: "ERANGE", errno: 34, description: "Numerical result out of range" },
  EDEADLK: { code: "EDEADLK", errno: 35, description: "Resource deadlock avoided" },
  ENAMETOOLONG: { code: "ENAMETOOLONG", errno: 36, description: "File name too long" },
  ENOLCK: { code: "ENOLCK", errno: 37, description: "No locks available" },
  ENOSYS: { code: "ENOSYS", errno: 38, description: "Function not implemented" },
  ENOTEMPTY: { code: "ENOTEMPTY", errno: 39, description: "Directory not empty" },
  ELOOP: { code: "ELOOP", errno: 40, description: "Too many levels of symbolic links" },
  ENOMSG: { code: "ENOMSG", errno: 42, description: "No message of desired type" },
  EIDRM: { code: "EIDRM", errno: 43, description: "Identifier removed" },
  ECHRNG: { code: "ECHRNG", errno: 44, description: "Channel number out of range" },
  EL2NSYNC: { code: "EL2NSYNC", errno: 45, description: "Level 2 not synchronized" },
  EL3HLT: { code: "EL3HLT", errno: 46, description: "Level 3 halted" },
  EL3RST: { code: "EL3RST", errno: 47, description: "Level 3 reset" },
  ELNRNG: { code: "ELNRNG", errno: 48, description: "Link number out of range" },
  EUNATCH: { code: "EUNATCH", errno: 49, description: "Protocol driver not attached" },
  ENOCSI: { code: "ENOCSI", errno: 50, description: "No CSI structure available" },
  EL2HLT: { code: "EL2HLT", errno: 51, description: "Level 2 halted" },
  EBADE: { code: "EBADE", errno: 52, description: "Invalid exchange" },
  EBADR: { code: "EBADR", errno: 53, description: "Invalid request descriptor" },
  EXFULL: { code: "EXFULL", errno: 54, description: "Exchange full" },
  ENOANO: { code: "ENOANO", errno: 55, description: "No anode" },
  EBADRQC: { code: "EBADRQC", errno: 56, description: "Invalid request code" },
  EBADSLT: { code: "EBADSLT", errno: 57, description: "Invalid slot" },
  EBFONT: { code: "EBFONT", errno: 59, description: "Bad font file format" },
  ENOSTR: { code: "ENOSTR", errno: 60, description: "Device not a stream" },
  ENODATA: { code: "ENODATA", errno: 61, description: "No data available" },
  ETIME: { code: "ETIME", errno: 62, description: "Timer expired" },
  ENOSR: { code: "ENOSR", errno: 63, description: "Out of streams resources" },
  ENONET: { code: "ENONET", errno: 64, description: "Machine is not on the network" },
  ENOPKG: { code: "ENOPKG", errno: 65, description: "Package not installed" },
  EREMOTE: { code: "EREMOTE", errno: 66, description: "Object is remote" },
  ENOLINK: { code: "ENOLINK", errno: 67, description: "Link has been severed" },
  EADV: { code: "EADV", errno: 68, description: "Advertise error" },
  ESRMNT: { code: "ESRMNT", errno: 69, description: "Srmount error" },
  ECOMM: { code: "ECOMM", errno: 70, description: "Communication error on send" },
  EPROTO: { code: "EPROTO", errno: 71, description: "Protocol error" },
  EMULTIHOP: { code: "EMULTIHOP", errno: 72, description: "Multihop attempted" },
  EDOTDOT: { code: "EDOTDOT", errno: 73, description: "RFS specific error" },
  EBADMSG: { code: "EBADMSG", errno: 74, description: "Bad message" },
  EOVERFLOW: { code: "EOVERFLOW", errno: 75, description: "Value too large for defined data type" },
  ENOTUNIQ: { code: "ENOTUNIQ", errno: 76, description: "Name not unique on network" },
  EBADFD: { code: "EBADFD", errno: 77, description: "File descriptor in bad state" },
  EREMCHG: { code: "EREMCHG", errno: 78, description: "Remote address changed" },
  ELIBACC: { code: "ELIBACC", errno: 79, description: "Can not access a needed shared library" },
  ELIBBAD: { code: "ELIBBAD", errno: 80, description: "Accessing a corrupted shared library" },
  ELIBSCN: { code: "ELIBSCN", errno: 81, description: ".lib section in a.out corrupted" },
  ELIBMAX: {
    code: "ELIBMAX",
    errno: 82,
    description: "Attempting to link in too many shared libraries",
  },
  ELIBEXEC: { code: "ELIBEXEC", errno: 83, description: "Cannot exec a shared library directly" },
  EILSEQ: {
    code: "EILSEQ",
    errno: 84,
    description: "Invalid or incomplete multibyte or wide character",
  },
  ERESTART: {
    code: "ERESTART",
    errno: 85,
    description: "Interrupted system call should be restarted",
  },
  ESTRPIPE: { code: "ESTRPIPE", errno: 86, description: "Streams pipe error" },
  EUSERS: { code: "EUSERS", errno: 87, description: "Too many users" },
  ENOTSOCK: { code: "ENOTSOCK", errno: 88, description: "Socket operation on non-socket" },
  EDESTADDRREQ: { code: "EDESTADDRREQ", errno: 89, description: "Destination address required" },
  EMSGSIZE: { code: "EMSGSIZE", errno: 90, description: "Message too long" },
  EPROTOTYPE: { code: "EPROTOTYPE", errno: 91, description: "Protocol wrong type for socket" },
  ENOPROTOOPT: { code: "ENOPROTOOPT", errno: 92, description: "Protocol not available" },
  EPROTONOSUPPORT: { code: "EPROTONOSUPPORT", errno: 93, description: "Protocol not supported" },
  ESOCKTNOSUPPORT: { code: "ESOCKTNOSUPPORT", errno: 94, description: "Socket type not supported" },
  EOPNOTSUPP: { code: "EOPNOTSUPP", errno: 95, description: "Operation not supported" },
  EPFNOSUPPORT: { code: "EPFNOSUPPORT", errno: 96, description: "Protocol family not supported" },
  EAFNOSUPPORT: {
    code: "EAFNOSUPPORT",
    errno: 97,
    description: "Address family not supported by protocol",
  },
  EADDRINUSE: { code: "EADDRINUSE", errno: 98, description: "Address already in use" },
  EADDRNOTAVAIL: {
    code: "EADDRNOTAVAIL",
    errno: 99,
    description: "Cannot assign requested address",
  },
  ENETDOWN: { code: "ENETDOWN", errno: 100, description: "Network is down" },
  ENETUNREACH: { code: "ENETUNREACH", errno: 101, description: "Network is unreachable" },
  ENETRESET: { code: "ENETRESET", errno: 102, description: "Network dropped connection on reset" },
  ECONNABORTED: {
    code: "ECONNABORTED",
    errno: 103,
    description: "Software caused connection abort",
  },
  ECONNRESET: { code: "ECONNRESET", errno: 104, description: "Connection reset by peer" },
  ENOBUFS: { code: "ENOBUFS", errno: 105, description: "No buffer space available" },
  EISCONN: { code: "EISCONN", errno: 106, description: "Transport endpoint is already connected" },
  ENOTCONN: { code: "ENOTCONN", errno: 107, description: "Transport endpoint is not connected" },
  ESHUTDOWN: {
    code: "ESHUTDOWN",
    errno: 108,
    description: "Cannot send after transport endpoint shutdown",
  },
  ETOOMANYREFS: {
    code: "ETOOMANYREFS",
    errno: 109,
    description: "Too many references: cannot splice",
  },
  ETIMEDOUT: { code: "ETIMEDOUT", errno: 110, description: "Connection timed out" },
  ECONNREFUSED: { code: "ECONNREFUSED", errno: 111, description: "Connection refused" },
  EHOSTDOWN: { code: "EHOSTDOWN", errno: 112, description: "Host is down" },
  EHOSTUNREACH: { code: "EHOSTUNREACH", errno: 113, description: "No route to host" },
  EALREADY: { code: "EALREADY", errno: 114, description: "Operation already in progress" },
  EINPROGRESS: { code: "EINPROGRESS", errno: 115, description: "Operation now in progress" },
  ESTALE: { code: "ESTALE", errno: 116, description: "Stale file handle" },
  EUCLEAN: { code: "EUCLEAN", errno: 117, description: "Structure needs cleaning" },
  ENOTNAM: { code: "ENOTNAM", errno: 118, description: "Not a XENIX named type file" },
  ENAVAIL: { code: "ENAVAIL", errno: 119, description: "No XENIX semaphores available" },
  EISNAM: { code: "EISNAM", errno: 120, description: "Is a named type file" },
  EREMOTEIO: { code: "EREMOTEIO", errno: 121, description: "Remote I/O error" },
  EDQUOT: { code: "EDQUOT", errno: 122, description: "Disk quota exceeded" },
  ENOMEDIUM: { code: "ENOMEDIUM", errno: 123, description: "No medium found" },
  EMEDIUMTYPE: { code: "EMEDIUMTYPE", errno: 124, description: "Wrong medium type" },
  ECANCELED: { code: "ECANCELED", errno: 125, description: "Operation canceled" },
  ENOKEY: { code: "ENOKEY", errno: 126, description: "Required key not available" },
  EKEYEXPIRED: { code: "EKEYEXPIRED", errno: 127, description: "Key has expired" },
  EKEYREVOKED: { code: "EKEYREVOKED", errno: 128, description: "Key has been revoked" },
  EKEYREJECTED: { code: "EKEYREJECTED", errno: 129, description: "Key was rejected by service" },
  EOWNERDEAD: { code: "EOWNERDEAD", errno: 130, description: "Owner died" },
  ENOTRECOVERABLE: { code: "ENOTRECOVERABLE", errno: 131, description: "State not recoverable" },
  ERFKILL: { code: "ERFKILL", errno: 132, description: "Operation not possible due to RF-kill" },
  EHWPOISON: { code: "EHWPOISON", errno: 133, description: "Memory page has hardware error" },
} as const satisfies Record<string, ErrnoEntry>;

/** A symbolic errno name Linux defines, e.g. `"EINVAL"`. */
export type ErrnoCode = keyof typeof ERRNO;

/** Aliases C code uses for the same numbers. */
export const ERRNO_ALIASES = {
  EWOULDBLOCK: "EAGAIN",
  EDEADLOCK: "EDEADLK",
  ENOTSUP: "EOPNOTSUPP",
} as const satisfies Record<string, ErrnoCode>;

const BY_NUMBER: ReadonlyMap<number, ErrnoEntry> = new Map(
  Object.values(ERRNO).map((e) => [e.errno, e]),
);

/** Looks an errno up by number; `undefined` for a number Linux does not define. */
export function errnoByNumber(errno: number): ErrnoEntry | undefined {
  return BY_NUMBER.get(errno);
}

/** True if `code` names an errno Linux defines. */
export function isErrnoCode(code: string): code is ErrnoCode {
  return Object.hasOwn(ERRNO, code);
}
