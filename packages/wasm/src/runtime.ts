// runWasm: a wasm32-wasi program as a process of a model kernel.

import { isKernelError, type Kernel, KernelSignal, type PollFd, type Process } from "@dmabuf/core";
import { IOCTL_MARSHAL } from "./ioctl-marshal.js";
import { REFUSED_WASI_IMPORTS, WasiExit, wasiImports } from "./wasi.js";
import { type AccessStats, Windows } from "./windows.js";

/** How to run a program. */
export interface RunOptions {
  /** argv[1…]. */
  readonly args?: readonly string[];
  /** argv[0]; default `"program"`. */
  readonly argv0?: string;
  /** Environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The model process that runs it; default a new one (with fds 0–2 open on /dev/null, so the
   * program's first own fd is 3, as under a shell). It exits when the program ends.
   */
  readonly process?: Process;
  /** Called with each chunk the program writes to stdout or stderr (besides capturing it). */
  readonly onOutput?: (fd: 1 | 2, text: string) => void;
  /**
   * `"exact"` (default): every load and store to mapped memory is served by the model.
   * `"noop"`: the instrumentation hooks return at once, so mapped memory is NOT served by the
   * model (a window is plain linear memory, zeroed at mmap); only for measuring what
   * interception itself costs (the bench does).
   */
  readonly accessHooks?: "exact" | "noop";
  /** Called when the program has ended, before its process exits (its fds are still open). */
  readonly beforeExit?: (proc: Process) => void;
}

/** How a program ended. */
export interface RunResult {
  /** Exit status as a shell reports it: the program's, or 128 + the signal number. */
  readonly exitCode: number;
  /** The signal that ended it (a bad access to mapped memory), if any. */
  readonly signal: "SIGBUS" | "SIGSEGV" | undefined;
  /** Everything written to fd 1. */
  readonly stdout: string;
  /** Everything written to fd 2 (and the shell's message for a signal). */
  readonly stderr: string;
  /** The model process (already exited). */
  readonly process: Process;
  /** The fds the program had open when it ended (0–2 included), before exit closed them. */
  readonly fdsAtExit: readonly number[];
  /** Syscalls made through the `linux` imports. */
  readonly syscalls: number;
  /** Accesses to mapped memory. */
  readonly accesses: AccessStats;
}

/** A module the runtime refuses to run; `message` says why and how to fix it. */
export class WasmImportError extends Error {
  /** Stable code. */
  readonly code = "DMABUF_WASM_IMPORT";
  /** @param message - what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "WasmImportError";
  }
}

const SIGNALS = {
  SIGBUS: { number: 7, text: "Bus error" },
  SIGSEGV: { number: 11, text: "Segmentation fault" },
};

/** Checks a module's imports before it runs. */
export function checkImports(module: WebAssembly.Module, provided: Record<string, object>): void {
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === "wasi_snapshot_preview1" && REFUSED_WASI_IMPORTS.has(imp.name)) {
      throw new WasmImportError(
        `the program imports wasi_snapshot_preview1.${imp.name}: a Linux call the shim does not ` +
          "redirect was bound to wasi-libc (WASI constants, no access to the model's files). " +
          "Compile with dmabuf-cc, and use only the calls its shim lists.",
      );
    }
    const ns = provided[imp.module] as Record<string, unknown> | undefined;
    if (!ns || !(imp.name in ns)) {
      throw new WasmImportError(
        `the program imports ${imp.module}.${imp.name}, which the runtime does not provide` +
          (imp.module === "env" ? " (was it compiled with dmabuf-cc and instrumented?)" : ""),
      );
    }
  }
}

/**
 * Runs a wasm32-wasi program built by `dmabuf-cc` as a process of `kernel`: its Linux calls
 * (open, ioctl, mmap, poll, …) are served by a model {@link Process}, errno in Linux numbering;
 * every load and store to mapped memory goes through the model (its page tables, the CPU port
 * and so the cache model and coherency checker). Runs synchronously on the model's virtual
 * clock; deterministic.
 * @throws WasmImportError when the module imports something the runtime refuses or lacks.
 */
