// sw_sync (sw_sync.c, sync_debug.c): timelines user space drives, for tests; debugfs sync/info.

import { KernelError } from "../errors/kernel-error.js";
import { view } from "../uapi/dma-buf.js";
import { O_CLOEXEC } from "../uapi/fcntl.js";
import {
  SW_SYNC_CREATE_FENCE_DATA_SIZE,
  SW_SYNC_GET_DEADLINE,
  SW_SYNC_GET_DEADLINE_SIZE,
  SW_SYNC_INC_SIZE,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
} from "../uapi/sw-sync.js";
import { copyFromUser } from "../uapi/user-copy.js";
import type { FileOperations, IoctlArg } from "../vfs/file.js";
import { type Namespace, textFile } from "../vfs/namespace.js";
import type { Credentials } from "../vfs/open.js";
import type { Process } from "../vfs/process.js";
import { DmaFence, type DmaFenceOps, type FenceRegistry, isLaterSeqno } from "./dma-fence.js";
import { syncFileCreate, syncFileGetFence } from "./sync-file.js";

/** Where debugfs shows the timeline factory: each open() makes a timeline. */
export const SW_SYNC_PATH = "/sys/kernel/debug/sync/sw_sync";
/** The timeline listing (`sync_debug.c`). */
export const SYNC_INFO_PATH = "/sys/kernel/debug/sync/info";

/** A task's comm holds at most 15 bytes (TASK_COMM_LEN 16 with the NUL). */
const TASK_COMM_BYTES = 15;
/** INC applies increments above INT_MAX in chunks of INT_MAX. */
const INT_MAX = 0x7fffffff;

/**
 * A fence of a sw_sync timeline (`struct sync_pt`): driver `sw_sync`, timeline = the
 * timeline's name, context = the timeline's, seqno = the value it waits for, compared with
 * the 32-bit wrap rule. It is signalled once the timeline's value reaches it.
 */
export class SwSyncPt extends DmaFence {
  static readonly #OPS: DmaFenceOps = {
    getDriverName: () => "sw_sync",
    getTimelineName: (f) => (f as SwSyncPt).timeline.name,
    signaled: (f) => (f as SwSyncPt).timeline.hasPassed(f.seqno),
    release: (f) => (f as SwSyncPt).timeline.forget(f as SwSyncPt),
    setDeadline: (f, deadline) => {
      const pt = f as SwSyncPt;
      if (pt.deadline === null || deadline < pt.deadline) pt.deadline = deadline;
    },
  };

  /** The earliest deadline hint set on the fence (virtual-clock ns), or null. */
  deadline: number | null = null;

  /**
   * @param timeline - the timeline (the fence holds a reference to it)
   * @param value - the timeline value at which it signals (u32)
   */
  constructor(
    readonly timeline: SyncTimeline,
    value: number,
  ) {
    super(timeline.registry, SwSyncPt.#OPS, timeline.context, value >>> 0);
    timeline.get();
  }
}

/**
 * A sw_sync timeline (`struct sync_timeline`): a name (the opener's comm), a fence context, a
 * signed 32-bit value starting at 0, and its pending fences sorted by seqno. It lives while
 * its file is open or any of its fences exists.
 */
export class SyncTimeline {
  /** The timeline's fence context. */
  readonly context: number;
  /** The pending fences, ascending seqno (32-bit wrap order); erroring ones stay after close. */
  readonly points: SwSyncPt[] = [];
  #value = 0;
  #refs = 1;

  /**
   * @param registry - the kernel's fence state
   * @param name - the timeline name
   * @param onFree - called when the last reference is gone
   */
  constructor(
    readonly registry: FenceRegistry,
    readonly name: string,
    private readonly onFree: (tl: SyncTimeline) => void,
  ) {
    this.context = registry.contextAlloc(1);
  }

  /** The current value (a signed 32-bit number, as `info` prints it). */
  get value(): number {
    return this.#value;
  }

  /** Takes a reference. */
  get(): void {
    this.#refs++;
  }

