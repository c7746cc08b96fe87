// A gen_pool-style allocator for a carveout: granule-sized units, first-fit or best-fit.

import type { FreeRunStats } from "@dmabuf/core";

/** How {@link GenPool.alloc} picks among the free runs that are large enough. */
export type GenPoolAlgorithm = "first-fit" | "best-fit";

const INITIAL_EXTENTS = 16;

/**
 * A pool of physically contiguous pages handed out in granules of `2^minOrder` pages, like a
 * `gen_pool` with `min_alloc_order` = page shift + `minOrder`. Placement follows the chosen
 * algorithm: **first-fit** takes the lowest-addressed free run that is large enough,
 * **best-fit** the smallest one (the lowest of equal ones; an exact fit ends the search). An
 * allocation always starts at the beginning of the run it takes.
 *
 * @remarks The free space is kept as a sorted list of maximal free runs (extents) in typed
 * arrays: an allocation walks the runs, never the pages, and a free merges with its neighbours
 * after a binary search. Results are the same as a granule bitmap would give; costs grow with
 * the number of free runs, not with the size of the pool.
 */
export class GenPool {
  /** Pages not handed out. */
  availableCount: number;
  /** Allocations that failed since the pool was created. */
  allocFailures = 0;
  /** Pages per granule (`2^minOrder`). */
  readonly granulePages: number;
  /** Number of granules. */
  readonly granules: number;
  /** First granule of each free run, ascending. */
  #start: Int32Array;
  /** Length in granules of each free run, parallel to `#start`. */
  #len: Int32Array;
  /** Number of free runs. */
  #n = 0;

  /**
   * @param name - the pool's name (the carveout's)
   * @param basePfn - first page frame; a multiple of the granule
   * @param count - number of pages; a multiple of the granule
   * @param algorithm - placement algorithm
   * @param minOrder - log2 of the pages in a granule
   * @throws RangeError when base or count is not a whole number of granules
   */
  constructor(
    readonly name: string,
    readonly basePfn: number,
    readonly count: number,
    readonly algorithm: GenPoolAlgorithm = "first-fit",
    readonly minOrder = 0,
  ) {
    this.granulePages = 2 ** minOrder;
    if (
      !Number.isSafeInteger(count) ||
      count <= 0 ||
      count % this.granulePages !== 0 ||
      basePfn % this.granulePages !== 0
    ) {
      throw new RangeError(`${name}: base ${basePfn} and count ${count} must be whole granules`);
    }
    this.granules = count / this.granulePages;
    this.#start = new Int32Array(INITIAL_EXTENTS);
    this.#len = new Int32Array(INITIAL_EXTENTS);
    this.#start[0] = 0;
    this.#len[0] = this.granules;
    this.#n = 1;
    this.availableCount = count;
  }

  /** Pages handed out. */
  get usedPages(): number {
    return this.count - this.availableCount;
  }

  /**
   * Allocates `pages` pages (rounded up to whole granules) with the pool's algorithm.
   * @returns the first page frame, or -1 when no free run is large enough (or pages is 0)
   */
  alloc(pages: number): number {
    const need = Math.ceil(pages / this.granulePages);
    if (!(need > 0)) return -1;
    if (need * this.granulePages > this.availableCount) {
      this.allocFailures++;
      return -1;
    }
    const start = this.#start;
    const len = this.#len;
    const n = this.#n;
    let pick = -1;
    if (this.algorithm === "first-fit") {
      for (let i = 0; i < n; i++) {
        if ((len[i] as number) >= need) {
          pick = i;
          break;
        }
      }
    } else {
      let best = 0x7fffffff;
      for (let i = 0; i < n; i++) {
        const l = len[i] as number;
        if (l >= need && l < best) {
          pick = i;
          best = l;
          if (l === need) break;
        }
      }
    }
    if (pick < 0) {
      this.allocFailures++;
      return -1;
    }
    const first = start[pick] as number;
    const rest = (len[pick] as number) - need;
    if (rest === 0) this.#remove(pick);
    else {
      start[pick] = first + need;
      len[pick] = rest;
    }
    this.availableCount -= need * this.granulePages;
    return this.basePfn + first * this.granulePages;
  }

  /**
   * Takes the given pages out of the free space, wherever they are (a fixed allocation, as
   * `gen_pool_fixed_alloc` does): used to pin patterns of pages.
   * @param pfn - first page frame; on a granule boundary
   * @param pages - number of pages (rounded up to whole granules)
   * @returns false, changing nothing, when the range is outside the pool, unaligned, or not
   * entirely free
   */
  claim(pfn: number, pages: number): boolean {
    const range = this.#granuleRange(pfn, pages);
    if (!range) return false;
    const [g, need] = range;
    const i = this.#runAtOrBefore(g);
    if (i < 0) return false;
    const s = this.#start[i] as number;
    const l = this.#len[i] as number;
    if (g + need > s + l) return false;
    const before = g - s;
    const after = s + l - (g + need);
    if (before === 0 && after === 0) this.#remove(i);
    else if (before === 0) {
      this.#start[i] = g + need;
      this.#len[i] = after;
    } else {
      this.#len[i] = before;
      if (after > 0) this.#insert(i + 1, g + need, after);
    }
    this.availableCount -= need * this.granulePages;
    return true;
  }

