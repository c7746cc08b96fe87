// The fuzzed world: several kernels with heaps and a DMA engine, their processes, and what the
// fuzzer holds in each (device imports, vmaps); runs one operation through the public API.

import {
  createKernel,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type Kernel,
  KernelError,
  type KernelMapping,
  KernelSignal,
  type Mapping,
  type Process,
} from "@dmabuf/core";
import { type ImportedBuffer, MemcpyEngine } from "@dmabuf/devices";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import type { Op } from "./ops.js";

/** Heaps the alloc operation picks from (the last one does not exist: ENOENT). */
export const HEAPS = ["system", "default_cma_region", "no_such_heap"] as const;

/** One kernel of the world and what the fuzzer holds in it. */
export interface KernelState {
  readonly kernel: Kernel;
  /** Live processes, in spawn order. */
  readonly procs: Process[];
  /** The DMA engine (a device importing buffers). */
  readonly engine: MemcpyEngine;
  /** Live device imports (each holds one buffer reference). */
  readonly imports: ImportedBuffer[];
  /** Live kernel mappings taken with dma_buf_vmap (each with a reference the fuzzer holds). */
  readonly vmaps: { buf: DmaBuf; map: KernelMapping }[];
  /** Free pages of the page allocator right after boot. */
  readonly bootFree: number;
}

/** The fuzzed world. */
export interface World {
  readonly kernels: KernelState[];
}

/** Number of kernels in a world. */
export const KERNELS = 2;

/** Boots a world: {@link KERNELS} kernels with the system and CMA heaps and a memcpy engine. */
export function makeWorld(): World {
  const kernels: KernelState[] = [];
  for (let i = 0; i < KERNELS; i++) {
    const kernel = createKernel({
      ram: "8MiB",
      cma: { size: "2MiB" },
      heapNodeMode: 0o666,
      plugins: [SystemHeap, CmaHeap, MemcpyEngine],
    });
    const procs = [kernel.spawn({ name: "root" }), kernel.spawn({ name: "user", uid: 1000 })];
    kernels.push({
      kernel,
      procs,
      engine: kernel.plugin(MemcpyEngine),
      imports: [],
      vmaps: [],
      bootFree: kernel.buddy.freePageCount(),
    });
  }
  return { kernels };
}

let crossKernel: boolean | undefined;

/**
 * Whether this build refuses `sendFd` to a process of another kernel (issue 11 point 1).
 * Until it does, the fuzzer passes fds within a kernel only, and says so
 * ({@link crossKernelSendRefused} is printed by the campaign).
 */
export function crossKernelSendRefused(): boolean {
  if (crossKernel === undefined) {
    const a = createKernel({ ram: "16MiB" });
    const b = createKernel({ ram: "16MiB" });
    const p = a.spawn();
    const fd = p.open("/dev/null", 0);
    try {
      p.sendFd(fd, b.spawn());
      crossKernel = false;
    } catch (e) {
      crossKernel = e instanceof KernelError;
    }
  }
  return crossKernel;
}

let mmapBounds: boolean | undefined;

/**
 * Whether this build refuses negative and huge mmap lengths with an errno, quickly (issue 11
 * point 5). Until it does, the fuzzer maps at most 16 MiB and never a negative length, and
 * the campaign says so.
 */
export function mmapBoundariesFixed(): boolean {
  if (mmapBounds === undefined) {
    const k = createKernel({ ram: "16MiB" });
    const p = k.spawn();
    const fd = p.memfdCreate("probe", 0);
    p.ftruncate(fd, 4096);
    // Linux answers a negative length with ENOMEM and maps a 16 TiB window of a small memfd
    // (touching past its end is SIGBUS); a build that throws anything but a KernelError, or
    // takes time in proportion to the length, is not fixed.
    mmapBounds = [-4096, 2 ** 44].every((len) => {
      try {
        p.munmap(p.mmap(fd, len, 1, 1, 0));
        return len > 0;
      } catch (e) {
        return e instanceof KernelError;
      }
    });
  }
  return mmapBounds;
}

