// mm/cma.c: a contiguous memory area reserved at boot, handed out by a first-fit bitmap.

import type { PageOwners } from "./page-owner.js";

/** Free-run statistics of an area (what fragmentation looks like). */
export interface FreeRunStats {
  /** Pages not allocated. */
  readonly freePages: number;
  /** The longest run of free pages. */
  readonly largestFreeRun: number;
  /** Number of free runs. */
  readonly freeRuns: number;
  /**
   * Free runs by size class: index k counts runs of [2^k, 2^(k+1)) pages.
   */
  readonly histogram: readonly number[];
  /** Allocations that failed since boot. */
  readonly allocFailures: number;
}

/**
 * A CMA area (`struct cma`): `count` physically contiguous pages starting at `basePfn`, taken
 * out of the page allocator at boot, with a bitmap where one bit covers `2^orderPerBit` pages.
 * {@link CmaArea.alloc} finds the first run of clear bits from the lowest address whose
 * physical start is aligned as asked, like `cma_alloc`.
 */
export class CmaArea {
  /** Pages not handed out (`available_count`). */
  availableCount: number;
  /** Allocation failures since boot. */
  allocFailures = 0;
  readonly #bits: Uint32Array;
  readonly #nbits: number;

  /**
   * @param name - the area's name ("reserved" for the `cma=` area, or the region's name)
   * @param basePfn - first page frame
   * @param count - number of pages
   * @param orderPerBit - log2 of the pages one bitmap bit covers
   */
  /** Fault injection (the kernel's `faults`): an injected failure takes no pages. */
  faults: { shouldFail(point: "page"): boolean } | undefined;
  /** The kernel's page owners: allocations are tagged with the current one and counted. */
  owners: PageOwners | undefined;
  /** The owner tag and page count of each owned allocation, by first PFN. */
  readonly #owned = new Map<number, { tag: number; pages: number }>();

  constructor(
    readonly name: string,
    readonly basePfn: number,
    readonly count: number,
    readonly orderPerBit = 0,
  ) {
    this.#nbits = Math.ceil(count / 2 ** orderPerBit);
    this.#bits = new Uint32Array(Math.ceil(this.#nbits / 32));
    this.availableCount = count;
  }

  /** Pages handed out. */
  get usedPages(): number {
    return this.count - this.availableCount;
  }

  /** Whether the pages [pfn, pfn+count) lie inside the area. */
  contains(pfn: number, count: number): boolean {
    return pfn >= this.basePfn && pfn + count <= this.basePfn + this.count;
  }

  #test(bit: number): boolean {
    return ((this.#bits[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  #setRange(first: number, n: number, value: boolean): void {
    const bits = this.#bits;
    let b = first;
    const end = first + n;
    while (b < end) {
      const w = b >>> 5;
      const lo = b & 31;
      const span = Math.min(32 - lo, end - b);
      const mask = span === 32 ? 0xffffffff : ((1 << span) - 1) << lo;
      bits[w] = value ? (bits[w] as number) | mask : (bits[w] as number) & ~mask;
      b += span;
    }
  }

  /** The first set bit at or after `from`, or `nbits`. */
  #nextSet(from: number): number {
    return this.#scan(from, 0);
  }

  /** The first clear bit at or after `from`, or `nbits`. */
  #nextClear(from: number): number {
    return this.#scan(from, ~0);
  }

  /** The first bit at or after `from` whose value differs from `skip`'s (0: clear, ~0: set). */
  #scan(from: number, skip: number): number {
    let b = from;
    while (b < this.#nbits) {
      const rest = ((this.#bits[b >>> 5] as number) ^ skip) >>> (b & 31);
      if (rest === 0) {
        b = ((b >>> 5) + 1) << 5;
        continue;
      }
      return Math.min(this.#nbits, b + (31 - Math.clz32(rest & -rest)));
    }
    return this.#nbits;
  }

  /**
   * Allocates `count` contiguous pages whose first physical PFN is a multiple of `2^align`
   * (`cma_alloc`), first fit from the lowest address.
   * @returns the first PFN, or -1 when no aligned free run exists (or count is 0)
   */
  alloc(count: number, align: number): number {
    if (count <= 0 || count > this.availableCount || this.faults?.shouldFail("page")) {
      if (count > 0) this.allocFailures++;
      return -1;
    }
    const opb = this.orderPerBit;
    const need = Math.ceil(count / 2 ** opb);
    const stepPfn = 2 ** Math.max(align, opb);
    // The first bit whose PFN is aligned, then every stepPfn pages.
    const firstAlignedPfn = Math.ceil(this.basePfn / stepPfn) * stepPfn;
    const step = stepPfn / 2 ** opb;
    let bit = (firstAlignedPfn - this.basePfn) / 2 ** opb;
    while (bit + need <= this.#nbits) {
      const set = this.#nextSet(bit);
      if (set >= bit + need) {
        this.#setRange(bit, need, true);
        this.availableCount -= need * 2 ** opb;
        const pfn = this.basePfn + bit * 2 ** opb;
        const tag = this.owners?.current ?? 0;
        if (tag !== 0) {
          this.#owned.set(pfn, { tag, pages: count });
          this.owners?.charge(tag, count);
        }
        return pfn;
      }
      // Skip past the obstacle to the next aligned bit after the next clear one.
      const clear = this.#nextClear(set);
      bit += Math.ceil((clear - bit) / step) * step;
    }
    this.allocFailures++;
    return -1;
  }

  /**
   * Gives pages back (`cma_release`).
   * @returns false (changing nothing) when the range is not inside the area
   */
  release(pfn: number, count: number): boolean {
    if (!this.contains(pfn, count)) return false;
    const opb = this.orderPerBit;
    const first = (pfn - this.basePfn) / 2 ** opb;
    const n = Math.ceil(count / 2 ** opb);
    this.#setRange(first, n, false);
    this.availableCount += n * 2 ** opb;
    const owned = this.#owned.get(pfn);
    if (owned) {
      this.#owned.delete(pfn);
      this.owners?.uncharge(owned.tag, owned.pages);
    }
    return true;
  }

  /** Whether the page at `pfn` is handed out. */
  isAllocated(pfn: number): boolean {
    return this.#test((pfn - this.basePfn) / 2 ** this.orderPerBit);
  }

  /** Free-run statistics. */
  freeRunStats(): FreeRunStats {
    const histogram: number[] = [];
    let largest = 0;
    let runs = 0;
    let bit = this.#nextClear(0);
    while (bit < this.#nbits) {
      const end = this.#nextSet(bit);
      const pages = (end - bit) * 2 ** this.orderPerBit;
      runs++;
      largest = Math.max(largest, pages);
      const k = 31 - Math.clz32(pages);
      while (histogram.length <= k) histogram.push(0);
      histogram[k] = (histogram[k] as number) + 1;
      bit = this.#nextClear(end);
    }
    return {
      freePages: this.availableCount,
      largestFreeRun: largest,
      freeRuns: runs,
      histogram,
      allocFailures: this.allocFailures,
    };
  }

  /** The bitmap as /sys/kernel/debug/cma/<name>/bitmap prints it (u32 words, decimal). */
  bitmapWords(): readonly number[] {
    return Array.from(this.#bits);
  }
}
