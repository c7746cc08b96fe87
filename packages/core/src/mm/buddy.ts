// Models the binary buddy page allocator: per-order free lists of naturally aligned blocks.

import { type PageFrames, PG_BUDDY, PG_HEAD, PG_RESERVED } from "./page-frames.js";
import type { PageOwners } from "./page-owner.js";
import type { PhysicalMemory } from "./physical-memory.js";

/** Largest block order handed out or merged to: blocks are 2^0 … 2^10 pages (orders 0–10). */
export const MAX_ORDER = 10;

/**
 * Why a {@link BuddyError} was thrown:
 * - `"BUDDY_DOUBLE_FREE"`: the pages being freed are already free.
 * - `"BUDDY_BAD_FREE"`: the PFN is not the head of an allocated block of the given order.
 * - `"BUDDY_NOT_RESERVED"`: a page passed to `unreserveRange` is not reserved.
 */
export type BuddyErrorCode = "BUDDY_DOUBLE_FREE" | "BUDDY_BAD_FREE" | "BUDDY_NOT_RESERVED";

/** Error thrown when the buddy allocator is handed pages it cannot take back. */
export class BuddyError extends Error {
  /** Machine-readable reason. */
  readonly code: BuddyErrorCode;

  /**
   * @param code - Machine-readable reason.
   * @param message - Human-readable description.
   */
  constructor(code: BuddyErrorCode, message: string) {
    super(message);
    this.name = "BuddyError";
    this.code = code;
  }
}

/** Options accepted by the {@link BuddyAllocator} constructor. */
export interface BuddyAllocatorOptions {
  /** First PFN managed (default 0). */
  startPfn?: number;
  /** One past the last PFN managed (default: the memory's page count). */
  endPfn?: number;
}

/** Options accepted by {@link BuddyAllocator.allocPages}. */
export interface AllocPagesOptions {
  /** Zero the block before returning it (default false). */
  zero?: boolean;
  /** Owner tag recorded on the head PFN for leak reports (default 0 = none); stored as uint32. */
  owner?: number;
}

const NIL = -1;
/** PFNs with these bits clear are max-order aligned. */
const BIG_MASK = (1 << MAX_ORDER) - 1;
const MAX_PAGES = 1 << MAX_ORDER;

/** Order of the largest naturally aligned block that starts at `pfn` and ends by `end`. */
function largestFit(pfn: number, end: number): number {
  let order = pfn === 0 ? MAX_ORDER : Math.min(MAX_ORDER, 31 - Math.clz32(pfn & -pfn));
  while (pfn + (1 << order) > end) order--;
  return order;
}

/**
 * Binary buddy allocator over the PFN range `[startPfn, endPfn)`.
 *
 * Free blocks sit on one intrusive doubly-linked list per order, stored in `Int32Array`s indexed
 * by PFN, so unlinking a buddy during a merge is O(1). A free block is recorded on its head page
 * only ({@link PG_BUDDY} plus its order in {@link PageFrames}). The max-order blocks no one has
 * touched yet are not recorded at all: they are runs of implicitly free blocks at the tail of the
 * max-order list, so construction costs O(1) whatever the range, and the page-frame table and
 * the link arrays get memory per section as blocks there are first split, allocated or reserved.
 *
 * Deterministic policy: an allocation takes the head of the smallest non-empty list of sufficient
 * order; when it splits a larger block it keeps the lower half and pushes each upper half onto
 * the head of the list one order down, so successive small allocations walk upwards through the
 * split block. Freed and merged blocks are pushed onto the head of their list (LIFO). Initially
 * each list is in ascending address order. The same call sequence always yields the same PFNs.
 *
 * Accounting: `freePageCount() + allocatedPageCount() + reservedPageCount() === totalPages`.
 */
