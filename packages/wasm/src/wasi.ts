// The part of WASI preview 1 a shimmed program still uses: args, environment, stdio, exit, time.

/** WASI's own errno values (not Linux's): only these few are ever returned here. */
const WASI_ESUCCESS = 0;
const WASI_EBADF = 8;
const WASI_EINVAL = 28;
const WASI_ENOSYS = 52;
const WASI_ESPIPE = 70;
/** `__WASI_FILETYPE_CHARACTER_DEVICE`. */
const WASI_FILETYPE_CHARACTER_DEVICE = 2;

/** Thrown by `proc_exit` to unwind the program; caught by the runtime. */
export class WasiExit {
  /** @param code - the exit status */
  constructor(readonly code: number) {}
}

/** What the WASI layer needs from the runtime. */
export interface WasiHost {
  /** The program's linear memory (refetched: it can grow). */
  memory(): WebAssembly.Memory;
  /** argv, including argv[0]. */
  readonly args: readonly string[];
  /** `NAME=value` strings. */
  readonly env: readonly string[];
  /** Receives what the program writes to fd 1 or 2. */
  output(fd: 1 | 2, bytes: Uint8Array): void;
  /** The model's virtual time in nanoseconds. */
  now(): bigint;
  /** Lets virtual time run `ns` nanoseconds forward (devices complete work meanwhile). */
  sleep(ns: bigint): void;
}

/**
 * The WASI calls a program compiled with the shim imports, served without touching the host:
 * stdout/stderr are captured, stdin is empty, the clocks are the model's virtual clock and
 * random bytes come from a fixed-seed generator, so runs are deterministic. There are no
 * preopened directories: files are reached through the `linux` imports.
 */
export function wasiImports(host: WasiHost): Record<string, (...args: never[]) => unknown> {
  const enc = new TextEncoder();
  const view = () => new DataView(host.memory().buffer);
  const bytes = () => new Uint8Array(host.memory().buffer);
  let seed = 0x2545f491;
  const strings = (list: readonly string[], ptrs: number, buf: number) => {
    const v = view();
    const b = bytes();
    let at = buf;
    list.forEach((s, i) => {
      v.setUint32(ptrs + 4 * i, at, true);
      const e = enc.encode(s);
      b.set(e, at);
      b[at + e.length] = 0;
      at += e.length + 1;
    });
    return WASI_ESUCCESS;
  };
  const sizes = (list: readonly string[], countPtr: number, sizePtr: number) => {
    const v = view();
    v.setUint32(countPtr, list.length, true);
    v.setUint32(
      sizePtr,
      list.reduce((n, s) => n + enc.encode(s).length + 1, 0),
      true,
    );
    return WASI_ESUCCESS;
  };
  return {
    args_get: (argv: number, buf: number) => strings(host.args, argv, buf),
    args_sizes_get: (c: number, s: number) => sizes(host.args, c, s),
    environ_get: (envp: number, buf: number) => strings(host.env, envp, buf),
    environ_sizes_get: (c: number, s: number) => sizes(host.env, c, s),
    fd_write: (fd: number, iovs: number, n: number, written: number) => {
      if (fd !== 1 && fd !== 2) return WASI_EBADF;
      const v = view();
      let total = 0;
      for (let i = 0; i < n; i++) {
        const ptr = v.getUint32(iovs + 8 * i, true);
        const len = v.getUint32(iovs + 8 * i + 4, true);
        host.output(fd, bytes().slice(ptr, ptr + len));
        total += len;
      }
      view().setUint32(written, total, true);
      return WASI_ESUCCESS;
    },
    fd_read: (fd: number, _iovs: number, _n: number, read: number) => {
      if (fd !== 0) return WASI_EBADF;
      view().setUint32(read, 0, true);
      return WASI_ESUCCESS;
    },
    fd_close: (fd: number) => (fd <= 2 ? WASI_ESUCCESS : WASI_EBADF),
    fd_seek: (fd: number) => (fd <= 2 ? WASI_ESPIPE : WASI_EBADF),
    fd_fdstat_get: (fd: number, stat: number) => {
      if (fd > 2) return WASI_EBADF;
      const v = view();
      for (let i = 0; i < 24; i += 4) v.setUint32(stat + i, 0, true);
      v.setUint8(stat, WASI_FILETYPE_CHARACTER_DEVICE);
      return WASI_ESUCCESS;
    },
    fd_fdstat_set_flags: () => WASI_ENOSYS,
    fd_prestat_get: () => WASI_EBADF,
    fd_prestat_dir_name: () => WASI_EBADF,
    proc_exit: (code: number) => {
      throw new WasiExit(code);
    },
    clock_time_get: (_id: number, _precision: bigint, out: number) => {
      view().setBigUint64(out, host.now(), true);
      return WASI_ESUCCESS;
    },
    clock_res_get: (_id: number, out: number) => {
      view().setBigUint64(out, 1n, true);
      return WASI_ESUCCESS;
    },
    random_get: (buf: number, len: number) => {
      const b = bytes();
      for (let i = 0; i < len; i++) {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        b[buf + i] = seed & 0xff;
      }
      return WASI_ESUCCESS;
    },
    sched_yield: () => WASI_ESUCCESS,
    proc_raise: () => WASI_ENOSYS,
    // Only clock subscriptions (sleep, nanosleep): fds are polled through the `linux` imports.
    poll_oneoff: (subs: number, events: number, n: number, count: number) => {
      const v = view();
      let longest = 0n;
      for (let i = 0; i < n; i++) {
        const s = subs + 48 * i;
        if (v.getUint8(s + 8) !== 0) return WASI_EINVAL;
        const timeout = v.getBigUint64(s + 24, true);
        const absolute = (v.getUint16(s + 40, true) & 1) !== 0;
        const rel = absolute ? timeout - host.now() : timeout;
        if (rel > longest) longest = rel;
        const e = events + 32 * i;
        v.setBigUint64(e, v.getBigUint64(s, true), true);
        v.setUint16(e + 8, WASI_ESUCCESS, true);
        v.setUint8(e + 10, 0);
      }
      if (longest > 0n) host.sleep(longest);
      view().setUint32(count, n, true);
      return WASI_ESUCCESS;
    },
  };
}

/**
 * WASI calls that would let a program reach files or devices behind the model's back, with
 * WASI's constants: a program importing one called something the shim does not redirect.
 */
export const REFUSED_WASI_IMPORTS: ReadonlySet<string> = new Set([
  "path_open",
  "path_filestat_get",
  "path_filestat_set_times",
  "path_readlink",
  "path_create_directory",
  "path_remove_directory",
  "path_unlink_file",
  "path_rename",
  "path_symlink",
  "path_link",
  "fd_readdir",
  "fd_pread",
  "fd_pwrite",
  "fd_filestat_get",
  "fd_filestat_set_size",
  "fd_allocate",
  "fd_renumber",
  "sock_accept",
  "sock_recv",
  "sock_send",
  "sock_shutdown",
]);