const pick = <T>(list: readonly T[], i: number): T | undefined =>
  list.length === 0 ? undefined : list[i % list.length];

/** The fd an operation names: one of the process's open fds, or (rarely) a closed number. */
function fdOf(p: Process, i: number): number {
  const fds = p.fds();
  if (fds.length === 0 || i % 17 === 16) return i % 1200;
  return fds[i % fds.length] as number;
}

/** Every user mapping of a kernel's processes, in process order. */
function mappingsOf(ks: KernelState): { proc: Process; m: Mapping }[] {
  const out: { proc: Process; m: Mapping }[] = [];
  for (const proc of ks.procs) for (const m of proc.mappings()) out.push({ proc, m });
  return out;
}

/** The path of the pseudo files a read operation looks at. */
function pathOf(what: number, target: Process): string {
  switch (what) {
    case 0:
      return "/sys/kernel/debug/dma_buf/bufinfo";
    case 1:
      return `/proc/${target.pid}/maps`;
    case 2:
      return `/proc/${target.pid}/fdinfo/${target.fds()[0] ?? 0}`;
    case 3:
      return `/proc/${target.pid}/fd/${target.fds()[0] ?? 0}`;
    case 4:
      return "/sys/kernel/debug/cma/reserved/bitmap";
    default:
      return "/sys/kernel/debug/sync/info";
  }
}

/**
 * Runs one operation. Errors a syscall or the in-kernel API documents (KernelError; SIGBUS or
 * SIGSEGV on an access) are returned; anything else is thrown to the caller as a finding.
 * @returns the error the operation failed with, or null
 */
