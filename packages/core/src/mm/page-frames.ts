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

/**
 * log2 of the most page frames per section: 2^15 frames, 128 MiB with 4 KiB pages (x86-64
 * sparsemem). A smaller table gets smaller sections; see {@link frameSectionShift}.
 */
export const FRAME_SECTION_SHIFT = 15;
/** log2 of the fewest page frames per section: 2^10, one max-order buddy block. */
const MIN_SECTION_SHIFT = 10;
/** log2 of the most sections a table is split into while its sections can still shrink. */
const SECTIONS_SHIFT = 9;

/**
 * log2 of the page frames per metadata section of a table of `pageCount` frames: the table is
 * split into at most 2^9 sections (so creating it costs the same whatever the RAM), each of
 * 2^10 to 2^15 frames (so touching one page of a small machine creates little metadata).
 * @param pageCount - the frames in the table
 */
export function frameSectionShift(pageCount: number): number {
  const bits = pageCount <= 1 ? 0 : 32 - Math.clz32(pageCount - 1);
  return Math.min(FRAME_SECTION_SHIFT, Math.max(MIN_SECTION_SHIFT, bits - SECTIONS_SHIFT));
}

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
 * Per-PFN metadata as a struct of typed arrays per section of 2^{@link PageFrames.sectionShift}
 * frames; there is no object per page. A section's arrays are created when one of its frames
 * is first given a value other than the default (flags clear, order -1, owner 0), so the table
 * costs nothing for memory nobody has split, allocated or reserved.
 */
export class PageFrames {
  /** Number of page frames described. */
  readonly pageCount: number;
  /** log2 of the frames per section ({@link frameSectionShift} of `pageCount`). */
  readonly sectionShift: number;
  readonly #shift: number;
  readonly #mask: number;
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
    this.sectionShift = frameSectionShift(pageCount);
    this.#shift = this.sectionShift;
    this.#mask = (1 << this.#shift) - 1;
    this.#sections = new Array<FrameSection | undefined>(
      Math.ceil(pageCount / (1 << this.#shift)),
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
    const s = this.#sections[pfn >>> this.#shift];
    return s === undefined ? 0 : (s.flags[pfn & this.#mask] as number);
  }

  /** Sets the flag bits of `pfn`. */
  setFlags(pfn: number, flags: number): void {
    const s = this.#sections[pfn >>> this.#shift];
    if (s !== undefined) s.flags[pfn & this.#mask] = flags;
    else if (flags !== 0) this.#section(pfn).flags[pfn & this.#mask] = flags;
  }

  /**
   * Block order at a free-block head ({@link PG_BUDDY}) or at an allocated block head
   * ({@link PG_HEAD}); -1 everywhere else.
   * @param pfn - a PFN below `pageCount`
   */
  order(pfn: number): number {
    const s = this.#sections[pfn >>> this.#shift];
    return s === undefined ? -1 : (s.order[pfn & this.#mask] as number);
  }

  /** Sets the block order recorded at `pfn`. */
  setOrder(pfn: number, order: number): void {
    const s = this.#sections[pfn >>> this.#shift];
    if (s !== undefined) s.order[pfn & this.#mask] = order;
    else if (order !== -1) this.#section(pfn).order[pfn & this.#mask] = order;
  }

  /**
   * Opaque owner tag of an allocated block head, for leak reports; 0 means none.
   * @param pfn - a PFN below `pageCount`
   */
  owner(pfn: number): number {
    const s = this.#sections[pfn >>> this.#shift];
    return s === undefined ? 0 : (s.owner[pfn & this.#mask] as number);
  }

  /** Sets the owner tag of `pfn` (stored as uint32). */
  setOwner(pfn: number, owner: number): void {
    const s = this.#sections[pfn >>> this.#shift];
    if (s !== undefined) s.owner[pfn & this.#mask] = owner;
    else if (owner !== 0) this.#section(pfn).owner[pfn & this.#mask] = owner;
  }

  #section(pfn: number): FrameSection {
    const i = pfn >>> this.#shift;
    let s = this.#sections[i];
    if (s === undefined) {
      // Sized to the frames that exist: a small kernel's only section is no bigger than its RAM.
      const frames = 1 << this.#shift;
      s = new FrameSection(Math.min(frames, this.pageCount - i * frames));
      this.#sections[i] = s;
      this.#sectionsInUse++;
    }
    return s;
  }
}
