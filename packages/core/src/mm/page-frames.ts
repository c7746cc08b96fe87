// Models the per-page-frame metadata table (one slot per PFN), kept per memory section on first use.

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

/** log2 of the page frames per section: 2^15 frames, 128 MiB with 4 KiB pages (x86-64 sparsemem). */
export const FRAME_SECTION_SHIFT = 15;
const SECTION_FRAMES = 1 << FRAME_SECTION_SHIFT;
const SECTION_MASK = SECTION_FRAMES - 1;

/** The metadata of one section's frames, as parallel typed arrays. */
class FrameSection {
  readonly flags: Uint8Array;
  readonly order: Int8Array;
  readonly owner: Uint32Array;

  /** @param frames - the frames of the section that exist (fewer in the last one) */
  constructor(frames: number) {
    this.flags = new Uint8Array(frames);
    this.order = new Int8Array(frames).fill(-1);
    this.owner = new Uint32Array(frames);
  }
}

/**
 * Per-PFN metadata as a struct of typed arrays per section of {@link FRAME_SECTION_SHIFT}
 * frames; there is no object per page. A section's arrays are created when one of its frames
 * is first given a value other than the default (flags clear, order -1, owner 0), so the table
 * costs nothing for memory nobody has split, allocated or reserved.
 */
export class PageFrames {
  /** Number of page frames described. */
  readonly pageCount: number;
  readonly #sections: (FrameSection | undefined)[];
  #sectionsInUse = 0;

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
    this.#sections = new Array<FrameSection | undefined>(
      Math.ceil(pageCount / SECTION_FRAMES),
    ).fill(undefined);
  }

  /** Number of sections whose metadata has been created (host memory in use). */
  sectionsInUse(): number {
    return this.#sectionsInUse;
  }

  /**
   * Flag bits of `pfn`: {@link PG_BUDDY}, {@link PG_RESERVED}, {@link PG_HEAD}, {@link PG_CMA}.
   * @param pfn - a PFN below `pageCount`
   */
  flags(pfn: number): number {
    const s = this.#sections[pfn >>> FRAME_SECTION_SHIFT];
    return s === undefined ? 0 : (s.flags[pfn & SECTION_MASK] as number);
  }

  /** Sets the flag bits of `pfn`. */
  setFlags(pfn: number, flags: number): void {
    const s = this.#sections[pfn >>> FRAME_SECTION_SHIFT];
    if (s !== undefined) s.flags[pfn & SECTION_MASK] = flags;
    else if (flags !== 0) this.#section(pfn).flags[pfn & SECTION_MASK] = flags;
  }

  /**
   * Block order at a free-block head ({@link PG_BUDDY}) or at an allocated block head
   * ({@link PG_HEAD}); -1 everywhere else.
   * @param pfn - a PFN below `pageCount`
   */
  order(pfn: number): number {
    const s = this.#sections[pfn >>> FRAME_SECTION_SHIFT];
    return s === undefined ? -1 : (s.order[pfn & SECTION_MASK] as number);
  }

  /** Sets the block order recorded at `pfn`. */
  setOrder(pfn: number, order: number): void {
    const s = this.#sections[pfn >>> FRAME_SECTION_SHIFT];
    if (s !== undefined) s.order[pfn & SECTION_MASK] = order;
    else if (order !== -1) this.#section(pfn).order[pfn & SECTION_MASK] = order;
  }

  /**
   * Opaque owner tag of an allocated block head, for leak reports; 0 means none.
   * @param pfn - a PFN below `pageCount`
   */
  owner(pfn: number): number {
    const s = this.#sections[pfn >>> FRAME_SECTION_SHIFT];
    return s === undefined ? 0 : (s.owner[pfn & SECTION_MASK] as number);
  }

  /** Sets the owner tag of `pfn` (stored as uint32). */
  setOwner(pfn: number, owner: number): void {
    const s = this.#sections[pfn >>> FRAME_SECTION_SHIFT];
    if (s !== undefined) s.owner[pfn & SECTION_MASK] = owner;
    else if (owner !== 0) this.#section(pfn).owner[pfn & SECTION_MASK] = owner;
  }

  #section(pfn: number): FrameSection {
    const i = pfn >>> FRAME_SECTION_SHIFT;
    let s = this.#sections[i];
    if (s === undefined) {
      // Sized to the frames that exist: a small kernel's only section is no bigger than its RAM.
      s = new FrameSection(Math.min(SECTION_FRAMES, this.pageCount - i * SECTION_FRAMES));
      this.#sections[i] = s;
      this.#sectionsInUse++;
    }
    return s;
  }
}