  /** Drops a reference; the last one removes the timeline from `info`. */
  put(): void {
    if (--this.#refs === 0) this.onFree(this);
  }

  /** Whether the timeline value has reached `seqno` (32-bit wrap compare). */
  hasPassed(seqno: bigint): boolean {
    return !isLaterSeqno(seqno, BigInt(this.#value), false);
  }

  /** Called when a fence of the timeline is freed: unlinks it and drops its reference. */
  forget(pt: SwSyncPt): void {
    const i = this.points.indexOf(pt);
    if (i >= 0) this.points.splice(i, 1);
    this.put();
  }

  /**
   * A fence at `value` (`sync_pt_create`), with a reference for the caller: born signalled
   * when the timeline has already reached it (and then not tracked), the existing pending
   * fence when one has the same seqno, else a new pending fence inserted in seqno order.
   */
  createPt(value: number): SwSyncPt {
    const pt = new SwSyncPt(this, value);
    if (pt.isSignaled()) return pt;
    const same = this.points.find((p) => p.seqno === pt.seqno);
    if (same) {
      this.put(); // the discarded point's reference
      return same.get();
    }
    const at = this.points.findIndex((p) => isLaterSeqno(p.seqno, pt.seqno, false));
    this.points.splice(at < 0 ? this.points.length : at, 0, pt);
    return pt;
  }

  /**
   * Advances the value by `inc` (wrapping at 32 bits) and signals the pending fences it
   * passes, lowest first, stopping at the first one still ahead (`sync_timeline_signal`).
   */
  signal(inc: number): void {
    this.#value = (this.#value + inc) | 0;
    for (;;) {
      const pt = this.points[0];
      if (!pt || !this.hasPassed(pt.seqno)) break;
      this.points.shift();
      pt.get();
      pt.signal();
      pt.put();
    }
  }

  /**
   * SW_SYNC_IOC_INC's work: increments above INT_MAX go in INT_MAX chunks, each a separate
   * signalling pass.
   */
  inc(increment: number): void {
    let left = increment >>> 0;
    while (left > INT_MAX) {
      this.signal(INT_MAX);
      left -= INT_MAX;
    }
    this.signal(left);
  }

  /**
   * The timeline file's release: every pending fence gets error -ENOENT and is signalled, in
   * seqno order; they stay listed (as `error`) until freed.
   */
  closeFile(): void {
    for (const pt of [...this.points]) {
      if (pt.isSignaled()) continue;
      pt.setError("ENOENT");
      pt.signal();
    }
    this.put();
  }
}

/**
 * The sw_sync driver of one kernel: `/sys/kernel/debug/sync/sw_sync` (mode 0644; every
 * open() creates a timeline named after the opener's comm, cut to 15 bytes) and
 * `/sys/kernel/debug/sync/info` (mode 0444), with the live timelines oldest first.
 */
export class SwSync {
  readonly #timelines: SyncTimeline[] = [];
  readonly #fops: FileOperations;

  /** @param registry - the kernel's fence state */
  constructor(private readonly registry: FenceRegistry) {
    this.#fops = {
      ioctl: (file, cmd, arg, proc) =>
        this.#ioctl(file.privateData as SyncTimeline, cmd, arg, proc),
      release: (file) => (file.privateData as SyncTimeline).closeFile(),
    };
  }

  /** The live timelines, oldest first. */
  get timelines(): readonly SyncTimeline[] {
    return this.#timelines;
  }

  /** Creates a timeline (`sync_timeline_create`); the caller owns its one reference. */
  createTimeline(name: string): SyncTimeline {
    const tl = new SyncTimeline(this.registry, name, (dead) => {
      const i = this.#timelines.indexOf(dead);
      if (i >= 0) this.#timelines.splice(i, 1);
    });
    this.#timelines.push(tl);
    return tl;
  }

  /** Installs `sync/sw_sync` and `sync/info` under /sys/kernel/debug. */
  install(ns: Namespace): void {
    ns.install(SW_SYNC_PATH, {
      kind: "reg",
      mode: 0o644,
      fops: this.#fops,
      open: (opener: Credentials) => this.createTimeline(commOf(opener)),
    });
    ns.install(
      SYNC_INFO_PATH,
      textFile(() => this.renderInfo()),
    );
  }

  /** The text of /sys/kernel/debug/sync/info. */
  renderInfo(): string {
    let out = "objs:\n--------------\n";
    for (const tl of this.#timelines) {
      out += `${tl.name}: ${tl.value}\n`;
      for (const pt of tl.points) {
        const status = pt.getStatus();
        const word = status === 0 ? "active" : status > 0 ? "signaled" : "error";
        const ts = pt.timestamp ?? 0;
        const at =
          status !== 0 ? `@${Math.floor(ts / 1e9)}.${String(ts % 1e9).padStart(9, "0")}` : "";
        out += `  fence ${word}${at}: ${pt.seqno} / ${tl.value}\n`;
      }
      out += "\n";
    }
    return `${out}fences:\n--------------\n`;
  }

  /**
   * The timeline file's ioctls, matched on the full command word.
   * @throws KernelError ENOTTY for anything else.
   */
  #ioctl(tl: SyncTimeline, cmd: number, arg: IoctlArg, proc: Process): number {
    switch (cmd) {
      case SW_SYNC_IOC_CREATE_FENCE:
        return this.#createFence(tl, arg, proc);
      case SW_SYNC_IOC_INC:
        tl.inc(view(copyFromUser(arg, SW_SYNC_INC_SIZE, "ioctl")).getUint32(0, true));
        return 0;
      case SW_SYNC_GET_DEADLINE:
        if (!this.registry.profile.fenceDeadlines) break;
        return this.#getDeadline(arg, proc);
    }
    throw new KernelError("ENOTTY", "ioctl", `0x${cmd.toString(16)} is not a sw_sync ioctl`);
  }

  /**
   * SW_SYNC_IOC_CREATE_FENCE: a fence at `value` wrapped in a new O_CLOEXEC sync_file whose
   * fd is written to `fence`; returns 0. `name` is ignored.
   * @throws KernelError EMFILE (checked first), EFAULT.
   */
  #createFence(tl: SyncTimeline, arg: IoctlArg, proc: Process): number {
    proc.unusedFd("ioctl");
    const bytes = copyFromUser(arg, SW_SYNC_CREATE_FENCE_DATA_SIZE, "ioctl");
    const pt = tl.createPt(view(bytes).getUint32(0, true));
    const sync = syncFileCreate(this.registry, pt);
    pt.put();
    const fd = proc.installFd(sync.file, O_CLOEXEC, "ioctl");
    view(bytes).setInt32(36, fd, true);
    return 0;
  }

