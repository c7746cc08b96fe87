// dma-heap.c: the heap registry, /dev/dma_heap nodes and the size-tolerant ALLOC ioctl.

import type { DmaBufCore } from "../dma-buf/core.js";
import type { DmaBuf } from "../dma-buf/dma-buf.js";
import { KernelError } from "../errors/kernel-error.js";
import { pluginBadReturn, pluginFault } from "../errors/plugin-fault.js";
import type { KernelLog } from "../kernel-log.js";
import { bufferInWords, type PageOwners } from "../mm/page-owner.js";
import type { KernelProfile } from "../profile.js";
import type { TraceRecorder } from "../trace/recorder.js";
import {
  DMA_HEAP_ALLOCATION_DATA_SIZE,
  DMA_HEAP_IOCTL_ALLOC,
  DMA_HEAP_VALID_FD_FLAGS,
} from "../uapi/dma-heap.js";
import { _IOC_DIR, _IOC_NR, _IOC_READ, _IOC_SIZE, _IOC_WRITE } from "../uapi/ioctl.js";
import { copyBytes, getU32, getU64, setU32 } from "../uapi/le-bytes.js";
import type { File, FileOperations, IoctlArg } from "../vfs/file.js";
import { dynamicDir, type Namespace, type Node, textFile } from "../vfs/namespace.js";
import type { Process } from "../vfs/process.js";
import type { DmaHeapHandle, DmaHeapOps, HeapCapabilities } from "./ops.js";

/** Number of heap minors (NUM_HEAP_MINORS). */
export const NUM_HEAP_MINORS = 128;
/** The character-device major of the dma_heap region (dynamic in Linux; 254 on the oracle). */
export const DMA_HEAP_MAJOR = 254;

/** What {@link DmaHeapRegistry.add} accepts (`struct dma_heap_export_info`). */
export interface DmaHeapExportInfo {
  /** Heap name; names the memory, never the implementation. */
  name: string;
  /** The heap's methods. */
  ops: DmaHeapOps;
  /** Heap-private data. */
  priv?: unknown;
  /** What the heap can do. */
  capabilities?: HeapCapabilities;
}

/** A registered heap (`struct dma_heap`). */
export class DmaHeap implements DmaHeapHandle {
  /**
   * @param name - heap name
   * @param ops - heap methods
   * @param priv - heap-private data
   * @param minor - char-device minor
   * @param ino - inode number of /dev/dma_heap/<name>
   * @param capabilities - declared capabilities
   */
  constructor(
    readonly name: string,
    readonly ops: DmaHeapOps,
    readonly priv: unknown,
    readonly minor: number,
    readonly ino: number,
    readonly capabilities: HeapCapabilities,
  ) {}
}

/** What the heap framework needs from its kernel. */
export interface DmaHeapHost {
  /** The path namespace. */
  readonly namespace: Namespace;
  /** The dma-buf core (to install the fd). */
  readonly dmaBuf: DmaBufCore;
  /** The kernel log. */
  readonly log: KernelLog;
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Permission bits of new /dev/dma_heap nodes (devtmpfs default 0600, or a udev rule). */
  readonly heapNodeMode: number;
  /** Inode numbers on devtmpfs. */
  nextPseudoIno(): number;
  /** Behaviour switches of the kernel version (readdir order of /dev/dma_heap). */
  readonly profile: KernelProfile;
  /** The kernel's event trace, if any. */
  readonly trace?: TraceRecorder;
  /** The kernel's page owners: pages an ALLOC takes are the heap's, then the buffer's. */
  readonly pageOwners?: PageOwners;
}

const U64 = (1n << 64n) - 1n;

/**
 * The heap framework of one kernel (drivers/dma-buf/dma-heap.c): registration under
 * `dma_heap_add`'s rules, the /dev/dma_heap and /sys/class/dma_heap trees, and the ALLOC
 * ioctl of a heap fd.
 */
