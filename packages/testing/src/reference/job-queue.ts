// A device's job queue on the virtual clock: jobs run in order, each fenced by implicit sync.

import {
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  type DmaBuf,
  DmaFence,
  type DmaFenceOps,
  type Kernel,
} from "@dmabuf/core";

/** One job for a {@link DeviceJobQueue}. */
export interface DeviceJob {
  /** The buffer the job touches. */
  readonly buf: DmaBuf;
  /** Whether the device writes the buffer (else it reads it). */
  readonly write: boolean;
  /**
   * The fences the job waits for before it starts (the caller owns a reference to each,
   * which the queue drops). A correct importer passes
   * `buf.resv.getFences(write ? DMA_RESV_USAGE_READ : DMA_RESV_USAGE_WRITE)`.
   */
  readonly deps: DmaFence[];
  /** What the hardware does; runs at completion, when the bytes move. */
  run(): void;
}

/**
 * A device's job queue, as a GPU or DMA engine driver keeps one: jobs start in submission
 * order, one at a time, once their dependencies signalled, and complete {@link
 * DeviceJobQueue.jobNs} virtual nanoseconds later. Each job's fence is added to the buffer's
 * reservation object at submission (WRITE usage for writes, READ for reads) and signals when
 * the job completed, so POLLIN and DMA_BUF_IOCTL_SYNC START see completed work only. Fences
 * of one queue share a fence context and signal in seqno order, as dma-buf requires.
 *
 * If a job's `run` throws (a DMA fault), its fence signals with error -EIO and the error
 * propagates out of whatever runs the clock.
 */
export class DeviceJobQueue {
  readonly #ops: DmaFenceOps;
  #context = -1;
  #seqno = 0;
  /** The last job's fence (a reference held), which the next job waits for. */
  #last: DmaFence | undefined;

  /**
   * @param kernel - the kernel whose clock runs the jobs
   * @param driverName - the driver name fences carry
   * @param timelineName - the timeline name fences carry (the device's name)
   * @param jobNs - virtual nanoseconds a job takes once it starts
   */
  constructor(
    private readonly kernel: Kernel,
    driverName: string,
    timelineName: string,
    readonly jobNs = 2000,
  ) {
    this.#ops = { getDriverName: () => driverName, getTimelineName: () => timelineName };
  }

  /**
   * Queues `job` and returns its fence (the caller owns no reference: the queue holds one
   * until the job completed, the reservation object its own).
   * @throws KernelBug as the reservation object's `add` does.
   */
  submit(job: DeviceJob): DmaFence {
    const fences = this.kernel.fences;
    if (this.#context < 0) this.#context = fences.contextAlloc(1);
    const fence = new DmaFence(fences, this.#ops, this.#context, ++this.#seqno);
    const deps = [...job.deps];
    if (this.#last) deps.push(this.#last);
    this.#last = fence.get();
    job.buf.resv.add(fence, job.write ? DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ);
    const start = (): void => {
      for (let dep = deps.shift(); dep; dep = deps.shift()) {
        if (!dep.isSignaled()) {
          const waitingFor = dep;
          try {
            waitingFor.addCallback(() => {
              waitingFor.put();
              start();
            });
            return;
          } catch {
            // Signalled in between: drop it like a signalled one.
          }
        }
        dep.put();
      }
      this.kernel.clock.schedule(this.jobNs, () => complete());
    };
    const complete = (): void => {
      let failure: unknown;
      try {
        job.run();
      } catch (e) {
        failure = e;
        fence.setError("EIO");
      }
      fence.signal();
      if (this.#last === fence) {
        this.#last = undefined;
        fence.put();
      }
      fence.put();
      if (failure !== undefined) throw failure;
    };
    start();
    return fence;
  }
}

/** The dependencies implicit sync gives a job: writers for a read, every fence for a write. */
export function implicitDeps(buf: DmaBuf, write: boolean): DmaFence[] {
  return buf.resv.getFences(write ? DMA_RESV_USAGE_READ : DMA_RESV_USAGE_WRITE);
}