  /**
   * SW_SYNC_GET_DEADLINE: the earliest deadline hint of the sw_sync fence behind `fence_fd`.
   * @throws KernelError EFAULT; EINVAL (`deadline_ns` or `pad` non-zero, not a sync_file, not
   * a sw_sync fence); ENOENT (no deadline was ever set).
   */
  #getDeadline(arg: IoctlArg, proc: Process): number {
    const bytes = copyFromUser(arg, SW_SYNC_GET_DEADLINE_SIZE, "ioctl");
    const v = view(bytes);
    if (v.getBigUint64(0, true) !== 0n || v.getUint32(8, true) !== 0) {
      throw new KernelError("EINVAL", "ioctl", "deadline_ns and pad must be 0");
    }
    const fence = syncFileGetFence(proc, v.getInt32(12, true));
    if (!fence) throw new KernelError("EINVAL", "ioctl", "fence_fd is not a sync_file");
    try {
      if (!(fence instanceof SwSyncPt)) {
        throw new KernelError("EINVAL", "ioctl", "not a sw_sync fence");
      }
      if (fence.deadline === null) throw new KernelError("ENOENT", "ioctl", "no deadline set");
      v.setBigUint64(0, BigInt(fence.deadline), true);
      return 0;
    } finally {
      fence.put();
    }
  }
}

/** The opener's comm as `get_task_comm` copies it: at most 15 bytes. */
function commOf(opener: Credentials): string {
  const bytes = new TextEncoder().encode(opener.name ?? "");
  return new TextDecoder().decode(bytes.subarray(0, TASK_COMM_BYTES));
}
