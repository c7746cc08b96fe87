// struct dma_fence_array: one fence standing for several, signalling when all (or any) do.

import { isKernelError } from "../errors/kernel-error.js";
import { DmaFence, type DmaFenceOps, type FenceRegistry } from "./dma-fence.js";

/**
 * A container fence (`struct dma_fence_array`): it signals once all of its fences have (or
 * the first one, with `signalOnAny`), and carries the first error any of them reported
 * through its callbacks. Used for the singleton of a reservation object holding several
 * fences and for merged sync files. Driver name `dma_fence_array`, timeline `unbound`.
 *
 * @remarks A freshly created array is pending until signalling is enabled (a callback, a
 * wait, a poll) or it is checked with `isSignaled`, which then looks at its fences; an array
 * found signalled by such a check reports no error (as in mainline).
 */
export class DmaFenceArray extends DmaFence {
  static readonly #OPS: DmaFenceOps = {
    getDriverName: () => "dma_fence_array",
    getTimelineName: () => "unbound",
    enableSignaling: (f) => (f as DmaFenceArray).#enableSignaling(),
    signaled: (f) => (f as DmaFenceArray).#signaled(),
    release: (f) => {
      for (const child of (f as DmaFenceArray).fences) child.put();
    },
    setDeadline: (f, deadline) => {
      for (const child of (f as DmaFenceArray).fences) child.setDeadline(deadline);
    },
  };

  /** The fences it stands for. */
  readonly fences: readonly DmaFence[];
  /** Whether it signals with the first of its fences rather than the last. */
  readonly signalOnAny: boolean;
  #numPending: number;
  #pendingError = 0;
  #enabled = false;

  /**
   * Creates an array (`dma_fence_array_create`). It takes over one reference to each fence
   * (dropped when the array is freed). Containers inside an array WARN.
   * @param registry - the kernel's fence state
   * @param fences - at least one fence
   * @param context - usually a fresh one from {@link FenceRegistry.contextAlloc}
   * @param seqno - usually 1
   * @param signalOnAny - signal with the first fence instead of the last
   */
  constructor(
    registry: FenceRegistry,
    fences: readonly DmaFence[],
    context: number,
    seqno: number | bigint,
    signalOnAny = false,
  ) {
    super(registry, DmaFenceArray.#OPS, context, seqno);
    if (fences.length === 0) registry.log.warn("dma_fence_array_init: no fences");
    for (const f of fences) {
      if (f.isContainer) registry.log.warn("dma_fence_array_init: a container inside an array");
    }
    this.fences = [...fences];
    this.signalOnAny = signalOnAny;
    this.#numPending = signalOnAny ? 1 : fences.length;
  }

  /** Always true: an array contains fences. */
  override get isContainer(): boolean {
    return true;
  }

  #childDone(child: DmaFence): boolean {
    if (child.error && this.#pendingError === 0) this.#pendingError = child.error;
    return --this.#numPending === 0;
  }

  #enableSignaling(): boolean {
    this.#enabled = true;
    for (const child of this.fences) {
      try {
        child.addCallback((done) => {
          if (!this.#childDone(done) || this.timestamp !== null) return;
          if (this.#pendingError) this.setError(this.#pendingError);
          this.signal();
        });
      } catch (e) {
        if (!isKernelError(e, "ENOENT")) throw e;
        // Already signalled: count it now.
        if (this.#childDone(child)) {
          if (this.#pendingError) this.setError(this.#pendingError);
          return false;
        }
      }
    }
    return true;
  }

  #signaled(): boolean {
    if (this.#enabled) return this.#numPending <= 0;
    let pending = this.#numPending;
    for (const child of this.fences) {
      if (child.isSignaled() && --pending <= 0) return true;
    }
    return false;
  }
}
