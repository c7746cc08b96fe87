// struct dma_fence: a one-shot completion on a timeline, with callbacks, errors and waits.

import { ERRNO, type ErrnoCode } from "../errors/errno.js";
import { KernelBug } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import type { KernelLog } from "../kernel-log.js";
import type { KernelProfile } from "../profile.js";
import type { SimClock } from "../time/clock.js";
import { traceFenceSignal, traceFenceWait } from "../trace/fence-points.js";
import type { TraceRecorder } from "../trace/recorder.js";
import type { AnonInodeFs } from "../vfs/anon-inode.js";

/**
 * The "no timeout" value of the wait functions (`MAX_SCHEDULE_TIMEOUT`). Timeouts in the
 * model are virtual nanoseconds, not jiffies.
 */
export const MAX_SCHEDULE_TIMEOUT = Number.POSITIVE_INFINITY;

/** The largest errno a fence error may carry (`MAX_ERRNO`). */
const MAX_ERRNO = 4095;

/**
 * The methods of a fence implementation (`struct dma_fence_ops`). Checked when a fence is
 * created: the two name callbacks are mandatory.
 */
export interface DmaFenceOps {
  /**
   * The name of the driver that made the fence. Called by bufinfo, SYNC_IOC_FILE_INFO and the
   * sync_file's default name. **Required**.
   * @remarks Under a profile with `fenceNamesDetachOnSignal` it is no longer called once the
   * fence has signalled (the name reads `detached-driver`).
   */
  getDriverName(fence: DmaFence): string;
  /**
   * The name of the fence's timeline. Called like {@link DmaFenceOps.getDriverName}.
   * **Required**.
   */
  getTimelineName(fence: DmaFence): string;
  /**
   * Start whatever makes the fence signal. Called once, the first time a callback is added,
   * a wait begins or {@link DmaFence.enableSwSignaling} runs. **Optional**.
   * @returns false when the fence is already done: the core then signals it right away.
   */
  enableSignaling?(fence: DmaFence): boolean;
  /**
   * Peek whether the fence is done. Called by {@link DmaFence.isSignaled} while the fence is
   * not yet marked signalled; a true answer signals it. **Optional**.
   */
  signaled?(fence: DmaFence): boolean;
  /**
   * A custom wait. Called by {@link DmaFence.waitTimeout} instead of the default wait on the
   * virtual clock. **Optional**.
   * @returns what `waitTimeout` returns (remaining ns, 1 or 0)
   * @throws KernelError to report a failure (e.g. ETIME, as the selftest mock does).
   */
  wait?(fence: DmaFence, intr: boolean, timeout: number): number;
  /** Free the implementation's state. Called when the last reference is dropped. **Optional**. */
  release?(fence: DmaFence): void;
  /**
   * Receive a deadline hint (virtual-clock ns). Called by {@link DmaFence.setDeadline} while
   * the fence is unsignalled. **Optional**.
   */
  setDeadline?(fence: DmaFence, deadline: number): void;
}

/** What the fence code needs from its kernel. */
export interface FenceHost {
  /** The virtual clock: signal timestamps and waits. */
  readonly clock: SimClock;
  /** Behaviour switches of the kernel version. */
  readonly profile: KernelProfile;
  /** The kernel log (WARNs). */
  readonly log: KernelLog;
  /** The anonymous-inode filesystem (sync_file files). */
  readonly anonInodes: AnonInodeFs;
  /** Whether the current task has a signal pending: interruptible waits give up with EINTR. */
  signalPending(): boolean;
  /** The kernel's event trace: signals and waits are recorded there when it is on. */
  readonly trace?: TraceRecorder;
}

/** The callback function of {@link DmaFence.addCallback}. */
export type DmaFenceFunc = (fence: DmaFence, cb: DmaFenceCb) => void;

/** A callback queued on a fence (`struct dma_fence_cb`), as {@link DmaFence.addCallback} returns it. */
export class DmaFenceCb {
  /** @param func - what runs when the fence signals */
  constructor(readonly func: DmaFenceFunc) {}
}

/**
 * Whether seqno `f1` is later than `f2` on one timeline (`__dma_fence_is_later`): a plain
 * comparison for 64-bit seqnos, otherwise the 32-bit wrap-around rule
 * `(s32)(lower_32_bits(f1) - lower_32_bits(f2)) > 0`.
 */
