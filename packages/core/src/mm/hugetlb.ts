// mm/hugetlb.c: pools of huge pages taken from RAM at boot, for hugetlbfs files.

import type { BuddyAllocator } from "./buddy.js";

/** The default huge page size (x86-64 PMD): 2 MiB. */
export const HUGE_PAGE_SIZE_2M = 2 * 1024 * 1024;
/** The gigantic page size (x86-64 PUD): 1 GiB. */
export const HUGE_PAGE_SIZE_1G = 1024 * 1024 * 1024;

/**
 * One huge page size and its pool (`struct hstate`): the pages set aside at boot, how many are
 * free, and how many of the free ones are promised to mappings (reservations).
 *
 * @remarks A huge page is a naturally aligned block of `size / pageSize` base pages; the pool
 * hands out the PFN of its first page. Pages are zeroed when handed out, as a hugetlb fault
 * clears the page it allocates.
 */
export class HugePagePool {
  /** Bytes per huge page. */
  readonly size: number;
  /** Base pages per huge page. */
  readonly pagesPerHuge: number;
  /** Huge pages reserved for mappings but not yet handed out (`resv_huge_pages`). */
  reserved = 0;
  readonly #free: number[] = [];
  #total = 0;

  /**
   * @param size - bytes per huge page
   * @param pageSize - the kernel's base page size
   * @param buddy - the page allocator the pool's pages come from
   */
  constructor(
    size: number,
    readonly pageSize: number,
    private readonly buddy: BuddyAllocator,
  ) {
    this.size = size;
    this.pagesPerHuge = size / pageSize;
  }

  /** log2 of the huge page size (the MFD_HUGE_* field value that selects this pool). */
  get sizeLog(): number {
    return Math.log2(this.size);
  }
  /** Huge pages the pool holds, free or in use (`nr_huge_pages`). */
  get total(): number {
    return this.#total;
  }
  /** Huge pages not in use (`free_huge_pages`). */
  get free(): number {
    return this.#free.length;
  }
  /** Free huge pages nobody has reserved. */
  get available(): number {
    return this.#free.length - this.reserved;
  }

  /**
   * Takes up to `count` huge pages from the page allocator into the pool (boot-time
   * `hugepages=N`).
   * @returns how many were added (fewer when RAM runs out, as Linux warns and carries on)
   */
  grow(count: number): number {
    const order = Math.log2(this.pagesPerHuge);
    let added = 0;
    for (; added < count; added++) {
      const pfn = Number.isInteger(order) ? this.buddy.allocPages(order) : -1;
      if (pfn < 0) break;
      this.#free.push(pfn);
    }
    this.#free.sort((a, b) => b - a);
    this.#total += added;
    return added;
  }

  /**
   * Promises `count` free pages to a mapping (`hugetlb_reserve_pages`).
   * @returns false (nothing reserved) when fewer than `count` pages are available
   */
  reserve(count: number): boolean {
    if (count > this.available) return false;
    this.reserved += count;
    return true;
  }

  /** Gives back `count` reservations that will not be used. */
  unreserve(count: number): void {
    this.reserved = Math.max(0, this.reserved - count);
  }

  /**
   * Hands out a zeroed huge page, lowest address first.
   * @param reserved - the page was reserved for the caller (consumes one reservation)
   * @returns the PFN of its first base page, or -1 when no page may be taken
   */
  alloc(reserved: boolean): number {
    if (reserved ? this.free === 0 : this.available <= 0) return -1;
    const pfn = this.#free.pop() as number;
    if (reserved) this.reserved--;
    this.buddy.memory.zero(pfn * this.pageSize, this.size);
    return pfn;
  }

  /** Returns a huge page to the pool. */
  release(pfn: number): void {
    this.#free.push(pfn);
    this.#free.sort((a, b) => b - a);
  }
}

/**
 * The huge page sizes of one kernel, as on x86-64: 2 MiB (the default size, filled from the
 * `hugepages` configuration) and 1 GiB (present, but empty: gigantic pages are larger than the
 * page allocator's biggest block).
 */
export class HugeTlb {
  /** Every pool, default size first. */
  readonly pools: readonly HugePagePool[];

  /**
   * @param buddy - the page allocator
   * @param pageSize - the kernel's base page size
   * @param hugepages - 2 MiB pages to set aside now
   */
  constructor(buddy: BuddyAllocator, pageSize: number, hugepages: number) {
    const def = new HugePagePool(HUGE_PAGE_SIZE_2M, pageSize, buddy);
    def.grow(hugepages);
    this.pools = [def, new HugePagePool(HUGE_PAGE_SIZE_1G, pageSize, buddy)];
  }

  /** The default pool (2 MiB). */
  get defaultPool(): HugePagePool {
    return this.pools[0] as HugePagePool;
  }

  /**
   * The pool selected by an MFD_HUGE_* size field (`log2` of the page size; 0 for the default).
   * @returns undefined when no pool has that size (memfd_create then fails with ENODEV)
   */
  bySizeLog(sizeLog: number): HugePagePool | undefined {
    if (sizeLog === 0) return this.defaultPool;
    return this.pools.find((p) => p.sizeLog === sizeLog);
  }
}