export class BuddyAllocator {
  /** Fault injection (the kernel's `faults`): an injected failure returns no page. */
  faults: { shouldFail(point: "page"): boolean } | undefined;
  /** The kernel's page owners: allocations are tagged with the current one and counted. */
  owners: PageOwners | undefined;
  /** Memory the managed pages live in (used for zeroing). */
  readonly memory: PhysicalMemory;
  /** Page-frame metadata table shared with the rest of the model. */
  readonly frames: PageFrames;
  /** First PFN managed. */
  readonly startPfn: number;
  /** One past the last PFN managed. */
  readonly endPfn: number;
  /** Number of pages managed (`endPfn - startPfn`), whatever their state. */
  readonly totalPages: number;

  // List links, indexed by PFN: per-section arrays of [next, prev] pairs, created when a block
  // inside the section is first recorded on a list (sections as the page-frame table's).
  readonly #links: (Int32Array | undefined)[];
  readonly #linkShift: number;
  readonly #linkMask: number;
  readonly #head = new Int32Array(MAX_ORDER + 1).fill(NIL);
  readonly #count = new Float64Array(MAX_ORDER + 1);
  /**
   * Untouched max-order blocks, after the max-order list proper: `[from, to)` PFN pairs in
   * ascending order, each a run of free, unrecorded max-order blocks.
   */
  readonly #untouched: number[] = [];
  #freePages = 0;
  #allocatedPages = 0;
  #reservedPages = 0;

