// A DMA engine on the virtual clock: a serial job queue with implicit sync through fences.

import {
  type DeviceHost,
  type DeviceSpec,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  DmaFence,
  type DmaFenceOps,
  fenceKey,
} from "@dmabuf/core";
import * as z from "zod";
import {
  type DeviceImportOptions,
  DeviceModel,
  deviceConfigSchema,
  type ImportedBuffer,
} from "./device-model.js";

/** One piece of work for an engine. */
export interface EngineJob {
  /** Buffers the job reads: it waits for their writers and adds a READ fence. */
  readonly reads: readonly ImportedBuffer[];
  /** Buffers the job writes: it waits for all their fences and adds a WRITE fence. */
  readonly writes: readonly ImportedBuffer[];
  /** Virtual nanoseconds the hardware takes once the job starts. */
  readonly duration: number;
  /** Bytes the job moves, as traces show it; default: the sizes of its buffers. */
  readonly bytes?: number;
  /** What the hardware does; runs at completion, when the bytes land. */
  run(): void;
}

interface Queued {
  readonly job: EngineJob;
  readonly fence: DmaFence;
  /** Unsignalled fences the job waits for (references owned). */
  deps: DmaFence[];
  waiting: boolean;
}

/**
 * A device that works asynchronously: jobs run one at a time, in submission order, as events
 * on the kernel's virtual clock. Each job follows the dma-buf implicit-sync rules: it waits for
 * the fences of the buffers it touches (writers of what it reads; readers and writers of what
 * it writes), adds its own fence to their reservation objects (READ or WRITE usage), moves
 * the bytes when it completes, then signals. CPU access with DMA_BUF_IOCTL_SYNC START, poll()
 * and {@link DmaEngine.wait} therefore see completed work only. A job holds the imports it
 * touches: releasing one while the job is queued leaves its teardown to the job's completion.
 *
 * If a job's transfer throws (a DMA fault, a fatal coherency violation), its fence signals
 * with error -EIO and the error propagates out of whatever is running the clock.
 */
export abstract class DmaEngine extends DeviceModel {
  /** The driver name fences carry (bufinfo's `<driver> <timeline> seq <n>`). */
  abstract readonly driverName: string;
  readonly #queue: Queued[] = [];
  #running = false;
  #context = -1;
  #seqno = 0;
  #last: DmaFence | undefined;
  readonly #ops: DmaFenceOps;

  /**
   * @param host - the device host
   * @param spec - the device's DMA properties
   * @param speed - bandwidth (bytes per virtual ns) and fixed latency (virtual ns) of a job,
   * for engines whose jobs last as long as their transfer (default 8 bytes/ns, no latency),
   * and whether it imports dynamically ({@link DeviceImportOptions.dynamic})
   */
  constructor(
    host: DeviceHost,
    spec: DeviceSpec,
    private readonly speed: {
      readonly bytesPerNs: number;
      readonly latencyNs: number;
      readonly dynamic?: boolean | undefined;
    } = {
      bytesPerNs: 8,
      latencyNs: 0,
    },
  ) {
    super(host, spec, { dynamic: speed.dynamic });
    this.#ops = {
      getDriverName: () => this.driverName,
      getTimelineName: () => this.device.name,
    };
  }

  /** Virtual nanoseconds a job moving `bytes` takes on this engine. */
  protected transferTime(bytes: number): number {
    return transferTime(bytes, this.speed.bytesPerNs, this.speed.latencyNs);
  }

  /** Jobs submitted and not completed. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Queues a job and returns its fence (the caller owns no reference; the engine and the
   * reservation objects hold theirs).
   */
  submit(job: EngineJob): DmaFence {
    if (this.#context < 0) this.#context = this.host.fences.contextAlloc(1);
    const fence = new DmaFence(this.host.fences, this.#ops, this.#context, ++this.#seqno);
    const deps: DmaFence[] = [];
    for (const b of job.writes) deps.push(...b.buf.resv.getFences(DMA_RESV_USAGE_READ));
    for (const b of job.reads) deps.push(...b.buf.resv.getFences(DMA_RESV_USAGE_WRITE));
    for (const b of job.reads) b.buf.resv.add(fence, DMA_RESV_USAGE_READ);
    for (const b of job.writes) b.buf.resv.add(fence, DMA_RESV_USAGE_WRITE);
    for (const b of job.reads) b.hold();
    for (const b of job.writes) b.hold();
    this.#last?.put();
    this.#last = fence.get();
    this.#queue.push({ job, fence, deps, waiting: false });
    this.#pump();
    return fence;
  }

  /**
   * Blocks until `fence` (default: the last job submitted) has signalled, running the
   * virtual clock.
   * @throws KernelError EINTR when nothing pending can ever signal it.
   */
  wait(fence: DmaFence | undefined = this.#last): void {
    fence?.wait(true);
  }

  /** Starts the head job once the engine is free and the job's dependencies signalled. */
  #pump(): void {
    if (this.#running) return;
    const head = this.#queue[0];
    if (!head || head.waiting) return;
    while (head.deps.length > 0) {
      const dep = head.deps[0] as DmaFence;
      if (!dep.isSignaled()) {
        try {
          dep.addCallback(() => {
            head.waiting = false;
            this.#pump();
          });
          head.waiting = true;
          return;
        } catch {
          // Signalled in between: fall through and drop it.
        }
      }
      head.deps.shift();
      dep.put();
    }
    this.#running = true;
    if (this.host.fences.trace?.on) this.#traceJob(head);
    this.host.clock.schedule(head.job.duration, () => this.#complete(head));
  }

  #traceJob(head: Queued): void {
    const { job, fence } = head;
    const bufs = [...job.reads, ...job.writes].map((b) => b.buf.ino);
    const bytes = job.bytes ?? [...job.reads, ...job.writes].reduce((n, b) => n + b.buf.size, 0);
    const end = this.host.clock.now + job.duration;
    this.host.fences.trace?.emit("dma-job", {
      dev: this.device.name,
      bytes,
      fence: fenceKey(fence),
      bufs,
      end,
    });
  }

  #complete(entry: Queued): void {
    this.#queue.shift();
    this.#running = false;
    let failure: unknown;
    try {
      entry.job.run();
    } catch (e) {
      failure = e;
      entry.fence.setError("EIO");
    }
    entry.fence.signal();
    entry.fence.put();
    // The job no longer holds its buffers: a released import's last job ends it.
    for (const b of entry.job.reads) b.unhold();
    for (const b of entry.job.writes) b.unhold();
    this.#pump();
    if (failure !== undefined) throw failure;
  }
}

/** Virtual nanoseconds to move `bytes` at `bytesPerNs`, plus a fixed `latencyNs`. */
export function transferTime(bytes: number, bytesPerNs: number, latencyNs: number): number {
  return latencyNs + Math.ceil(bytes / bytesPerNs);
}

/**
 * The configuration schema of an engine: the device's DMA properties plus its speed, with
 * the engine's own defaults.
 */
export function engineConfigSchema(defaults: { bytesPerNs: number; latencyNs: number }) {
  return deviceConfigSchema.extend({
    /** Bandwidth in bytes per virtual nanosecond. */
    bytesPerNs: z.number().positive().default(defaults.bytesPerNs),
    /** Fixed cost of a job in virtual nanoseconds. */
    latencyNs: z.number().nonnegative().default(defaults.latencyNs),
  });
}
