// The memory behind a contiguous heap: a CMA area or a carveout pool, behind one interface.

import { type CmaArea, type FreeRunStats, type Kernel, KernelError } from "@dmabuf/core";
import type { GenPool } from "./gen-pool.js";

/** A run of page frames: `[firstPfn, pages]`. */
export type PfnRun = readonly [pfn: number, pages: number];

/**
 * What a contiguous heap allocates from, as the heap's private data (`dma_heap_get_drvdata`):
 * a CMA area or a carveout pool. The fragmentation tools find it through the heap's name.
 */
export abstract class ContiguousRegion {
  /** Where the memory comes from. */
  abstract readonly kind: "cma" | "carveout";
  /** The area's or carveout's name. */
  abstract readonly name: string;
  /** First page frame. */
  abstract readonly basePfn: number;
  /** Number of pages. */
  abstract readonly count: number;
  /** Pages per allocation granule (1 for CMA). */
  abstract readonly granulePages: number;
  /** Free-run statistics, in pages. */
  abstract freeRunStats(): FreeRunStats;
  /** Whether the page at `pfn` is handed out (or pinned). */
  abstract isAllocated(pfn: number): boolean;
  /**
   * Takes the given runs (ascending, disjoint, inside the region, granule aligned) out of the
   * free space, all or nothing.
   * @throws KernelError EBUSY when a page of a run is not free (nothing is taken).
   */
  abstract pinRuns(runs: readonly PfnRun[]): void;
  /** Gives a buffer's (or a pinned run's) pages back. */
  abstract releasePages(pfn: number, pages: number): void;

  /** @throws KernelError EBUSY unless every page of every run is free. */
  protected assertFree(runs: readonly PfnRun[]): void {
    for (const [pfn, pages] of runs) {
      for (let p = pfn; p < pfn + pages; p += this.granulePages) {
        if (this.isAllocated(p)) {
          throw new KernelError("EBUSY", "seed_fragmentation", `${this.name}: pfn ${p} in use`);
        }
      }
    }
  }
}

/** A CMA area behind a CMA heap (one area may back several heaps). */
export class CmaRegion extends ContiguousRegion {
  /** Where the memory comes from. */
  readonly kind = "cma";
  /** Pages per allocation granule. */
  readonly granulePages = 1;

  /** @param area - the CMA area */
  constructor(readonly area: CmaArea) {
    super();
  }
  /** The area's name. */
  get name(): string {
    return this.area.name;
  }
  /** First page frame. */
  get basePfn(): number {
    return this.area.basePfn;
  }
  /** Number of pages. */
  get count(): number {
    return this.area.count;
  }
  /** {@inheritDoc ContiguousRegion.freeRunStats} */
  freeRunStats(): FreeRunStats {
    return this.area.freeRunStats();
  }
  /** {@inheritDoc ContiguousRegion.isAllocated} */
  isAllocated(pfn: number): boolean {
    return this.area.isAllocated(pfn);
  }

  /**
   * {@inheritDoc ContiguousRegion.pinRuns}
   * @remarks A CMA area only allocates first fit, so the pins are made with its own
   * allocator: every free run below the end of the last pin is taken in address order (each
   * is then the lowest free run, so first fit returns exactly it), and the pages between the
   * pins are given back. The area's failure counter is not touched.
   */
  pinRuns(runs: readonly PfnRun[]): void {
    if (runs.length === 0) return;
    this.assertFree(runs);
    const area = this.area;
    const last = runs[runs.length - 1] as PfnRun;
    const end = last[0] + last[1];
    const taken: PfnRun[] = [];
    let pfn = area.basePfn;
    while (pfn < end) {
      if (area.isAllocated(pfn)) {
        pfn++;
        continue;
      }
      let stop = pfn + 1;
      while (stop < end && !area.isAllocated(stop)) stop++;
      const got = area.alloc(stop - pfn, 0);
      if (got !== pfn) throw new Error(`CMA first fit returned ${got}, expected ${pfn}`);
      taken.push([pfn, stop - pfn]);
      pfn = stop;
    }
    // Give back what lies between the pins.
    let r = 0;
    for (const [start, pages] of taken) {
      let p = start;
      const stop = start + pages;
      while (p < stop) {
        while (r < runs.length && (runs[r] as PfnRun)[0] + (runs[r] as PfnRun)[1] <= p) r++;
        const pin = runs[r];
        if (pin && pin[0] <= p) {
          p = Math.min(stop, pin[0] + pin[1]);
          continue;
        }
        const next = pin ? Math.min(stop, pin[0]) : stop;
        area.release(p, next - p);
        p = next;
      }
    }
  }

  /** {@inheritDoc ContiguousRegion.releasePages} */
  releasePages(pfn: number, pages: number): void {
    this.area.release(pfn, pages);
  }
}

/** A carveout: a region reserved at boot, managed by a {@link GenPool}. */
export class PoolRegion extends ContiguousRegion {
  /** Where the memory comes from. */
  readonly kind = "carveout";

  /**
   * @param pool - the allocator of the carveout's pages
   * @param isProtected - protected mode: freed buffers are scrubbed
   * @param kernel - the kernel whose memory is scrubbed
   */
  constructor(
    readonly pool: GenPool,
    readonly isProtected: boolean,
    private readonly kernel: Pick<Kernel, "memory" | "pageSize">,
  ) {
    super();
  }
  /** The carveout's name. */
  get name(): string {
    return this.pool.name;
  }
  /** First page frame. */
  get basePfn(): number {
    return this.pool.basePfn;
  }
  /** Number of pages. */
  get count(): number {
    return this.pool.count;
  }
  /** Pages per allocation granule. */
  get granulePages(): number {
    return this.pool.granulePages;
  }
  /** {@inheritDoc ContiguousRegion.freeRunStats} */
  freeRunStats(): FreeRunStats {
    return this.pool.freeRunStats();
  }
  /** {@inheritDoc ContiguousRegion.isAllocated} */
  isAllocated(pfn: number): boolean {
    return this.pool.isAllocated(pfn);
  }
  /** {@inheritDoc ContiguousRegion.pinRuns} */
  pinRuns(runs: readonly PfnRun[]): void {
    this.assertFree(runs);
    for (const [pfn, pages] of runs) this.pool.claim(pfn, pages);
  }
  /**
   * {@inheritDoc ContiguousRegion.releasePages}
   * @remarks In protected mode the pages are zeroed first, so nothing of one owner's data
   * reaches the next.
   */
  releasePages(pfn: number, pages: number): void {
    if (this.isProtected) {
      const ps = this.kernel.pageSize;
      this.kernel.memory.zero(pfn * ps, pages * ps);
    }
    this.pool.free(pfn, pages);
  }
}
