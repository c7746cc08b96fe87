// struct dma_resv: the reservation object holding a buffer's implicit-sync fences.

/** How a fence relates to the buffer's implicit synchronisation (`enum dma_resv_usage`). */
export const DMA_RESV_USAGE_KERNEL = 0;
/** Implicit write. */
export const DMA_RESV_USAGE_WRITE = 1;
/** Implicit read. */
export const DMA_RESV_USAGE_READ = 2;
/** No implicit sync. */
export const DMA_RESV_USAGE_BOOKKEEP = 3;
/** One of the DMA_RESV_USAGE_* values. */
export type DmaResvUsage = 0 | 1 | 2 | 3;

/** The minimum a fence offers the reservation object. */
export interface ResvFence {
  /** Whether the fence has signalled. */
  readonly signaled: boolean;
  /** `<driver> <timeline> seq <seqno>`, as dma_fence_describe prints. */
  describe(): string;
}

/**
 * A reservation object. The dma-buf core consults it for poll(), SYNC START's implicit wait
 * and bufinfo; device models add fences as they start work.
 */
export class DmaResv {
  /** Fences with their usage, oldest first. */
  readonly fences: { fence: ResvFence; usage: DmaResvUsage }[] = [];

  /** Adds a fence with a usage. */
  add(fence: ResvFence, usage: DmaResvUsage): void {
    this.fences.push({ fence, usage });
  }

  /** True iff no unsignalled fence has usage ≤ `usage` (`dma_resv_test_signaled`). */
  testSignaled(usage: DmaResvUsage): boolean {
    return this.fences.every((f) => f.usage > usage || f.fence.signaled);
  }

  /** The bufinfo lines for fences with usage ≤ READ (`dma_resv_describe`). */
  describe(): string {
    const names = ["kernel", "write", "read"];
    return this.fences
      .filter((f) => f.usage <= DMA_RESV_USAGE_READ)
      .map(
        (f) =>
          `\t${names[f.usage]} fence:${f.fence.describe()} ${f.fence.signaled ? "signalled" : "unsignalled"}\n`,
      )
      .join("");
  }
}