export function isLaterSeqno(f1: bigint, f2: bigint, seqno64: boolean): boolean {
  if (seqno64) return f1 > f2;
  return BigInt.asIntN(32, f1 - f2) > 0n;
}

const STUB_OPS: DmaFenceOps = {
  getDriverName: () => "stub",
  getTimelineName: () => "stub",
};

/**
 * The fence state of one kernel: the context counter (`dma_fence_context_alloc`, starting at
 * 1; 0 belongs to stub fences), the signalled stub fence, and the services fences use (the
 * clock for timestamps and waits, the profile, the log). Nothing is module-level: each
 * {@link Kernel} owns one, as `kernel.fences`.
 */
export class FenceRegistry {
  #nextContext = 1;
  #stub: DmaFence | undefined;
  /** Fences with at least one queued callback (not yet run or removed). */
  readonly #armed = new Set<DmaFence>();

  /** @param host - the kernel */
  constructor(private readonly host: FenceHost) {}

  /** The virtual clock. */
  get clock(): SimClock {
    return this.host.clock;
  }
  /** The kernel's behaviour switches. */
  get profile(): KernelProfile {
    return this.host.profile;
  }
  /** The kernel log. */
  get log(): KernelLog {
    return this.host.log;
  }
  /** The kernel's event trace, if any. */
  get trace(): TraceRecorder | undefined {
    return this.host.trace;
  }
  /** The anonymous-inode filesystem. */
  get anonInodes(): AnonInodeFs {
    return this.host.anonInodes;
  }
  /** Whether the current task has a signal pending. */
  signalPending(): boolean {
    return this.host.signalPending();
  }

  /**
   * Allocates `num` consecutive fence contexts (`dma_fence_context_alloc`).
   * @returns the first of them; `num` = 0 WARNs and allocates nothing
   */
  contextAlloc(num = 1): number {
    if (!(num > 0)) this.log.warn("dma_fence_context_alloc: zero contexts requested");
    const first = this.#nextContext;
    if (num > 0) this.#nextContext += num;
    return first;
  }

  /**
   * The callbacks queued on fences and not yet run or removed (`dma_fence_add_callback`
   * without the matching signal or `dma_fence_remove_callback`), for leak accounting: the
   * total, and the count per fence timeline as `driver:timeline:context` (sorted).
   * Cost: the fences armed now.
   */
  armedCallbacks(): { total: number; byTimeline: Record<string, number> } {
    let total = 0;
    const counts = new Map<string, number>();
    for (const f of this.#armed) {
      const key = `${f.driverName()}:${f.timelineName()}:${f.context}`;
      counts.set(key, (counts.get(key) ?? 0) + f.pendingCallbacks);
      total += f.pendingCallbacks;
    }
    const byTimeline: Record<string, number> = {};
    for (const key of [...counts.keys()].sort()) byTimeline[key] = counts.get(key) as number;
    return { total, byTimeline };
  }

  /** @internal A fence's first callback was queued (`armed`) or its last went. */
  setArmed(fence: DmaFence, armed: boolean): void {
    if (armed) this.#armed.add(fence);
    else this.#armed.delete(fence);
  }

  /**
   * The signalled stub fence (`dma_fence_get_stub`): context 0, seqno 0, names `stub`,
   * timestamp = its first use. The caller gets a reference.
   */
  getStub(): DmaFence {
    if (!this.#stub) {
      this.#stub = new DmaFence(this, STUB_OPS, 0, 0);
      this.#stub.signal();
    }
    return this.#stub.get();
  }
}

/**
 * A fence (`struct dma_fence`): the completion of one piece of work, ordered by `seqno` on
 * its timeline (`context`). It signals exactly once, may carry an error, runs callbacks in
 * the order they were added, and can be waited for on the virtual clock. Its reference count
 * starts at 1 for the creator; sync files, reservation objects, arrays and poll callbacks take
 * their own.
 *
 * @example
 * ```ts
 * const ctx = kernel.fences.contextAlloc(1);
 * const f = new DmaFence(kernel.fences, { getDriverName: () => "gpu", getTimelineName: () => "ring0" }, ctx, 1);
 * kernel.clock.schedule(1e6, () => f.signal());
 * f.waitTimeout(true, MAX_SCHEDULE_TIMEOUT); // runs the clock to 1 ms
 * ```
 */