export class DmaHeapRegistry {
  readonly #heaps: DmaHeap[] = [];
  readonly #fops: FileOperations;

  /** @param host - the kernel */
  constructor(private readonly host: DmaHeapHost) {
    this.#fops = {
      ioctl: (file, cmd, arg, proc) => this.#ioctl(file, cmd, arg, proc),
    };
    host.namespace.install(
      "/dev/dma_heap",
      dynamicDir(
        () => {
          const names = this.#heaps.map((h) => h.name);
          return host.profile.devtmpfsNewestFirst ? names.reverse() : names;
        },
        (name) => this.#deviceNode(name),
        0o755,
      ),
    );
    host.namespace.install(
      "/sys/class/dma_heap",
      dynamicDir(
        () => this.#heaps.map((h) => h.name),
        (name) => this.#sysfsDir(name),
        0o755,
      ),
    );
  }

  /** Registered heaps, in registration order. */
  list(): readonly DmaHeap[] {
    return this.#heaps;
  }

  /** The heap called `name`, if registered. */
  find(name: string): DmaHeap | undefined {
    return this.#heaps.find((h) => h.name === name);
  }

  /**
   * Registers a heap (`dma_heap_add`); /dev/dma_heap/<name> appears at once.
   * @throws KernelError EINVAL (empty name, no allocate method); EBUSY (all 128 minors
   * used); EEXIST (a heap of that name exists — device_create fails first since 6.1).
   */
  add(info: DmaHeapExportInfo): DmaHeap {
    if (typeof info.name !== "string" || info.name === "") {
      throw new KernelError("EINVAL", "dma_heap_add", "a heap needs a name");
    }
    if (!info.ops || typeof info.ops.allocate !== "function") {
      throw new KernelError("EINVAL", "dma_heap_add", "a heap needs an allocate method");
    }
    const used = new Set(this.#heaps.map((h) => h.minor));
    let minor = 0;
    while (used.has(minor)) minor++;
    if (minor >= NUM_HEAP_MINORS) throw new KernelError("EBUSY", "dma_heap_add", "no free minor");
    if (this.find(info.name)) {
      this.host.log.log("err", `dma_heap: Already registered heap named ${info.name}`);
      throw new KernelError("EEXIST", "dma_heap_add", `heap ${info.name} exists`);
    }
    const heap = new DmaHeap(
      info.name,
      info.ops,
      info.priv,
      minor,
      this.host.nextPseudoIno(),
      info.capabilities ?? {},
    );
    this.#heaps.push(heap);
    return heap;
  }

  #deviceNode(name: string): Node | undefined {
    const heap = this.find(name);
    if (!heap) return undefined;
    return {
      kind: "chr",
      mode: this.host.heapNodeMode,
      uid: 0,
      gid: 0,
      ino: heap.ino,
      rdev: [DMA_HEAP_MAJOR, heap.minor],
      fops: this.#fops,
      nonseekable: true,
      privateData: heap,
    };
  }

  #sysfsDir(name: string): Node | undefined {
    const heap = this.find(name);
    if (!heap) return undefined;
    const files: Record<string, Node> = {
      dev: textFile(() => `${DMA_HEAP_MAJOR}:${heap.minor}\n`),
      uevent: textFile(
        () => `MAJOR=${DMA_HEAP_MAJOR}\nMINOR=${heap.minor}\nDEVNAME=dma_heap/${heap.name}\n`,
        0o644,
      ),
    };
    return dynamicDir(
      () => Object.keys(files),
      (f) => files[f],
      0o755,
    );
  }

  /**
   * Calls the heap's allocate. A plain error thrown, or a return that is not a live dma-buf of
   * this kernel, is a bug of the heap: a PLUGIN_OP_FAILED / PLUGIN_BAD_RETURN finding naming
   * the heap and op, and EIO for the ALLOC (no fd is installed).
   */
  #allocate(heap: DmaHeap, len: number, fdFlags: number, heapFlags: bigint, proc: Process): DmaBuf {
    const who = `heap ${heap.name}`;
    let buf: DmaBuf;
    let made: DmaBuf | undefined;
    const owners = this.host.pageOwners;
    const owner = owners?.open(() =>
      made
        ? `heap '${heap.name}' ${bufferInWords(made)}`
        : `heap '${heap.name}' ALLOC of ${len} bytes by pid ${proc.pid} (${proc.name}) that failed`,
    );
    try {
      buf = heap.ops.allocate(heap, len, fdFlags, heapFlags);
      made = buf;
    } catch (e) {
      throw pluginFault(this.host.log, e, who, "allocate", "ioctl");
    } finally {
      if (owner !== undefined) owners?.close(owner);
    }
    const file = (buf as { file?: unknown } | null)?.file;
    if (
      typeof file !== "object" ||
      file === null ||
      this.host.dmaBuf.fromFile(file as File) !== buf
    ) {
      throw pluginBadReturn(this.host.log, who, "allocate", "ioctl", buf);
    }
    return buf;
  }

  /** The heap fd's ioctl: any command number 0 is ALLOC, with the user's struct size. */
  #ioctl(file: File, cmd: number, arg: IoctlArg, proc: Process): number {
    const heap = file.privateData as DmaHeap;
    if (_IOC_NR(cmd) >= 1) throw new KernelError("EINVAL", "ioctl", "unknown heap ioctl");
    const usize = _IOC_SIZE(cmd);
    const kdir = _IOC_DIR(DMA_HEAP_IOCTL_ALLOC);
    const udir = _IOC_DIR(cmd);
    const inSize = udir & kdir & _IOC_WRITE ? usize : 0;
    const outSize = udir & kdir & _IOC_READ ? usize : 0;
    const k = new Uint8Array(Math.max(inSize, outSize, DMA_HEAP_ALLOCATION_DATA_SIZE));
    if (inSize > 0) {
      if (!(arg instanceof Uint8Array) || arg.length < inSize) {
        throw new KernelError("EFAULT", "ioctl", "cannot read the allocation struct");
      }
      copyBytes(k, arg, inSize);
    }
    const len = getU64(k, 0);
    const fd = getU32(k, 8);
    const fdFlags = getU32(k, 12);
    const heapFlags = getU64(k, 16);
    if (fd !== 0) throw new KernelError("EINVAL", "ioctl", "fd must be 0 on input");
    if (fdFlags & ~DMA_HEAP_VALID_FD_FLAGS) {
      throw new KernelError("EINVAL", "ioctl", "fd_flags has bits other than O_CLOEXEC|O_ACCMODE");
    }
    if (heapFlags !== 0n) throw new KernelError("EINVAL", "ioctl", "no heap_flags are defined");
    const ps = BigInt(this.host.pageSize);
    const aligned = (len + ps - 1n) & ~(ps - 1n) & U64;
    if (aligned === 0n) throw new KernelError("EINVAL", "ioctl", "zero length");
    if (aligned > BigInt(Number.MAX_SAFE_INTEGER)) {
      // Linux runs out of memory (or is OOM-killed) on such a request; the model fails cleanly.
      throw new KernelError("ENOMEM", "ioctl", "length exceeds any memory");
    }
    const buf = this.#allocate(heap, Number(aligned), fdFlags, heapFlags, proc);
    let newFd: number;
    try {
      newFd = this.host.dmaBuf.fd(buf, proc, fdFlags);
    } catch (e) {
      this.host.dmaBuf.put(buf);
      throw e;
    }
    setU32(k, 8, newFd);
    if (this.host.trace?.on)
      this.host.trace.emit("alloc", { heap: heap.name, bytes: buf.size, buf: buf.ino, fd: newFd });
    if (outSize > 0) {
      if (!(arg instanceof Uint8Array) || arg.length < outSize) {
        throw new KernelError("EFAULT", "ioctl", "cannot write the allocation struct back");
      }
      copyBytes(arg, k, outSize);
    }
    return 0;
  }
}
