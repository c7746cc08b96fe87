// Zoo: an importer whose queued device work adds no fence to the buffer.

import {
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  type DmaBuf,
  DmaFence,
  type Process,
} from "@dmabuf/core";
import type { ConformanceTarget } from "../cli/target.js";
import type {
  ImporterReadWork,
  ImporterWork,
  ImportHandle,
} from "../conformance/importer/context.js";
import { ReferenceImporter } from "../reference/reference-importer.js";

/** Virtual nanoseconds one queued transfer takes. */
const JOB_NS = 2000;

/**
 * Broken on purpose: queues device work on the virtual clock and waits for the buffer's
 * existing fences, but never adds its own fence to the reservation object, so SYNC START and
 * poll() do not see the work in flight (declare it with `asyncWork`).
 */
export class UnfencedImporter extends ReferenceImporter {
  #context = -1;
  #seqno = 0;

  /** {@inheritDoc ImporterUnderTest.importFd} */
  override importFd(proc: Process, fd: number): ImportHandle {
    const imp = super.importFd(proc, fd);
    const buf = this.kernel.dmaBuf.get(proc, fd);
    this.kernel.dmaBuf.put(buf);
    return {
      read: imp.read,
      write: imp.write,
      release: imp.release,
      queueRead: (offset, length): ImporterReadWork => {
        const bytes = new Uint8Array(length);
        const work = this.#queue(buf, DMA_RESV_USAGE_WRITE, () =>
          bytes.set(imp.read(offset, length)),
        );
        return Object.defineProperty(work, "bytes", { value: bytes }) as ImporterReadWork;
      },
      queueWrite: (offset, bytes) => {
        const data = bytes.slice();
        return this.#queue(buf, DMA_RESV_USAGE_READ, () => imp.write(offset, data));
      },
    };
  }

  /** Waits for the fences up to `waitFor`, then runs `move` after {@link JOB_NS}. */
  #queue(buf: DmaBuf, waitFor: 1 | 2, move: () => void): ImporterWork {
    const fences = this.kernel.fences;
    if (this.#context < 0) this.#context = fences.contextAlloc(1);
    const ops = { getDriverName: () => "unfenced", getTimelineName: () => this.device.name };
    const fence = new DmaFence(fences, ops, this.#context, ++this.#seqno);
    const deps = buf.resv.getFences(waitFor);
    let finished = false;
    const start = (): void => {
      const dep = deps.shift();
      if (!dep) {
        this.kernel.clock.schedule(JOB_NS, () => {
          move();
          finished = true;
          fence.signal();
          fence.put();
        });
        return;
      }
      if (dep.isSignaled()) {
        dep.put();
        start();
        return;
      }
      dep.addCallback(() => {
        dep.put();
        start();
      });
    };
    start();
    return {
      get done() {
        return finished;
      },
      wait: () => {
        if (!finished) fence.wait(true);
      },
    };
  }
}

/** How `dmabuf-conformance` runs it: an importer whose device work is asynchronous. */
export const conformance: ConformanceTarget[] = [
  {
    suite: "importer",
    options: {
      name: "UnfencedImporter",
      importer: (kernel) => new UnfencedImporter(kernel),
      capabilities: { asyncWork: true },
    },
  },
];
