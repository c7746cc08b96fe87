// Models the per-page-frame metadata table (one slot per PFN), kept as parallel typed arrays.

/** Page flag: the PFN heads a free block on a buddy free list. */
export const PG_BUDDY = 1;
/** Page flag: the page is reserved (carveout or CMA area) and not managed by the buddy lists. */
export const PG_RESERVED = 2;
/** Page flag: the PFN heads an allocated (compound) block. */
export const PG_HEAD = 4;
/** Page flag: the page belongs to a CMA area. */
export const PG_CMA = 8;

/** Largest page count a {@link PageFrames} table accepts (PFNs must fit a signed 32-bit int). */
export const MAX_PAGE_FRAMES = 0x7fffffff;

/**
 * Per-PFN metadata as a struct of typed arrays, indexed by PFN; there is no object per page.
 * Typed-array memory is committed lazily by the host, so only the pages that are touched cost
 * memory, apart from `order`, which is initialised to -1.
 */
export class PageFrames {
  /** Number of page frames described. */
  readonly pageCount: number;
  /** Flag bits per PFN: {@link PG_BUDDY}, {@link PG_RESERVED}, {@link PG_HEAD}, {@link PG_CMA}. */
  readonly flags: Uint8Array;
  /**
   * Block order at a free-block head ({@link PG_BUDDY}) or at an allocated block head
   * ({@link PG_HEAD}); -1 everywhere else.
   */
  readonly order: Int8Array;
  /** Opaque owner tag of an allocated block head, for leak reports; 0 means none. */
  readonly owner: Uint32Array;

  /**
   * Creates a table with every page's flags clear, order -1 and owner 0.
   *
   * @param pageCount - Number of page frames; an integer in `[0, MAX_PAGE_FRAMES]`.
   * @throws RangeError if `pageCount` is invalid.
   */
  constructor(pageCount: number) {
    if (!Number.isInteger(pageCount) || pageCount < 0 || pageCount > MAX_PAGE_FRAMES) {
      throw new RangeError(`pageCount must be an integer in [0, ${MAX_PAGE_FRAMES}]`);
    }
    this.pageCount = pageCount;
    this.flags = new Uint8Array(pageCount);
    this.order = new Int8Array(pageCount).fill(-1);
    this.owner = new Uint32Array(pageCount);
  }
}