  /**
   * Creates an allocator with every page in the range free.
   *
   * @param memory - Physical memory holding the pages.
   * @param frames - Page-frame metadata; must cover the managed range.
   * @param options - Managed PFN range; defaults to all of `memory`.
   * @throws RangeError if the range is invalid or not covered by `memory` and `frames`.
   */
  constructor(memory: PhysicalMemory, frames: PageFrames, options: BuddyAllocatorOptions = {}) {
    const start = options.startPfn ?? 0;
    const end = options.endPfn ?? memory.pageCount;
    const limit = Math.min(memory.pageCount, frames.pageCount);
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      end < start ||
      end > limit
    ) {
      throw new RangeError(`invalid PFN range [${start}, ${end}) for ${limit} page frames`);
    }
    this.memory = memory;
    this.frames = frames;
    this.startPfn = start;
    this.endPfn = end;
    this.totalPages = end - start;
    this.#linkShift = frames.sectionShift;
    this.#linkMask = (1 << this.#linkShift) - 1;
    this.#links = new Array<Int32Array | undefined>(Math.ceil(end / (1 << this.#linkShift))).fill(
      undefined,
    );

    // The whole max-order blocks stay untouched; the pieces before and after them are recorded,
    // appended in ascending order so that each list starts at its lowest address.
    const bigStart = Math.ceil(start / MAX_PAGES) * MAX_PAGES;
    const bigEnd = Math.floor(end / MAX_PAGES) * MAX_PAGES;
    const tail = new Int32Array(MAX_ORDER + 1).fill(NIL);
    if (bigStart < bigEnd) {
      this.#appendRange(start, bigStart, tail);
      this.#untouched.push(bigStart, bigEnd);
      this.#count[MAX_ORDER] = (bigEnd - bigStart) / MAX_PAGES;
      this.#appendRange(bigEnd, end, tail);
    } else {
      this.#appendRange(start, end, tail);
    }
    this.#freePages = this.totalPages;
  }

  /**
   * Allocates a naturally aligned block of `2^order` pages.
   *
   * @param order - Block order, 0 to {@link MAX_ORDER}. Larger orders can never be satisfied and
   *   return -1.
   * @param options - Zeroing and owner tag.
   * @returns The head PFN of the block, or -1 when no block is available (ENOMEM).
   * @throws RangeError if `order` is not a non-negative integer.
   */
  allocPages(order: number, options?: AllocPagesOptions): number {
    if (!Number.isInteger(order) || order < 0) {
      throw new RangeError(`order must be a non-negative integer, got ${order}`);
    }
    if (order > MAX_ORDER) return NIL;
    if (this.faults?.shouldFail("page")) return NIL;
    let o = order;
    while (o < MAX_ORDER && this.#head[o] === NIL) o++;
    let pfn = this.#head[o] as number;
    if (pfn === NIL && o === MAX_ORDER && this.#untouched.length > 0) {
      pfn = this.#untouched[0] as number;
    }
    if (pfn === NIL) return NIL;
    this.#unlink(pfn, o);
    while (o > order) {
      o--;
      this.#push(pfn + (1 << o), o);
    }
    const frames = this.frames;
    frames.setFlags(pfn, frames.flags(pfn) | PG_HEAD);
    frames.setOrder(pfn, order);
    const owner = options?.owner ?? this.owners?.current ?? 0;
    frames.setOwner(pfn, owner);
    if (owner !== 0) this.owners?.charge(owner, 1 << order);
    this.#allocatedPages += 1 << order;
    if (options?.zero === true) {
      const pageSize = this.memory.pageSize;
      this.memory.zero(pfn * pageSize, pageSize * (1 << order));
    }
    return pfn;
  }

  /**
   * Returns an allocated block, merging it with free buddies up to {@link MAX_ORDER}. Buddies
   * outside the managed range, reserved or allocated are never merged. Contents are not zeroed.
   *
   * @param pfn - Head PFN returned by {@link BuddyAllocator.allocPages}.
   * @param order - Order the block was allocated with.
   * @throws BuddyError `BUDDY_DOUBLE_FREE` if the page is already free, `BUDDY_BAD_FREE` if it is
   *   not the head of an allocated block of that order.
   */
  freePages(pfn: number, order: number): void {
    if (
      !Number.isInteger(order) ||
      order < 0 ||
      order > MAX_ORDER ||
      !Number.isInteger(pfn) ||
      pfn < this.startPfn ||
      pfn >= this.endPfn
    ) {
      throw new BuddyError(
        "BUDDY_BAD_FREE",
        `free of PFN ${pfn} order ${order}: not an allocated block of this allocator`,
      );
    }
    const frames = this.frames;
    const flags = frames.flags(pfn);
    if ((flags & PG_HEAD) === 0) {
      if (this.#findFreeHead(pfn) !== NIL) {
        throw new BuddyError("BUDDY_DOUBLE_FREE", `double free of PFN ${pfn} order ${order}`);
      }
      throw new BuddyError("BUDDY_BAD_FREE", `free of PFN ${pfn}: not an allocated block head`);
    }
    if (frames.order(pfn) !== order) {
      throw new BuddyError(
        "BUDDY_BAD_FREE",
        `free of PFN ${pfn} with order ${order}, but it was allocated with order ${frames.order(pfn)}`,
      );
    }
    frames.setFlags(pfn, flags & ~PG_HEAD);
    frames.setOrder(pfn, -1);
    const owner = frames.owner(pfn);
    if (owner !== 0) {
      this.owners?.uncharge(owner, 1 << order);
      frames.setOwner(pfn, 0);
    }
    this.#allocatedPages -= 1 << order;
    this.#release(pfn, order);
  }

  /**
   * Takes an entirely free PFN range out of the allocator (for CMA areas and carveouts), splitting
   * free blocks at its edges and marking every page {@link PG_RESERVED}. Costs O(free blocks
   * touched + count).
   *
   * @param startPfn - First PFN of the range.
   * @param count - Number of pages.
   * @returns `true` on success; `false`, changing nothing, if any page in the range is not free.
   * @throws RangeError if the range is not inside `[startPfn, endPfn)` of this allocator.
   */
  reserveRange(startPfn: number, count: number): boolean {
    this.#checkRange(startPfn, count);
    const end = startPfn + count;
    let p = startPfn;
    while (p < end) {
      const h = this.#findFreeHead(p);
      if (h === NIL) return false;
      p = h + (1 << this.#freeOrder(h));
    }
    p = startPfn;
    while (p < end) {
      const h = this.#findFreeHead(p);
      const o = this.#freeOrder(h);
      const blockEnd = h + (1 << o);
      this.#unlink(h, o);
      // The leftovers are sub-blocks of one free block, so none of them can merge.
      if (h < startPfn) this.#pushRange(h, startPfn);
      if (blockEnd > end) this.#pushRange(end, blockEnd);
      p = blockEnd;
    }
    const frames = this.frames;
    for (let i = startPfn; i < end; i++) frames.setFlags(i, frames.flags(i) | PG_RESERVED);
    this.#reservedPages += count;
    return true;
  }

  /**
   * Gives a reserved range back to the allocator, merging it with free neighbours.
   *
   * @param startPfn - First PFN of the range.
   * @param count - Number of pages.
   * @throws RangeError if the range is not inside `[startPfn, endPfn)` of this allocator.
   * @throws BuddyError `BUDDY_NOT_RESERVED`, changing nothing, if any page is not reserved.
   */
  unreserveRange(startPfn: number, count: number): void {
    this.#checkRange(startPfn, count);
    const end = startPfn + count;
    const frames = this.frames;
    for (let i = startPfn; i < end; i++) {
      if ((frames.flags(i) & PG_RESERVED) === 0) {
        throw new BuddyError("BUDDY_NOT_RESERVED", `PFN ${i} is not reserved`);
      }
    }
    for (let i = startPfn; i < end; i++) frames.setFlags(i, frames.flags(i) & ~PG_RESERVED);
    this.#reservedPages -= count;
    let p = startPfn;
    while (p < end) {
      const o = largestFit(p, end);
      this.#release(p, o);
      p += 1 << o;
    }
  }

  /**
   * Whether `pfn` lies inside a free block of this allocator.
   *
   * @param pfn - Any PFN; PFNs outside the managed range are never free.
   * @returns `true` if the page is free.
   */
  isFree(pfn: number): boolean {
    if (!Number.isInteger(pfn) || pfn < this.startPfn || pfn >= this.endPfn) return false;
    return this.#findFreeHead(pfn) !== NIL;
  }

  /**
   * Number of free pages.
   *
   * @returns Pages currently on the free lists.
   */
  freePageCount(): number {
    return this.#freePages;
  }

  /**
   * Number of pages handed out by {@link BuddyAllocator.allocPages} and not yet freed.
   *
   * @returns Allocated page count.
   */
  allocatedPageCount(): number {
    return this.#allocatedPages;
  }

  /**
   * Number of pages taken out by {@link BuddyAllocator.reserveRange}.
   *
   * @returns Reserved page count.
   */
  reservedPageCount(): number {
    return this.#reservedPages;
  }

  /**
   * Number of free blocks of one order, in O(1).
   *
   * @param order - Order 0 to {@link MAX_ORDER}.
   * @returns Length of that order's free list.
   * @throws RangeError if `order` is out of range.
   */
  freeBlockCount(order: number): number {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
      throw new RangeError(`order must be an integer in [0, ${MAX_ORDER}], got ${order}`);
    }
    return this.#count[order] as number;
  }

  /**
   * Free block counts for every order.
   *
   * @returns A new array of length `MAX_ORDER + 1`; index = order.
   */
  freeBlocksByOrder(): number[] {
    return Array.from(this.#count);
  }

  /**
   * Debugging aid: walks every free list and checks links, alignment, range, page flags,
   * overlap and all counters. Costs O(free blocks · log).
   *
   * @throws Error describing the first inconsistency found.
   */
  assertConsistent(): void {
    const frames = this.frames;
    const starts: number[] = [];
    let freePages = 0;
    for (let o = 0; o <= MAX_ORDER; o++) {
      let n = 0;
      let prev = NIL;
      for (let p = this.#head[o] as number; p !== NIL; p = this.#getNext(p)) {
        const size = 1 << o;
        if (this.#getPrev(p) !== prev) throw new Error(`order ${o}: bad prev link at PFN ${p}`);
        if (p % size !== 0) throw new Error(`order ${o}: PFN ${p} is not naturally aligned`);
        if (p < this.startPfn || p + size > this.endPfn) {
          throw new Error(`order ${o}: block at PFN ${p} leaves the managed range`);
        }
        if ((frames.flags(p) & (PG_BUDDY | PG_HEAD | PG_RESERVED)) !== PG_BUDDY) {
          throw new Error(`order ${o}: PFN ${p} has flags ${frames.flags(p)}`);
        }
        if (frames.order(p) !== o)
          throw new Error(`order ${o}: PFN ${p} records order ${frames.order(p)}`);
        starts.push(p);
        freePages += size;
        prev = p;
        if (++n > this.totalPages) throw new Error(`order ${o}: free list has a cycle`);
      }
      for (let i = 0; o === MAX_ORDER && i < this.#untouched.length; i += 2) {
        const from = this.#untouched[i] as number;
        const to = this.#untouched[i + 1] as number;
        if (from >= to || from % MAX_PAGES !== 0 || to % MAX_PAGES !== 0) {
          throw new Error(`untouched run [${from}, ${to}) is not a run of max-order blocks`);
        }
        if (i > 0 && from <= (this.#untouched[i - 1] as number)) {
          throw new Error(`untouched run [${from}, ${to}) out of order`);
        }
        if (from < this.startPfn || to > this.endPfn) {
          throw new Error(`untouched run [${from}, ${to}) leaves the managed range`);
        }
        for (let p = from; p < to; p += MAX_PAGES) {
          if (frames.flags(p) !== 0) throw new Error(`untouched PFN ${p} has flags`);
          starts.push(p);
          freePages += MAX_PAGES;
          n++;
        }
      }
      if (n !== this.#count[o])
        throw new Error(`order ${o}: ${n} blocks, counter ${this.#count[o]}`);
    }
    if (freePages !== this.#freePages) {
      throw new Error(`free lists hold ${freePages} pages, counter ${this.#freePages}`);
    }
    starts.sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) {
      const a = starts[i - 1] as number;
      if (a + (1 << this.#freeOrder(a)) > (starts[i] as number)) {
        throw new Error(`free blocks at PFN ${a} and ${starts[i]} overlap`);
      }
    }
    if (this.#freePages + this.#allocatedPages + this.#reservedPages !== this.totalPages) {
      throw new Error("free + allocated + reserved pages do not add up to totalPages");
    }
  }

  #checkRange(startPfn: number, count: number): void {
    if (
      !Number.isInteger(startPfn) ||
      !Number.isInteger(count) ||
      count < 0 ||
      startPfn < this.startPfn ||
      startPfn + count > this.endPfn
    ) {
      throw new RangeError(
        `PFN range [${startPfn}, +${count}) outside [${this.startPfn}, ${this.endPfn})`,
      );
    }
  }

  /** Head of the free block containing `pfn` (which must be in range), or NIL. */
  #findFreeHead(pfn: number): number {
    const big = pfn & ~BIG_MASK;
    if (this.#untouchedRun(big) >= 0) return big;
    const frames = this.frames;
    for (let k = 0; k <= MAX_ORDER; k++) {
      const h = pfn & ~((1 << k) - 1);
      if (h < this.startPfn) break;
      if ((frames.flags(h) & PG_BUDDY) !== 0 && frames.order(h) >= k) return h;
    }
    return NIL;
  }

  /** Order of the free block headed by `h`. */
  #freeOrder(h: number): number {
    return this.#untouchedRun(h) >= 0 ? MAX_ORDER : this.frames.order(h);
  }

  /** Index in `#untouched` of the run holding the max-order block `big`, or -1. */
  #untouchedRun(big: number): number {
    const runs = this.#untouched;
    for (let i = 0; i < runs.length; i += 2) {
      if (big < (runs[i] as number)) return -1;
      if (big < (runs[i + 1] as number)) return i;
    }
    return -1;
  }

  /** Appends `[from, to)` as the largest aligned blocks to the lists' tails (construction). */
  #appendRange(from: number, to: number, tail: Int32Array): void {
    const frames = this.frames;
    for (let pfn = from; pfn < to; ) {
      const order = largestFit(pfn, to);
      const last = tail[order] as number;
      this.#setNext(pfn, NIL);
      this.#setPrev(pfn, last);
      if (last === NIL) this.#head[order] = pfn;
      else this.#setNext(last, pfn);
      tail[order] = pfn;
      frames.setFlags(pfn, frames.flags(pfn) | PG_BUDDY);
      frames.setOrder(pfn, order);
      this.#count[order] = (this.#count[order] as number) + 1;
      pfn += 1 << order;
    }
  }

  /** Frees a block known to be valid, merging it with free buddies. */
  #release(pfn: number, order: number): void {
    const frames = this.frames;
    while (order < MAX_ORDER) {
      // Below the max order a buddy is never untouched: its max-order block holds `pfn` too.
      const buddy = pfn ^ (1 << order);
      if (buddy < this.startPfn || buddy >= this.endPfn) break;
      if ((frames.flags(buddy) & PG_BUDDY) === 0 || frames.order(buddy) !== order) break;
      this.#unlink(buddy, order);
      pfn &= buddy;
      order++;
    }
    this.#push(pfn, order);
  }

  /** Pushes `[from, to)` as the largest aligned blocks, without merging. */
  #pushRange(from: number, to: number): void {
    while (from < to) {
      const o = largestFit(from, to);
      this.#push(from, o);
      from += 1 << o;
    }
  }

  #push(pfn: number, order: number): void {
    const h = this.#head[order] as number;
    this.#setNext(pfn, h);
    this.#setPrev(pfn, NIL);
    if (h !== NIL) this.#setPrev(h, pfn);
    this.#head[order] = pfn;
    const frames = this.frames;
    frames.setFlags(pfn, frames.flags(pfn) | PG_BUDDY);
    frames.setOrder(pfn, order);
    this.#count[order] = (this.#count[order] as number) + 1;
    this.#freePages += 1 << order;
  }

  #unlink(pfn: number, order: number): void {
    if (order === MAX_ORDER) {
      const i = this.#untouchedRun(pfn);
      if (i >= 0) {
        this.#takeUntouched(i, pfn);
        this.#count[order] = (this.#count[order] as number) - 1;
        this.#freePages -= MAX_PAGES;
        return;
      }
    }
    const n = this.#getNext(pfn);
    const p = this.#getPrev(pfn);
    if (p === NIL) this.#head[order] = n;
    else this.#setNext(p, n);
    if (n !== NIL) this.#setPrev(n, p);
    const frames = this.frames;
    frames.setFlags(pfn, frames.flags(pfn) & ~PG_BUDDY);
    frames.setOrder(pfn, -1);
    this.#count[order] = (this.#count[order] as number) - 1;
    this.#freePages -= 1 << order;
  }

  /** Takes the max-order block `big` out of untouched run number `i / 2`. */
  #takeUntouched(i: number, big: number): void {
    const runs = this.#untouched;
    const from = runs[i] as number;
    const to = runs[i + 1] as number;
    if (big === from) runs[i] = from + MAX_PAGES;
    else if (big + MAX_PAGES === to) runs[i + 1] = big;
    else runs.splice(i + 1, 0, big, big + MAX_PAGES);
    if (runs[i] === runs[i + 1]) runs.splice(i, 2);
  }

  #link(pfn: number): Int32Array {
    const i = pfn >>> this.#linkShift;
    let links = this.#links[i];
    if (links === undefined) {
      const pfns = 1 << this.#linkShift;
      // Sized to the PFNs managed: a small kernel's only section is no bigger than its RAM.
      links = new Int32Array(2 * Math.min(pfns, this.endPfn - i * pfns));
      this.#links[i] = links;
    }
    return links;
  }

  #getNext(pfn: number): number {
    return this.#link(pfn)[2 * (pfn & this.#linkMask)] as number;
  }

  #getPrev(pfn: number): number {
    return this.#link(pfn)[2 * (pfn & this.#linkMask) + 1] as number;
  }

  #setNext(pfn: number, value: number): void {
    this.#link(pfn)[2 * (pfn & this.#linkMask)] = value;
  }

  #setPrev(pfn: number, value: number): void {
    this.#link(pfn)[2 * (pfn & this.#linkMask) + 1] = value;
  }
}