export class DmaFence {
  /** The fence's timeline (`context`). */
  readonly context: number;
  /** Its position on the timeline (a u64). */
  readonly seqno: bigint;
  /** Whether seqnos compare as 64-bit numbers (`dma_fence_init64`) rather than with 32-bit wrap. */
  readonly seqno64: boolean;
  #refs = 1;
  #error = 0;
  #signaled = false;
  #timestamp: number | null = null;
  #signalingEnabled = false;
  #callbacks: DmaFenceCb[] = [];

  /**
   * Initialises a fence (`dma_fence_init`, or `dma_fence_init64` with `seqno64`).
   * @param registry - the kernel's fence state
   * @param ops - the implementation
   * @param context - the timeline, from {@link FenceRegistry.contextAlloc}
   * @param seqno - position on the timeline
   * @param options - `seqno64`: compare seqnos as 64-bit numbers
   * @throws KernelBug DMA_FENCE_BAD_OPS when `getDriverName` or `getTimelineName` is missing.
   */
  constructor(
    readonly registry: FenceRegistry,
    readonly ops: DmaFenceOps,
    context: number,
    seqno: number | bigint,
    options: { seqno64?: boolean } = {},
  ) {
    if (typeof ops?.getDriverName !== "function" || typeof ops.getTimelineName !== "function") {
      throw new KernelBug("DMA_FENCE_BAD_OPS", "fence ops need getDriverName and getTimelineName");
    }
    this.context = context;
    this.seqno = BigInt.asUintN(64, BigInt(seqno));
    this.seqno64 = options.seqno64 ?? false;
  }

  /** Whether the fence is a container of other fences (a {@link DmaFenceArray}). */
  get isContainer(): boolean {
    return false;
  }

  // ---- references -----------------------------------------------------------------------

  /** References held. */
  get refCount(): number {
    return this.#refs;
  }

  /**
   * Takes a reference (`dma_fence_get`).
   * @throws KernelBug DMA_FENCE_REF_UNDERFLOW on a freed fence.
   */
  get(): this {
    if (this.#refs <= 0) {
      throw new KernelBug("DMA_FENCE_REF_UNDERFLOW", "dma_fence_get on a freed fence");
    }
    this.#refs++;
    return this;
  }

