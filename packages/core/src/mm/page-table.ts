// A mapping's page table: page index → page frame, sparse, in leaves of ≤ 512 entries made on use.

const LEAF_SIZE = 512;

/**
 * The page table of one mapping. Memory grows with the pages populated, never with the
 * mapping's length: a 1 TiB mapping costs nothing until it is touched (as in Linux, where
 * page-table pages are allocated on fault). A leaf holds the mapping's pages of its 512-page
 * slot only, so a small mapping's table is as small as the mapping.
 */
export class PageTable {
  readonly #leaves = new Map<number, Float64Array>();

  /** @param pageCount - the number of pages the table covers */
  constructor(readonly pageCount: number) {}

  /** The frame of page `page`, or -1 when none is mapped there. */
  get(page: number): number {
    const pfn = this.#leaves.get(Math.floor(page / LEAF_SIZE))?.[page % LEAF_SIZE];
    return pfn === undefined ? -1 : pfn;
  }

  /**
   * Maps page `page` to frame `pfn` (-1 unmaps it).
   * @throws RangeError if `page` is outside the table
   */
  set(page: number, pfn: number): void {
    this.#checkRange(page, 1);
    const key = Math.floor(page / LEAF_SIZE);
    let leaf = this.#leaves.get(key);
    if (!leaf) {
      if (pfn < 0) return;
      leaf = this.#newLeaf(key);
      this.#leaves.set(key, leaf);
    }
    leaf[page % LEAF_SIZE] = pfn;
  }

  /**
   * Maps pages `[page, page + count)` to frames `pfn, pfn + 1, …` (a contiguous run).
   * @throws RangeError if the run leaves the table
   */
  setRun(page: number, pfn: number, count: number): void {
    this.#checkRange(page, count);
    for (let done = 0; done < count; ) {
      const p = page + done;
      const key = Math.floor(p / LEAF_SIZE);
      let leaf = this.#leaves.get(key);
      if (!leaf) {
        leaf = this.#newLeaf(key);
        this.#leaves.set(key, leaf);
      }
      const from = p - key * LEAF_SIZE;
      const n = Math.min(count - done, LEAF_SIZE - from);
      const f = pfn + done - from;
      for (let i = from; i < from + n; i++) leaf[i] = f + i;
      done += n;
    }
  }

  /** Unmaps every page (`zap_page_range`). */
  clear(): void {
    this.#leaves.clear();
  }

  /** Unmaps pages `[from, to)`. */
  clearRange(from: number, to: number): void {
    for (const [key, leaf] of this.#leaves) {
      const base = key * LEAF_SIZE;
      if (base + LEAF_SIZE <= from || base >= to) continue;
      if (base >= from && base + leaf.length <= to) this.#leaves.delete(key);
      else leaf.fill(-1, Math.max(0, from - base), Math.min(LEAF_SIZE, to - base));
    }
  }

  /** Copies the entries of pages `[0, count)` of `other` (mremap). */
  copyFrom(other: PageTable, count: number): void {
    for (const [key, leaf] of other.#leaves) {
      const base = key * LEAF_SIZE;
      if (base >= count) continue;
      const copy = this.#newLeaf(key);
      copy.set(leaf.subarray(0, Math.min(leaf.length, copy.length, count - base)));
      this.#leaves.set(key, copy);
    }
  }

  /** The lowest page mapped to `pfn`, or -1. */
  indexOf(pfn: number): number {
    let best = -1;
    for (const [key, leaf] of this.#leaves) {
      const i = leaf.indexOf(pfn);
      if (i >= 0 && (best < 0 || key * LEAF_SIZE + i < best)) best = key * LEAF_SIZE + i;
    }
    return best;
  }

  /** The populated pages and their frames, in no particular order. */
  *populated(): IterableIterator<[page: number, pfn: number]> {
    for (const [key, leaf] of this.#leaves) {
      for (let i = 0; i < leaf.length; i++) {
        const pfn = leaf[i] as number;
        if (pfn >= 0) yield [key * LEAF_SIZE + i, pfn];
      }
    }
  }

  /** A leaf of slot `key`, every entry unmapped: the table's pages in the slot, at most 512. */
  #newLeaf(key: number): Float64Array {
    return new Float64Array(Math.min(LEAF_SIZE, this.pageCount - key * LEAF_SIZE)).fill(-1);
  }

  #checkRange(page: number, count: number): void {
    if (!(page >= 0 && count >= 0 && page + count <= this.pageCount)) {
      throw new RangeError(`pages [${page}, +${count}) outside a table of ${this.pageCount}`);
    }
  }
}