export function runWasm(
  kernel: Kernel,
  wasm: Uint8Array | WebAssembly.Module,
  options: RunOptions = {},
): RunResult {
  const module =
    wasm instanceof WebAssembly.Module
      ? wasm
      : new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  const proc = options.process ?? kernel.spawn({ name: options.argv0 ?? "program", stdio: true });
  let memory: WebAssembly.Memory | undefined;
  const mem = () => {
    if (!memory) throw new Error("memory used before instantiation");
    return memory;
  };
  const noop = options.accessHooks === "noop";
  const out = { 1: [] as string[], 2: [] as string[] };
  const decoders = { 1: new TextDecoder(), 2: new TextDecoder() };
  const windows = new Windows(mem, () => kernel.cpu, kernel.pageSize);
  const dirs = new Map<number, string[]>();
  let nextDir = 1;
  let syscalls = 0;
  const u8 = () => new Uint8Array(mem().buffer);
  const dv = () => new DataView(mem().buffer);
  const cstr = (ptr: number) => {
    const b = u8();
    const end = b.indexOf(0, ptr);
    return new TextDecoder().decode(b.subarray(ptr, end < 0 ? b.length : end));
  };
  // Every linux import: Linux errno as -errno; signals and exits unwind the program.
  const sys =
    <A extends unknown[]>(fn: (...a: A) => number | bigint) =>
    (...a: A): number | bigint => {
      syscalls++;
      try {
        return fn(...a);
      } catch (e) {
        if (isKernelError(e)) return -e.errno;
        throw e;
      }
    };
  const linux: Record<string, (...args: never[]) => unknown> = {
    open: sys((path: number, flags: number) => proc.open(cstr(path), flags)),
    close: sys((fd: number) => {
      proc.close(fd);
      return 0;
    }),
    ioctl: sys((fd: number, request: number, arg: number) => {
      const marshal = IOCTL_MARSHAL.get(request >>> 0);
      if (arg === 0) return proc.ioctl(fd, request >>> 0, null);
      if (marshal) return marshal(u8(), arg, (a) => proc.ioctl(fd, request >>> 0, a));
      return proc.ioctl(fd, request >>> 0, new Uint8Array(mem().buffer, arg));
    }),
    mmap: sys((at: number, len: number, prot: number, flags: number, fd: number, off: bigint) => {
      const m = proc.mmap(fd, len >>> 0, prot, flags, Number(off));
      windows.add(at >>> 0, m);
      // No model behind the window: let it read as fresh memory does, so the program takes
      // the path it takes in exact mode (a zeroed buffer checks as zeroed).
      if (noop) u8().fill(0, at >>> 0, (at >>> 0) + m.length);
      return 0;
    }),
    munmap: sys((at: number) => {
      const w = windows.at(at >>> 0);
      if (!w) return -22;
      proc.munmap(w.mapping);
      windows.remove(w);
      return 0;
    }),
    poll: sys((fdsPtr: number, n: number, timeout: number) => {
      const v = dv();
      const fds: PollFd[] = [];
      for (let i = 0; i < n; i++) {
        fds.push({
          fd: v.getInt32(fdsPtr + 8 * i, true),
          events: v.getInt16(fdsPtr + 8 * i + 4, true),
        });
      }
      const ready = proc.poll(fds, timeout);
      const w = dv();
      fds.forEach((p, i) => {
        w.setInt16(fdsPtr + 8 * i + 6, p.revents ?? 0, true);
      });
      return ready;
    }),
    fcntl: sys((fd: number, cmd: number, arg: number) => proc.fcntl(fd, cmd, arg)),
    read: sys((fd: number, buf: number, count: number) => {
      const data = proc.read(fd, count >>> 0);
      u8().set(data, buf);
      return data.length;
    }),
    write: sys((fd: number, buf: number, count: number) =>
      proc.write(fd, u8().slice(buf, buf + (count >>> 0))),
    ),
    dup: sys((fd: number) => proc.dup(fd)),
    lseek: (fd: number, off: bigint, whence: number): bigint => {
      syscalls++;
      try {
        return BigInt(proc.lseek(fd, Number(off), whence));
      } catch (e) {
        if (isKernelError(e)) return BigInt(-e.errno);
        throw e;
      }
    },
    ftruncate: sys((fd: number, len: bigint) => {
      proc.ftruncate(fd, Number(len));
      return 0;
    }),
    memfd_create: sys((name: number, flags: number) =>
      proc.memfdCreate(name === 0 ? null : cstr(name), flags >>> 0),
    ),
    page_size: () => kernel.pageSize,
    dir_open: sys((path: number) => {
      const names = proc.readdir(cstr(path));
      const h = nextDir++;
      dirs.set(h, [".", "..", ...names].reverse());
      return h;
    }),
    dir_next: sys((h: number, name: number, cap: number, _type: number) => {
      const list = dirs.get(h);
      if (!list) return -9;
      const next = list.pop();
      if (next === undefined) return 0;
      const e = new TextEncoder().encode(next).subarray(0, cap - 1);
      const b = u8();
      b.set(e, name);
      b[name + e.length] = 0;
      return e.length + 1;
    }),
    dir_close: sys((h: number) => (dirs.delete(h) ? 0 : -9)),
  };
  const wasi = wasiImports({
    memory: mem,
    args: [options.argv0 ?? "program", ...(options.args ?? [])],
    env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
    output: (fd, bytes) => {
      const text = decoders[fd].decode(bytes, { stream: true });
      out[fd].push(text);
      options.onOutput?.(fd, text);
    },
    now: () => BigInt(Math.round(kernel.clock.now)),
    sleep: (ns) => kernel.clock.advance(Number(ns)),
  });
  const hooks = windows.hooks();
  if (noop) {
    for (const name of Object.keys(hooks)) {
      hooks[name] = name.endsWith("_ptr")
        ? (_id: number, _bytes: number, _offset: number, ptr: number) => ptr
        : (_id: number, value: unknown) => value;
    }
  }
  // Whatever the host runs for an import (a syscall, a WASI call that advances the clock and so
  // lets devices run, the output callback) may change page tables, the CPU port or RAM: drop the
  // translation cache after each.
  const flushAfter = (ns: Record<string, (...args: never[]) => unknown>) =>
    Object.fromEntries(
      Object.entries(ns).map(([name, fn]) => [
        name,
        (...a: never[]) => {
          try {
            return fn(...a);
          } finally {
            windows.flush();
          }
        },
      ]),
    );
  const imports = {
    wasi_snapshot_preview1: flushAfter(wasi),
    linux: flushAfter(linux),
    env: hooks,
  };
  checkImports(module, imports);
  const instance = new WebAssembly.Instance(module, imports as unknown as WebAssembly.Imports);
  memory = instance.exports.memory as WebAssembly.Memory;
  windows.flush();
  let exitCode = 0;
  let signal: RunResult["signal"];
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (e instanceof WasiExit) exitCode = e.code;
    else if (e instanceof KernelSignal && (e.code === "SIGBUS" || e.code === "SIGSEGV")) {
      signal = e.code;
      exitCode = 128 + SIGNALS[e.code].number;
      const msg = `${SIGNALS[e.code].text} (${e.message})\n`;
      out[2].push(msg);
      options.onOutput?.(2, msg);
    } else throw e;
  }
  const fdsAtExit = proc.fds();
  options.beforeExit?.(proc);
  proc.exit();
  return {
    exitCode,
    signal,
    stdout: out[1].join(""),
    stderr: out[2].join(""),
    process: proc,
    fdsAtExit,
    syscalls,
    accesses: windows.stats,
  };
}
