// Models a scatter-gather table: physical page runs of a buffer plus their DMA mapping.

const INITIAL_CAPACITY = 4;
/** Default segment limit of {@link SgTable.fromPfnRuns}, before rounding down to a page. */
const DEFAULT_MAX_SEGMENT = 0xffffffff;

function checkPageSize(pageSize: number): void {
  if (
    !Number.isSafeInteger(pageSize) ||
    pageSize <= 0 ||
    2 ** Math.round(Math.log2(pageSize)) !== pageSize
  ) {
    throw new RangeError(`pageSize must be a power of two, got ${pageSize}`);
  }
}

/**
 * A scatter-gather table stored as a struct of `Float64Array` columns: entry `i` is the CPU run
 * `pfn[i] * pageSize + offset[i]` of `length[i]` bytes, and, once mapped for DMA, the device sees
 * entries `0 … nents-1` at `dmaAddress[i]` / `dmaLength[i]`.
 *
 * The column arrays have spare capacity; only indices below {@link SgTable.entryCount} (CPU) or
 * {@link SgTable.nents} (DMA) are meaningful. Treat them as read-only and mutate the table
 * through its methods: byte-offset lookups cache prefix sums of the lengths.
 */
export class SgTable {
  #pfn: Float64Array;
  #offset: Float64Array;
  #length: Float64Array;
  #dmaAddress: Float64Array;
  #dmaLength: Float64Array;
  /** `#prefix[i]` = byte offset of entry i in the table; valid for i ≤ #prefixValid. */
  #prefix: Float64Array;
  #prefixValid = 0;
  #count = 0;
  #nents = 0;

  /**
   * Creates an empty table.
   *
   * @param capacity - Number of entries to reserve room for (grows by doubling).
   */
  constructor(capacity = INITIAL_CAPACITY) {
    const cap = Math.max(1, Math.floor(capacity) || 1);
    this.#pfn = new Float64Array(cap);
    this.#offset = new Float64Array(cap);
    this.#length = new Float64Array(cap);
    this.#dmaAddress = new Float64Array(cap);
    this.#dmaLength = new Float64Array(cap);
    this.#prefix = new Float64Array(cap + 1);
  }

  /**
   * Builds a table from a list of page frame numbers, one per page, merging runs of physically
   * consecutive pages into single entries of at most `maxSegment` bytes.
   *
   * @param pageSize - Page size in bytes; a power of two.
   * @param pfns - PFN of each page of the buffer, in buffer order.
   * @param maxSegment - Largest entry in bytes, rounded down to a page multiple (default
   *   `0xffffffff`).
   * @returns A new, unmapped table.
   * @throws RangeError if `pageSize` is invalid or `maxSegment` is smaller than one page.
   */
  static fromPfnRuns(
    pageSize: number,
    pfns: ArrayLike<number>,
    maxSegment: number = DEFAULT_MAX_SEGMENT,
  ): SgTable {
    checkPageSize(pageSize);
    const segment = Math.floor(maxSegment / pageSize) * pageSize;
    if (!(segment >= pageSize)) {
      throw new RangeError(`maxSegment ${maxSegment} is smaller than a page (${pageSize})`);
    }
    const table = new SgTable();
    const n = pfns.length;
    if (n === 0) return table;
    let runStart = pfns[0] as number;
    let runPages = 1;
    const maxPages = segment / pageSize;
    for (let i = 1; i < n; i++) {
      const pfn = pfns[i] as number;
      if (pfn === runStart + runPages && runPages < maxPages) {
        runPages++;
      } else {
        table.append(runStart, runPages * pageSize);
        runStart = pfn;
        runPages = 1;
      }
    }
    table.append(runStart, runPages * pageSize);
    return table;
  }

  /** PFN column; entry `i` starts at byte `offset[i]` of page `pfn[i]`. */
  get pfn(): Float64Array {
    return this.#pfn;
  }

  /** Byte offset column: where each entry starts within its first page. */
  get offset(): Float64Array {
    return this.#offset;
  }

  /** Length column: bytes covered by each CPU entry. */
  get length(): Float64Array {
    return this.#length;
  }

  /** Bus address column of the DMA mapping; meaningful below {@link SgTable.nents}. */
  get dmaAddress(): Float64Array {
    return this.#dmaAddress;
  }

  /** Length column of the DMA mapping; meaningful below {@link SgTable.nents}. */
  get dmaLength(): Float64Array {
    return this.#dmaLength;
  }

  /** Number of CPU entries. */
  get origNents(): number {
    return this.#count;
  }

  /** Number of CPU entries (same as {@link SgTable.origNents}). */
  get entryCount(): number {
    return this.#count;
  }

  /** Number of entries mapped for DMA; 0 until the table is mapped. */
  get nents(): number {
    return this.#nents;
  }

