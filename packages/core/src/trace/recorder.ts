// The kernel's event trace: what happened when, on the virtual clock, in a bounded ring.

/** What a trace event records. */
export type TraceKind =
  /** A heap allocation (`DMA_HEAP_IOCTL_ALLOC`): `heap`, `bytes`, `buf`, `fd`. */
  | "alloc"
  /** `dma_buf_export`: `buf`, `bytes`, `text` = exporter name. */
  | "export"
  /** The buffer's release (last reference gone): `buf`, `bytes`. */
  | "release"
  /** `DMA_BUF_SET_NAME`: `buf`, `text` = the new name. */
  | "name"
  /** An fd of a dma-buf installed in `pid`: `buf`, `fd`. */
  | "fd-install"
  /** An fd of a dma-buf closed in `pid`: `buf`, `fd`. */
  | "fd-close"
  /** `dma_buf_attach`: `buf`, `dev`. */
  | "attach"
  /** `dma_buf_detach`: `buf`, `dev`. */
  | "detach"
  /** `dma_buf_map_attachment`: `buf`, `dev`, `dir`, `iova` (first segment), `bytes`. */
  | "map"
  /** `dma_buf_unmap_attachment`: `buf`, `dev`, `dir`, `iova`. */
  | "unmap"
  /** A user mapping of a dma-buf made in `pid`: `buf`, `iova` = user address, `bytes`. */
  | "mmap"
  /** A user mapping of a dma-buf removed in `pid`: `buf`, `iova` = user address. */
  | "munmap"
  /** `dma_buf_begin_cpu_access` (SYNC START): `buf`, `dir`. */
  | "cpu-begin"
  /** `dma_buf_end_cpu_access` (SYNC END): `buf`, `dir`. */
  | "cpu-end"
  /** A device job starts: `dev`, `bytes`, `fence`, `bufs`, `end` = when it completes. */
  | "dma-job"
  /** A fence signals: `fence` (`context:seqno`), `text` = driver/timeline, `error`. */
  | "fence-signal"
  /**
   * A wait that ran the clock ended: `start`; a fence wait has `fence` and `text` "signaled"
   * or "timeout or interrupted", a poll has `text` "poll: ready" or "poll: timeout".
   */
  | "wait"
  /** A kernel log line at warn or err level (DMA-API debugging, coherency, lifetime): `text`, `level`. */
  | "finding";

/** One recorded event. Fields not listed for its {@link TraceKind} are absent. */
export interface TraceEvent {
  /** Order of recording, from 0; gaps never occur, drops are counted in {@link TraceRecorder.dropped}. */
  readonly seq: number;
  /** Virtual time (ns). */
  readonly ts: number;
  /** What happened. */
  readonly kind: TraceKind;
  /** The process whose syscall it happened in (`current`), 0 for the kernel itself. */
  readonly pid: number;
  /** Inode number of the dma-buf concerned. */
  readonly buf?: number;
  /** Inode numbers of the buffers a device job touches. */
  readonly bufs?: readonly number[];
  /** Device name (`dev_name`). */
  readonly dev?: string;
  /** Heap name. */
  readonly heap?: string;
  /** Bytes concerned. */
  readonly bytes?: number;
  /** File descriptor. */
  readonly fd?: number;
  /** DMA direction (`DMA_BIDIRECTIONAL` 0 … `DMA_FROM_DEVICE` 2). */
  readonly dir?: number;
  /** A device address (IOVA / DMA address) or a user virtual address. */
  readonly iova?: number;
  /** A fence, as `context:seqno`. */
  readonly fence?: string;
  /** Start of an interval that ends at `ts` (waits), in virtual ns. */
  readonly start?: number;
  /** End of an interval that starts at `ts` (device jobs), in virtual ns. */
  readonly end?: number;
  /** Log level of a finding. */
  readonly level?: string;
  /** A negative errno a fence signalled with. */
  readonly error?: number;
  /** Words: exporter name, finding text, wait result, fence names. */
  readonly text?: string;
}

/** The fields a trace point passes: everything but what the recorder adds. */
export type TraceFields = Omit<TraceEvent, "seq" | "ts" | "kind" | "pid">;

/** Options of {@link TraceRecorder.start}. */
export interface TraceStartOptions {
  /** Most events kept; older ones are dropped first (and counted). Default 65536. */
  capacity?: number;
}

/**
 * Records what a kernel does, event by event, stamped with the virtual clock and the current
 * process. Off by default: a trace point costs one test of {@link TraceRecorder.on}, and
 * builds its event only when tracing is on. Bounded: a ring of `capacity` events, the oldest
 * dropped first and counted in {@link TraceRecorder.dropped}.
 *
 * Trace points are one line each: `if (trace.on) trace.emit("attach", { buf, dev })`.
 *
 * @example
 * ```ts
 * kernel.trace.start();
 * // … work …
 * const file = toTraceEventFile(kernel.trace, kernel.clock.now); // JSON for ui.perfetto.dev
 * ```
 */
export class TraceRecorder {
  /** Whether events are recorded. Trace points test this field and nothing else. */
  on = false;
  #ring: TraceEvent[] = [];
  #capacity = 65536;
  #head = 0;
  #seq = 0;
  #dropped = 0;
  #startedAt = 0;
  readonly #comms = new Map<number, string>();

  /**
   * @param now - the virtual clock
   * @param current - the process whose syscall runs (`current`), if any
   */
  constructor(
    private readonly now: () => number,
    private readonly current: () => { readonly pid: number; readonly name: string } | undefined,
  ) {}

  /**
   * Starts recording into an empty ring.
   * @throws RangeError when `capacity` is not a positive integer.
   */
  start(options: TraceStartOptions = {}): void {
    const capacity = options.capacity ?? 65536;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError("trace capacity must be a positive integer");
    }
    this.#capacity = capacity;
    this.clear();
    this.#startedAt = this.now();
    this.on = true;
  }

  /** Stops recording; the events stay readable. */
  stop(): void {
    this.on = false;
  }

  /** Forgets every event and the dropped count. */
  clear(): void {
    this.#ring = [];
    this.#head = 0;
    this.#seq = 0;
    this.#dropped = 0;
    this.#comms.clear();
  }

  /** Events dropped because the ring was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Most events kept. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Virtual time recording last started at (ns). */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Records one event now. Call it only when {@link TraceRecorder.on} holds. */
  emit(kind: TraceKind, fields: TraceFields): void {
    const task = this.current();
    const pid = task?.pid ?? 0;
    if (task && !this.#comms.has(pid)) this.#comms.set(pid, task.name);
    const ev: TraceEvent = { seq: this.#seq++, ts: this.now(), kind, pid, ...fields };
    if (this.#ring.length < this.#capacity) {
      this.#ring.push(ev);
      return;
    }
    this.#ring[this.#head] = ev;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#dropped++;
  }

  /** The command name (`comm`) of every process seen in an event, by pid. */
  processNames(): ReadonlyMap<number, string> {
    return this.#comms;
  }

  /** The kept events, oldest first. */
  events(): TraceEvent[] {
    return [...this.#ring.slice(this.#head), ...this.#ring.slice(0, this.#head)];
  }
}