  /**
   * Drops a reference (`dma_fence_put`). The last one frees the fence: an unsignalled fence
   * that still has callbacks WARNs, gets error -EDEADLK and is signalled first; then
   * `ops.release` runs.
   * @throws KernelBug DMA_FENCE_REF_UNDERFLOW when already freed.
   */
  put(): void {
    if (this.#refs <= 0) {
      throw new KernelBug("DMA_FENCE_REF_UNDERFLOW", "dma_fence_put on a freed fence");
    }
    if (--this.#refs > 0) return;
    if (!this.#signaled && this.#callbacks.length > 0) {
      this.registry.log.warn(
        `dma_fence_release: fence ${this.driverName()}:${this.timelineName()}:${this.context}:${this.seqno} released with pending signals`,
      );
      this.#error = -ERRNO.EDEADLK.errno;
      this.signal();
    }
    this.ops.release?.(this);
  }

  // ---- state ----------------------------------------------------------------------------

  /** Callbacks queued and not yet run or removed. */
  get pendingCallbacks(): number {
    return this.#callbacks.length;
  }

  /** The error set before signalling (a negative errno), or 0. */
  get error(): number {
    return this.#error;
  }

  /** When the fence signalled (virtual-clock ns), or null while it has not. */
  get timestamp(): number | null {
    return this.#timestamp;
  }

  /** Same as {@link DmaFence.isSignaled}. */
  get signaled(): boolean {
    return this.isSignaled();
  }

  /**
   * Whether the fence has signalled (`dma_fence_is_signaled`); asks `ops.signaled` when not
   * yet marked, and signals the fence if it says so.
   */
  isSignaled(): boolean {
    if (this.#signaled) return true;
    if (this.ops.signaled?.(this)) {
      this.signal();
      return true;
    }
    return false;
  }

  /**
   * 0 while pending, 1 once signalled, the (negative) error when signalled with one
   * (`dma_fence_get_status`).
   */
  getStatus(): number {
    if (!this.isSignaled()) return 0;
    return this.#error < 0 ? this.#error : 1;
  }

  /**
   * Records an error to report once the fence signals (`dma_fence_set_error`): a negative
   * errno, or an errno name such as `"EIO"`.
   * @throws KernelBug DMA_FENCE_SET_ERROR when the fence has already signalled or the value
   * is not a negative errno (Linux WARNs; the model refuses, since a signalled fence's status
   * must never change).
   */
  setError(error: number | ErrnoCode): void {
    const value = typeof error === "string" ? -ERRNO[error].errno : error;
    if (this.#signaled) {
      throw new KernelBug("DMA_FENCE_SET_ERROR", "dma_fence_set_error after signalling");
    }
    if (!Number.isInteger(value) || value >= 0 || value < -MAX_ERRNO) {
      throw new KernelBug("DMA_FENCE_SET_ERROR", `dma_fence_set_error(${value}): not a -errno`);
    }
    this.#error = value;
  }

  /**
   * Signals the fence (`dma_fence_signal`): the first call stamps the time from the virtual
   * clock and runs the callbacks in the order they were added; a fence never returns to
   * unsignalled.
   * @returns whether the fence had already signalled. This is the truth value of both kernel
   * APIs: up to 6.19 `dma_fence_signal` returns 0 / -EINVAL, from 7.0
   * `dma_fence_check_and_signal` returns false / true.
   */
  signal(): boolean {
    return this.signalTimestamp(this.registry.clock.now);
  }

  /**
   * Signals the fence with a given timestamp (`dma_fence_signal_timestamp`).
   * @returns whether the fence had already signalled (see {@link DmaFence.signal}).
   */
  signalTimestamp(timestamp: number): boolean {
    if (this.#signaled) return true;
    if (this.registry.trace?.on) traceFenceSignal(this.registry.trace, this, this.#error);
    this.#signaled = true;
    this.#timestamp = timestamp;
    const callbacks = this.#callbacks;
    this.#callbacks = [];
    if (callbacks.length > 0) this.registry.setArmed(this, false);
    for (const cb of callbacks) cb.func(this, cb);
    return false;
  }

  /**
   * Starts signalling (`dma_fence_enable_sw_signaling`): calls `ops.enableSignaling` once; a
   * false answer signals the fence.
   * @returns whether the fence is still pending afterwards
   */
  enableSwSignaling(): boolean {
    const wasEnabled = this.#signalingEnabled;
    this.#signalingEnabled = true;
    if (this.#signaled) return false;
    if (!wasEnabled && this.ops.enableSignaling && !this.ops.enableSignaling(this)) {
      this.signal();
      return false;
    }
    return true;
  }

  // ---- callbacks ------------------------------------------------------------------------

  /**
   * Queues `func` to run when the fence signals (`dma_fence_add_callback`); enables
   * signalling first.
   * @returns the queued callback, for {@link DmaFence.removeCallback}
   * @throws KernelError ENOENT when the fence has already signalled (the callback is not
   * queued and never runs).
   */
  addCallback(func: DmaFenceFunc): DmaFenceCb {
    if (this.#signaled || !this.enableSwSignaling()) {
      throw new KernelError("ENOENT", "dma_fence_add_callback", "fence already signalled");
    }
    const cb = new DmaFenceCb(func);
    if (this.#callbacks.push(cb) === 1) this.registry.setArmed(this, true);
    return cb;
  }

  /**
   * Dequeues a callback (`dma_fence_remove_callback`).
   * @returns true if it was still pending (it will not run), false if it already ran or was
   * removed
   */
  removeCallback(cb: DmaFenceCb): boolean {
    const i = this.#callbacks.indexOf(cb);
    if (i < 0) return false;
    this.#callbacks.splice(i, 1);
    if (this.#callbacks.length === 0) this.registry.setArmed(this, false);
    return true;
  }

  // ---- waits ----------------------------------------------------------------------------

  /**
   * Waits for the fence on the virtual clock (`dma_fence_wait_timeout`): runs the clock's
   * events until the fence signals or `timeout` ns have passed. `ops.wait` replaces the
   * default wait.
   * @param intr - interruptible: a pending signal of the current task ends the wait
   * @param timeout - ns, or {@link MAX_SCHEDULE_TIMEOUT}
   * @returns the remaining time (> 0) when signalled — 1 if `timeout` was 0 (or the fence
   * signalled exactly at the deadline) — or 0 when the wait timed out (or `timeout` was 0 and
   * the fence is pending)
   * @throws KernelError EINVAL for a negative timeout; EINTR when interrupted, or when an
   * interruptible wait without timeout can never end (no pending clock event signals the
   * fence: the model reports it instead of hanging). KernelBug DMA_FENCE_WAIT_FOREVER for
   * such a wait that is not interruptible (Linux: a task hung forever).
   */
  waitTimeout(intr: boolean, timeout: number): number {
    if (!(timeout >= 0)) {
      this.registry.log.warn("dma_fence_wait_timeout: negative timeout");
      throw new KernelError("EINVAL", "dma_fence_wait_timeout", "negative timeout");
    }
    this.enableSwSignaling();
    if (this.ops.wait) return this.ops.wait(this, intr, timeout);
    return this.#defaultWait(intr, timeout);
  }

  /** `dma_fence_default_wait` on the virtual clock. */
  #defaultWait(intr: boolean, timeout: number): number {
    const fences = this.registry;
    if (this.isSignaled()) return timeout === 0 ? 1 : timeout;
    if (intr && fences.signalPending()) {
      throw new KernelError("EINTR", "dma_fence_wait", "signal pending");
    }
    if (timeout === 0) return 0;
    const clock = fences.clock;
    const deadline = clock.now + timeout;
    const start = clock.now;
    clock.runUntil(() => this.isSignaled() || (intr && fences.signalPending()), deadline);
    if (fences.trace?.on) traceFenceWait(fences.trace, this, start);
    if (this.isSignaled()) return Math.max(1, deadline - clock.now);
    if (intr && fences.signalPending()) {
      throw new KernelError("EINTR", "dma_fence_wait", "signal pending");
    }
    if (Number.isFinite(deadline)) return 0;
    if (intr) throw new KernelError("EINTR", "dma_fence_wait", "nothing can signal the fence");
    throw new KernelBug(
      "DMA_FENCE_WAIT_FOREVER",
      `uninterruptible wait for ${this.driverName()} ${this.timelineName()} seq ${this.seqno}, which nothing can signal`,
    );
  }

  /**
   * Waits without timeout (`dma_fence_wait`).
   * @throws as {@link DmaFence.waitTimeout}.
   */
  wait(intr = true): void {
    this.waitTimeout(intr, MAX_SCHEDULE_TIMEOUT);
  }

  /**
   * Passes a deadline hint (virtual-clock ns) to `ops.setDeadline` while the fence is
   * unsignalled (`dma_fence_set_deadline`).
   */
  setDeadline(deadline: number): void {
    if (this.ops.setDeadline && !this.isSignaled()) this.ops.setDeadline(this, deadline);
  }

  // ---- names and ordering ---------------------------------------------------------------

  /**
   * The driver name (`dma_fence_driver_name`): `detached-driver` once signalled under a
   * profile with `fenceNamesDetachOnSignal`, else `ops.getDriverName`.
   */
  driverName(): string {
    if (this.#signaled && this.registry.profile.fenceNamesDetachOnSignal) return "detached-driver";
    return this.ops.getDriverName(this);
  }

  /**
   * The timeline name (`dma_fence_timeline_name`): `signaled-timeline` once signalled under a
   * profile with `fenceNamesDetachOnSignal`, else `ops.getTimelineName`.
   */
  timelineName(): string {
    if (this.#signaled && this.registry.profile.fenceNamesDetachOnSignal) {
      return "signaled-timeline";
    }
    return this.ops.getTimelineName(this);
  }

  /** `<driver> <timeline> seq <seqno> <un>signalled\n`, as `dma_fence_describe` prints it. */
  describe(): string {
    const driver = this.driverName();
    const timeline = this.timelineName();
    return `${driver} ${timeline} seq ${this.seqno} ${this.isSignaled() ? "" : "un"}signalled\n`;
  }

  /**
   * Whether this fence comes after `other` on their shared timeline (`dma_fence_is_later`).
   * Fences of different contexts cannot be compared: that WARNs and answers false.
   */
  isLater(other: DmaFence): boolean {
    if (this.context !== other.context) {
      this.registry.log.warn("dma_fence_is_later: fences of different contexts");
      return false;
    }
    return isLaterSeqno(this.seqno, other.seqno, this.seqno64);
  }

  /** Whether this fence is `other` or comes after it (`dma_fence_is_later_or_same`). */
  isLaterOrSame(other: DmaFence): boolean {
    return this === other || this.isLater(other);
  }
}