export function apply(w: World, op: Op): KernelError | KernelSignal | null {
  const ks = w.kernels[op.k % w.kernels.length] as KernelState;
  const k = ks.kernel;
  const procOf = (i: number) => pick(ks.procs, i);
  try {
    switch (op.t) {
      case "spawn":
        if (ks.procs.length < 6) ks.procs.push(k.spawn({ uid: op.uid }));
        return null;
      case "alloc": {
        const p = procOf(op.p);
        if (!p) return null;
        const heap = p.open(`/dev/dma_heap/${HEAPS[op.heap % HEAPS.length]}`, 0);
        try {
          const arg = new Uint8Array(24);
          const v = new DataView(arg.buffer);
          v.setBigUint64(0, BigInt.asUintN(64, BigInt(op.len)), true);
          v.setUint32(12, op.fdFlags >>> 0, true);
          p.ioctl(heap, 0xc0184800, arg);
        } finally {
          p.close(heap);
        }
        return null;
      }
      case "close": {
        const p = procOf(op.p);
        if (p) p.close(fdOf(p, op.fd));
        return null;
      }
      case "dup": {
        const p = procOf(op.p);
        if (p) p.dup(fdOf(p, op.fd));
        return null;
      }
      case "send": {
        const p = procOf(op.p);
        const other = crossKernelSendRefused()
          ? (w.kernels[op.k2 % w.kernels.length] as KernelState)
          : ks;
        const to = pick(other.procs, op.p2);
        if (p && to) p.sendFd(fdOf(p, op.fd), to);
        return null;
      }
      case "mmap": {
        const p = procOf(op.p);
        if (!p) return null;
        const len = mmapBoundariesFixed() ? op.len : Math.min(Math.abs(op.len), 1 << 24);
        p.mmap(fdOf(p, op.fd), len, op.prot, op.flags, op.off);
        return null;
      }
      case "munmap": {
        const e = pick(mappingsOf(ks), op.m);
        if (e) e.proc.munmap(e.m);
        return null;
      }
      case "access": {
        const e = pick(mappingsOf(ks), op.m);
        if (!e) return null;
        const len = Math.max(0, Math.min(op.len, e.m.length - op.off));
        if (op.off < 0 || op.off > e.m.length) return null;
        if (op.write) e.m.fill(0xa5, op.off, len);
        else e.m.read(op.off, len);
        return null;
      }
      case "sync": {
        const p = procOf(op.p);
        if (!p) return null;
        const arg = new Uint8Array(8);
        new DataView(arg.buffer).setUint32(0, op.flags >>> 0, true);
        p.ioctl(fdOf(p, op.fd), 0x40086200, arg);
        return null;
      }
      case "setName": {
        const p = procOf(op.p);
        if (p) p.ioctl(fdOf(p, op.fd), 0x40086201, op.arg as Uint8Array);
        return null;
      }
      case "ioctl": {
        const p = procOf(op.p);
        // Copies: a driver may write the struct back, and a shrunk sequence must replay.
        const arg = op.arg instanceof Uint8Array ? op.arg.slice() : op.arg;
        if (p) p.ioctl(fdOf(p, op.fd), op.cmd >>> 0, arg as Uint8Array);
        return null;
      }
      case "exportSync": {
        const p = procOf(op.p);
        if (!p) return null;
        const arg = new Uint8Array(8);
        arg[0] = op.flags;
        p.ioctl(fdOf(p, op.fd), 0xc0086202, arg);
        return null;
      }
      case "read": {
        const p = procOf(op.p);
        const target = procOf(op.target);
        if (!p || !target) return null;
        const path = pathOf(op.what, target);
        if (op.what === 3) p.readlink(path);
        else p.readFile(path);
        return null;
      }
      case "exit": {
        const p = procOf(op.p);
        if (!p) return null;
        p.exit();
        ks.procs.splice(ks.procs.indexOf(p), 1);
        return null;
      }
      case "kill": {
        procOf(op.p)?.kill();
        return null;
      }
      case "import": {
        const p = procOf(op.p);
        if (p) ks.imports.push(ks.engine.importFd(p, fdOf(p, op.fd), DMA_BIDIRECTIONAL));
        return null;
      }
      case "copy": {
        const a = pick(ks.imports, op.a);
        const b = pick(ks.imports, op.b);
        if (!a || !b) return null;
        const len = Math.min(op.len, a.size, b.size);
        if (len === 0) return null;
        ks.engine.wait(ks.engine.copy(b, 0, a, 0, len));
        return null;
      }
      case "unimport": {
        const i = ks.imports.length === 0 ? -1 : op.i % ks.imports.length;
        if (i >= 0) ks.imports.splice(i, 1)[0]?.release();
        return null;
      }
      case "vmap": {
        const p = procOf(op.p);
        if (!p) return null;
        const buf = k.dmaBuf.get(p, fdOf(p, op.fd));
        try {
          ks.vmaps.push({ buf, map: k.dmaBuf.vmap(buf) });
        } catch (e) {
          k.dmaBuf.put(buf);
          throw e;
        }
        return null;
      }
      case "vunmap": {
        const i = ks.vmaps.length === 0 ? -1 : op.v % ks.vmaps.length;
        const v = i >= 0 ? ks.vmaps.splice(i, 1)[0] : undefined;
        if (v) {
          k.dmaBuf.vunmap(v.buf, v.map);
          k.dmaBuf.put(v.buf);
        }
        return null;
      }
      case "memfd": {
        const p = procOf(op.p);
        if (!p) return null;
        const fd = p.memfdCreate("fuzz", 0);
        try {
          p.ftruncate(fd, op.len);
        } catch (e) {
          p.close(fd);
          throw e;
        }
        return null;
      }
    }
  } catch (e) {
    if (e instanceof KernelError) return e;
    if (e instanceof KernelSignal && (op.t === "access" || op.t === "copy")) return e;
    throw e;
  }
}

/** Drops everything the fuzzer holds and ends every process: the world must then be empty. */
export function teardown(w: World): void {
  for (const ks of w.kernels) {
    for (const i of ks.imports.splice(0)) i.release();
    for (const v of ks.vmaps.splice(0)) {
      ks.kernel.dmaBuf.vunmap(v.buf, v.map);
      ks.kernel.dmaBuf.put(v.buf);
    }
    for (const p of ks.procs.splice(0)) p.exit();
  }
}