  /**
   * Gives pages back, merging them with free neighbours.
   * @param pfn - first page frame, as {@link GenPool.alloc} returned it
   * @param pages - the page count passed to `alloc`
   * @returns false, changing nothing, when the range is outside the pool, unaligned, or any
   * part of it is already free (a double free)
   */
  free(pfn: number, pages: number): boolean {
    const range = this.#granuleRange(pfn, pages);
    if (!range) return false;
    const [g, cnt] = range;
    const start = this.#start;
    const len = this.#len;
    // The runs just before and just after the freed range.
    const prev = this.#runAtOrBefore(g + cnt - 1);
    if (prev >= 0 && (start[prev] as number) + (len[prev] as number) > g) return false;
    const next = prev + 1;
    const mergePrev = prev >= 0 && (start[prev] as number) + (len[prev] as number) === g;
    const mergeNext = next < this.#n && g + cnt === (start[next] as number);
    if (mergePrev && mergeNext) {
      len[prev] = (len[prev] as number) + cnt + (len[next] as number);
      this.#remove(next);
    } else if (mergePrev) {
      len[prev] = (len[prev] as number) + cnt;
    } else if (mergeNext) {
      start[next] = g;
      len[next] = (len[next] as number) + cnt;
    } else {
      this.#insert(next, g, cnt);
    }
    this.availableCount += cnt * this.granulePages;
    return true;
  }

  /** Whether the page at `pfn` is handed out (or pinned). */
  isAllocated(pfn: number): boolean {
    const g = Math.floor((pfn - this.basePfn) / this.granulePages);
    if (g < 0 || g >= this.granules) return false;
    const i = this.#runAtOrBefore(g);
    return i < 0 || (this.#start[i] as number) + (this.#len[i] as number) <= g;
  }

  /** Free-run statistics, in pages (the same shape as a CMA area's). */
  freeRunStats(): FreeRunStats {
    const histogram: number[] = [];
    let largest = 0;
    const gp = this.granulePages;
    for (let i = 0; i < this.#n; i++) {
      const pages = (this.#len[i] as number) * gp;
      if (pages > largest) largest = pages;
      const k = 31 - Math.clz32(pages);
      while (histogram.length <= k) histogram.push(0);
      histogram[k] = (histogram[k] as number) + 1;
    }
    return {
      freePages: this.availableCount,
      largestFreeRun: largest,
      freeRuns: this.#n,
      histogram,
      allocFailures: this.allocFailures,
    };
  }

  /** The free runs as `[firstPfn, pages]` pairs, ascending. */
  freeRuns(): [number, number][] {
    const out: [number, number][] = [];
    const gp = this.granulePages;
    for (let i = 0; i < this.#n; i++) {
      out.push([this.basePfn + (this.#start[i] as number) * gp, (this.#len[i] as number) * gp]);
    }
    return out;
  }

  /** `[granule, count]` of a page range, or undefined when it is not whole granules inside. */
  #granuleRange(pfn: number, pages: number): [number, number] | undefined {
    const gp = this.granulePages;
    const off = pfn - this.basePfn;
    const cnt = Math.ceil(pages / gp);
    if (!Number.isSafeInteger(off) || off < 0 || off % gp !== 0 || !(cnt > 0)) return undefined;
    const g = off / gp;
    if (g + cnt > this.granules) return undefined;
    return [g, cnt];
  }

  /** Index of the last free run starting at or before granule `g`, or -1. */
  #runAtOrBefore(g: number): number {
    const start = this.#start;
    let lo = 0;
    let hi = this.#n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((start[mid] as number) <= g) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  #remove(i: number): void {
    const n = this.#n;
    if (i < n - 1) {
      this.#start.copyWithin(i, i + 1, n);
      this.#len.copyWithin(i, i + 1, n);
    }
    this.#n = n - 1;
  }

  #insert(i: number, s: number, l: number): void {
    const n = this.#n;
    if (n === this.#start.length) {
      const start = new Int32Array(n * 2);
      start.set(this.#start);
      const len = new Int32Array(n * 2);
      len.set(this.#len);
      this.#start = start;
      this.#len = len;
    }
    if (i < n) {
      this.#start.copyWithin(i + 1, i, n);
      this.#len.copyWithin(i + 1, i, n);
    }
    this.#start[i] = s;
    this.#len[i] = l;
    this.#n = n + 1;
  }
}