  /**
   * Appends a CPU entry.
   *
   * @param pfn - First page frame of the run.
   * @param length - Bytes in the run; a positive integer.
   * @param offset - Byte offset of the run within page `pfn` (default 0).
   * @throws RangeError if an argument is not a valid integer.
   */
  append(pfn: number, length: number, offset = 0): void {
    if (
      !Number.isSafeInteger(pfn) ||
      !Number.isSafeInteger(length) ||
      !Number.isSafeInteger(offset) ||
      pfn < 0 ||
      length <= 0 ||
      offset < 0
    ) {
      throw new RangeError(`invalid sg entry: pfn ${pfn}, length ${length}, offset ${offset}`);
    }
    const i = this.#count;
    if (i === this.#pfn.length) this.#grow(i * 2);
    this.#pfn[i] = pfn;
    this.#offset[i] = offset;
    this.#length[i] = length;
    this.#count = i + 1;
  }

  /**
   * Copies the CPU entries into a new, unmapped table (`nents` is 0, no DMA addresses).
   *
   * @returns The copy; it shares no storage with this table.
   */
  clone(): SgTable {
    const n = this.#count;
    const copy = new SgTable(Math.max(n, INITIAL_CAPACITY));
    copy.#pfn.set(this.#pfn.subarray(0, n));
    copy.#offset.set(this.#offset.subarray(0, n));
    copy.#length.set(this.#length.subarray(0, n));
    copy.#count = n;
    return copy;
  }

  /**
   * Total bytes covered by the CPU entries.
   *
   * @returns Sum of all entry lengths.
   */
  totalLength(): number {
    this.#updatePrefix();
    return this.#prefix[this.#count] as number;
  }

  /**
   * Whether the entries, in order, form one physically contiguous run.
   *
   * @param pageSize - Page size in bytes.
   * @returns `true` iff the table has at least one entry and each entry starts where the
   *   previous one ends.
   */
  isContiguous(pageSize: number): boolean {
    const n = this.#count;
    if (n === 0) return false;
    const pfn = this.#pfn;
    const off = this.#offset;
    const len = this.#length;
    let end = (pfn[0] as number) * pageSize + (off[0] as number) + (len[0] as number);
    for (let i = 1; i < n; i++) {
      const start = (pfn[i] as number) * pageSize + (off[i] as number);
      if (start !== end) return false;
      end = start + (len[i] as number);
    }
    return true;
  }

  /**
   * Calls `cb` for every CPU entry in order.
   *
   * @param pageSize - Page size in bytes.
   * @param cb - Receives the entry's physical start address, its length, and the byte offset of
   *   the entry within the whole table.
   */
  forEachRange(
    pageSize: number,
    cb: (phys: number, length: number, byteOffsetInTable: number) => void,
  ): void {
    const n = this.#count;
    const pfn = this.#pfn;
    const off = this.#offset;
    const len = this.#length;
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const l = len[i] as number;
      cb((pfn[i] as number) * pageSize + (off[i] as number), l, pos);
      pos += l;
    }
  }

  /**
   * Physical address of the byte at `byteOffset` within the table, by binary search over cached
   * prefix sums (O(log entries) once the cache is up to date).
   *
   * @param byteOffset - Offset into the buffer described by the table.
   * @param pageSize - Page size in bytes.
   * @returns The physical address of that byte.
   * @throws RangeError if `byteOffset` is not in `[0, totalLength())`.
   */
  physAt(byteOffset: number, pageSize: number): number {
    const total = this.totalLength();
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset >= total) {
      throw new RangeError(`byte offset ${byteOffset} outside table of ${total} bytes`);
    }
    const prefix = this.#prefix;
    // Find the first entry whose end lies beyond byteOffset.
    let lo = 0;
    let hi = this.#count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((prefix[mid + 1] as number) > byteOffset) hi = mid;
      else lo = mid + 1;
    }
    return (
      (this.#pfn[lo] as number) * pageSize +
      (this.#offset[lo] as number) +
      (byteOffset - (prefix[lo] as number))
    );
  }

  /**
   * Records the DMA mapping of one entry (used by the DMA mapping layer).
   *
   * @param index - Entry index, below {@link SgTable.entryCount}.
   * @param address - Bus address the device uses.
   * @param length - Length of the mapped segment in bytes.
   * @throws RangeError if `index` is out of range or a value is negative or not an integer.
   */
  setDma(index: number, address: number, length: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#count) {
      throw new RangeError(`sg index ${index} outside [0, ${this.#count})`);
    }
    if (
      !Number.isSafeInteger(address) ||
      address < 0 ||
      !Number.isSafeInteger(length) ||
      length < 0
    ) {
      throw new RangeError(`invalid DMA segment: address ${address}, length ${length}`);
    }
    this.#dmaAddress[index] = address;
    this.#dmaLength[index] = length;
  }

  /**
   * Sets how many entries are mapped for DMA (0 when unmapped).
   *
   * @param n - Mapped entry count, at most {@link SgTable.entryCount}.
   * @throws RangeError if `n` is out of range.
   */
  setNents(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.#count) {
      throw new RangeError(`nents ${n} outside [0, ${this.#count}]`);
    }
    this.#nents = n;
  }

  #grow(capacity: number): void {
    const grow = (a: Float64Array, size: number): Float64Array => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.#pfn = grow(this.#pfn, capacity);
    this.#offset = grow(this.#offset, capacity);
    this.#length = grow(this.#length, capacity);
    this.#dmaAddress = grow(this.#dmaAddress, capacity);
    this.#dmaLength = grow(this.#dmaLength, capacity);
    this.#prefix = grow(this.#prefix, capacity + 1);
  }

  #updatePrefix(): void {
    const n = this.#count;
    const prefix = this.#prefix;
    const len = this.#length;
    for (let i = this.#prefixValid; i < n; i++) {
      prefix[i + 1] = (prefix[i] as number) + (len[i] as number);
    }
    this.#prefixValid = n;
  }
}
