// Models machine RAM: one flat physical address space, backed by host memory per page or section on demand.

/** Default size of one backing section (2 MiB). */
const DEFAULT_SECTION_BYTES = 2 * 1024 * 1024;

/** Options accepted by the {@link PhysicalMemory} constructor. */
export interface PhysicalMemoryOptions {
  /** Total simulated RAM in bytes; a positive multiple of `pageSize`. */
  bytes: number;
  /** Page size in bytes; a power of two. */
  pageSize: number;
  /**
   * Granule of host backing in bytes; a power-of-two multiple of `pageSize`. Defaults to 2 MiB
   * (or `pageSize` if that is larger) and is clamped to `bytes` when RAM is smaller.
   */
  sectionBytes?: number;
}

/**
 * Host backing of a section of which few pages were written: one array per written page, keyed
 * by the page's index in the section. A section turns dense once half of it would be backed.
 */
class PageBacked extends Map<number, Uint8Array> {}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * Simulated physical memory.
 *
 * The address space is split into fixed-size sections. Memory is backed by the host only when
 * something non-zero is first written into it; until then it reads as zeros. A section starts
 * backed page by page (touching one byte costs about one page of host memory) and gets one
 * `Uint8Array` for the whole section once a write would back half of it or more, so bulk copies
 * of contiguous runs work on whole sections. Zero-filling a whole backed page or section
 * releases its backing again, so creating a huge machine costs only the section table and the
 * cost of every operation grows with the bytes it touches.
 */
export class PhysicalMemory {
  /** Total simulated RAM in bytes. */
  readonly bytes: number;
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Number of pages (`bytes / pageSize`). */
  readonly pageCount: number;
  /** Size of one backing section in bytes (the last section may be shorter). */
  readonly sectionBytes: number;
  /** Number of sections covering the address space. */
  readonly sectionCount: number;

  /**
   * Told of every write into RAM through this object (`write`, `fill`, `zero`, `copy`'s
   * destination) before it lands: `(phys, length)`. A cache model listens here to drop its
   * lines for memory the kernel rewrote behind the CPU port (page zeroing at allocation).
   * `null` (the default) costs one check per call.
   */
  writeObserver: ((phys: number, length: number) => void) | null = null;

  /** Backing by section index; a section missing here reads as zeros. */
  readonly #sections = new Map<number, Uint8Array | PageBacked>();
  #backedSections = 0;
  #backedBytes = 0;
  #layout = 0;
  #zeroPage: Uint8Array | undefined;

  /**
   * Creates an all-zero, entirely unbacked physical memory.
   *
   * @param options - Size, page size and optional section size; see {@link PhysicalMemoryOptions}.
   * @throws RangeError if the sizes are not consistent.
   */
  constructor(options: PhysicalMemoryOptions) {
    const { bytes, pageSize } = options;
    if (!isPowerOfTwo(pageSize)) {
      throw new RangeError(`pageSize must be a power of two, got ${pageSize}`);
    }
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % pageSize !== 0) {
      throw new RangeError(`bytes must be a positive multiple of pageSize, got ${bytes}`);
    }
    let sectionBytes = options.sectionBytes ?? Math.max(DEFAULT_SECTION_BYTES, pageSize);
    if (
      !Number.isSafeInteger(sectionBytes) ||
      sectionBytes % pageSize !== 0 ||
      !isPowerOfTwo(sectionBytes / pageSize)
    ) {
      throw new RangeError(
        `sectionBytes must be a power-of-two multiple of pageSize, got ${sectionBytes}`,
      );
    }
    if (sectionBytes > bytes) sectionBytes = bytes;
    this.bytes = bytes;
    this.pageSize = pageSize;
    this.pageCount = bytes / pageSize;
    this.sectionBytes = sectionBytes;
    this.sectionCount = Math.ceil(bytes / sectionBytes);
  }

  /**
   * Reads `length` bytes starting at physical address `phys`. Unbacked sections read as zeros and
   * stay unbacked.
   *
   * @param phys - First physical address to read.
   * @param length - Number of bytes to read.
   * @param dst - Optional destination; a new array is allocated when omitted.
   * @param dstOffset - Offset into `dst` at which to store the bytes (default 0).
   * @returns The bytes read: the new array, or the view of `dst` that was written.
   * @throws RangeError if the physical range or the destination range is out of bounds.
   */
  read(phys: number, length: number, dst?: Uint8Array, dstOffset = 0): Uint8Array {
    this.#checkRange(phys, length);
    let out: Uint8Array;
    let fresh = false;
    if (dst === undefined) {
      out = new Uint8Array(length);
      fresh = true;
      dstOffset = 0;
    } else {
      if (!Number.isSafeInteger(dstOffset) || dstOffset < 0 || dstOffset + length > dst.length) {
        throw new RangeError(
          `destination range [${dstOffset}, +${length}) exceeds buffer of ${dst.length} bytes`,
        );
      }
      out = dst;
    }
    const sb = this.sectionBytes;
    let p = phys;
    let o = dstOffset;
    let remaining = length;
    while (remaining > 0) {
      const s = Math.floor(p / sb);
      const within = p - s * sb;
      const n = Math.min(remaining, sb - within);
      this.#readIn(s, within, n, out, o, fresh);
      p += n;
      o += n;
      remaining -= n;
    }
    return fresh ? out : out.subarray(dstOffset, dstOffset + length);
  }

  /**
   * Writes `src` at physical address `phys`, backing every section it touches.
   *
   * @param phys - First physical address to write.
   * @param src - Bytes to store.
   * @throws RangeError if the range is out of bounds.
   */
  write(phys: number, src: Uint8Array): void {
    const length = src.length;
    this.#checkRange(phys, length);
    if (this.writeObserver !== null && length > 0) this.writeObserver(phys, length);
    const sb = this.sectionBytes;
    let p = phys;
    let i = 0;
    while (i < length) {
      const s = Math.floor(p / sb);
      const within = p - s * sb;
      const n = Math.min(length - i, sb - within);
      this.#writeIn(s, within, src.subarray(i, i + n));
      p += n;
      i += n;
    }
  }

  /**
   * Sets `length` bytes at `phys` to `value & 0xff`. Filling zero leaves unbacked sections alone
   * and releases the backing of any backed section it covers completely.
   *
   * @param phys - First physical address to fill.
   * @param length - Number of bytes to fill.
   * @param value - Byte value; only the low 8 bits are used.
   * @throws RangeError if the range is out of bounds.
   */
  fill(phys: number, length: number, value: number): void {
    this.#checkRange(phys, length);
    const v = value & 0xff;
    if (this.writeObserver !== null && length > 0) this.writeObserver(phys, length);
    const sb = this.sectionBytes;
    let p = phys;
    let remaining = length;
    while (remaining > 0) {
      const s = Math.floor(p / sb);
      const within = p - s * sb;
      const n = Math.min(remaining, sb - within);
      this.#fillInSection(s, within, n, v);
      p += n;
      remaining -= n;
    }
  }

  /**
   * Zeroes `length` bytes at `phys`; same as `fill(phys, length, 0)`.
   *
   * @param phys - First physical address to zero.
   * @param length - Number of bytes to zero.
   * @throws RangeError if the range is out of bounds.
   */
  zero(phys: number, length: number): void {
    this.fill(phys, length, 0);
  }

  /**
   * Copies `length` bytes from `srcPhys` to `dstPhys`. Overlapping ranges behave like `memmove`;
   * unbacked source bytes copy as zeros (without backing the destination).
   *
   * @param dstPhys - First destination physical address.
   * @param srcPhys - First source physical address.
   * @param length - Number of bytes to copy.
   * @throws RangeError if either range is out of bounds.
   */
  copy(dstPhys: number, srcPhys: number, length: number): void {
    this.#checkRange(dstPhys, length);
    this.#checkRange(srcPhys, length);
    if (length === 0 || dstPhys === srcPhys) return;
    if (this.writeObserver !== null) this.writeObserver(dstPhys, length);
    const sb = this.sectionBytes;
    if (dstPhys < srcPhys || dstPhys >= srcPhys + length) {
      // Front to back: a chunk never overwrites source bytes that a later chunk still needs.
      let done = 0;
      while (done < length) {
        const s = srcPhys + done;
        const d = dstPhys + done;
        const n = Math.min(length - done, sb - (s % sb), sb - (d % sb));
        this.#copyChunk(d, s, n);
        done += n;
      }
    } else {
      // Destination overlaps the tail of the source: copy back to front.
      let left = length;
      while (left > 0) {
        const sEnd = srcPhys + left;
        const dEnd = dstPhys + left;
        const n = Math.min(left, ((sEnd - 1) % sb) + 1, ((dEnd - 1) % sb) + 1);
        this.#copyChunk(dEnd - n, sEnd - n, n);
        left -= n;
      }
    }
  }

  /**
   * Copies `[phys, +length)` of this memory to the same addresses of `dst` (a memory at least
   * as large), straight from this memory's backing; unbacked bytes copy as zeros without
   * backing `dst`. Used to move lines between RAM and a cache model's copy of it.
   *
   * @param dst - The memory written.
   * @param phys - First physical address.
   * @param length - Number of bytes.
   * @throws RangeError if the range is out of bounds of either memory.
   */
  copyTo(dst: PhysicalMemory, phys: number, length: number): void {
    this.#checkRange(phys, length);
    const sb = this.sectionBytes;
    const ps = this.pageSize;
    let p = phys;
    let remaining = length;
    while (remaining > 0) {
      const s = Math.floor(p / sb);
      const within = p - s * sb;
      const n = Math.min(remaining, sb - within);
      const sec = this.#sections.get(s);
      if (sec === undefined) {
        dst.fill(p, n, 0);
      } else if (sec instanceof Uint8Array) {
        dst.write(p, sec.subarray(within, within + n));
      } else {
        for (let w = within; w < within + n; ) {
          const i = Math.floor(w / ps);
          const off = w - i * ps;
          const k = Math.min(within + n - w, ps - off);
          const page = sec.get(i);
          if (page === undefined) dst.fill(s * sb + w, k, 0);
          else dst.write(s * sb + w, page.subarray(off, off + k));
          w += k;
        }
      }
      p += n;
      remaining -= n;
    }
  }

  /**
   * The host bytes of page `pfn`, for a caller whose CPU port lets loads and stores bypass it
   * (`CpuPort.directMemory`): a view of exactly one page of this memory's backing. An unbacked
   * page gives a shared all-zero page when `create` is false (the caller must only load from
   * it) and is backed first when `create` is true, as a write would back it. Every such view
   * stays valid until {@link PhysicalMemory.layout} changes. Does not call the write observer.
   *
   * @param pfn - Page frame number, in `[0, pageCount)`.
   * @param create - Back the page if it is not (for stores).
   * @returns A `pageSize`-byte view of the page's backing, or of the shared zero page.
   * @throws RangeError if `pfn` is out of bounds.
   */
  pageBacking(pfn: number, create: boolean): Uint8Array {
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= this.pageCount) {
      throw new RangeError(`page frame ${pfn} outside [0, ${this.pageCount})`);
    }
    const ps = this.pageSize;
    const sb = this.sectionBytes;
    const phys = pfn * ps;
    const s = Math.floor(phys / sb);
    const within = phys - s * sb;
    let sec = this.#sections.get(s);
    if (sec === undefined || (!(sec instanceof Uint8Array) && !sec.has(within / ps))) {
      if (!create) {
        this.#zeroPage ??= new Uint8Array(ps);
        return this.#zeroPage;
      }
      if (this.#goesDense(s, sec, 1)) sec = this.#dense(s);
      else return this.#page(s, within / ps);
    }
    if (sec instanceof Uint8Array) return sec.subarray(within, within + ps);
    return sec.get(within / ps) as Uint8Array;
  }

  /**
   * A count that changes whenever host backing is created, replaced or released, so views
   * returned by {@link PhysicalMemory.pageBacking} may be stale (or a zero page may now have
   * bytes of its own). Unchanged by reads and by writes into backed memory.
   *
   * @returns The current layout generation.
   */
  get layout(): number {
    return this.#layout;
  }

  /**
   * Number of sections of which any page is currently backed by host memory.
   *
   * @returns The backed section count.
   */
  backedSections(): number {
    return this.#backedSections;
  }

  /**
   * Host bytes currently allocated to back simulated RAM.
   *
   * @returns The total size of all backed pages and sections.
   */
  backedBytes(): number {
    return this.#backedBytes;
  }

  /**
   * Whether any page of the section containing `phys` is backed by host memory.
   *
   * @param phys - A physical address in `[0, bytes)`.
   * @returns `true` if that section is backed, in part or whole.
   * @throws RangeError if `phys` is out of bounds.
   */
  isBacked(phys: number): boolean {
    this.#checkAddress(phys);
    return this.#sections.has(Math.floor(phys / this.sectionBytes));
  }

  /**
   * Whether the page containing `phys` is backed by host memory.
   *
   * @param phys - A physical address in `[0, bytes)`.
   * @returns `true` if that page is backed.
   * @throws RangeError if `phys` is out of bounds.
   */
  isPageBacked(phys: number): boolean {
    this.#checkAddress(phys);
    const s = Math.floor(phys / this.sectionBytes);
    const sec = this.#sections.get(s);
    if (sec === undefined || sec instanceof Uint8Array) return sec !== undefined;
    return sec.has(Math.floor((phys - s * this.sectionBytes) / this.pageSize));
  }

  #checkAddress(phys: number): void {
    if (!Number.isSafeInteger(phys) || phys < 0 || phys >= this.bytes) {
      throw new RangeError(`physical address ${phys} outside [0, ${this.bytes})`);
    }
  }

  #checkRange(phys: number, length: number): void {
    if (
      !Number.isSafeInteger(phys) ||
      !Number.isSafeInteger(length) ||
      phys < 0 ||
      length < 0 ||
      phys + length > this.bytes
    ) {
      throw new RangeError(`physical range [${phys}, +${length}) outside [0, ${this.bytes})`);
    }
  }

  #sectionLength(s: number): number {
    return Math.min(this.sectionBytes, this.bytes - s * this.sectionBytes);
  }

  /** Number of pages the run `[within, +n)` of a section spans. */
  #pagesSpanned(within: number, n: number): number {
    const ps = this.pageSize;
    return Math.floor((within + n - 1) / ps) - Math.floor(within / ps) + 1;
  }

  /** Whether backing `n` more pages of section `s` (holding `sec`) should back it whole. */
  #goesDense(s: number, sec: PageBacked | undefined, pages: number): boolean {
    const held = sec === undefined ? 0 : sec.size;
    return (held + pages) * this.pageSize * 2 >= this.#sectionLength(s);
  }

  /** Backs section `s` whole, moving any page backing into it. */
  #dense(s: number): Uint8Array {
    const sec = this.#sections.get(s);
    if (sec instanceof Uint8Array) return sec;
    const whole = new Uint8Array(this.#sectionLength(s));
    const ps = this.pageSize;
    if (sec === undefined) {
      this.#backedSections++;
    } else {
      for (const [i, page] of sec) whole.set(page, i * ps);
      this.#backedBytes -= sec.size * ps;
    }
    this.#sections.set(s, whole);
    this.#backedBytes += whole.length;
    this.#layout++;
    return whole;
  }

  /** The backing of page `i` of section `s`, which holds page backing or none. */
  #page(s: number, i: number): Uint8Array {
    let sec = this.#sections.get(s) as PageBacked | undefined;
    if (sec === undefined) {
      sec = new PageBacked();
      this.#sections.set(s, sec);
      this.#backedSections++;
    }
    let page = sec.get(i);
    if (page === undefined) {
      page = new Uint8Array(this.pageSize);
      sec.set(i, page);
      this.#backedBytes += page.length;
      this.#layout++;
    }
    return page;
  }

  /** Drops the backing of page `i` of the page-backed section `s`. */
  #dropPage(s: number, sec: PageBacked, i: number): void {
    if (!sec.delete(i)) return;
    this.#backedBytes -= this.pageSize;
    this.#layout++;
    if (sec.size === 0) {
      this.#sections.delete(s);
      this.#backedSections--;
    }
  }

  /** Reads the run `[within, +n)` of section `s` into `out` at `o`. */
  #readIn(s: number, within: number, n: number, out: Uint8Array, o: number, fresh: boolean): void {
    const sec = this.#sections.get(s);
    if (sec === undefined) {
      if (!fresh) out.fill(0, o, o + n);
    } else if (sec instanceof Uint8Array) {
      out.set(sec.subarray(within, within + n), o);
    } else {
      const ps = this.pageSize;
      const end = within + n;
      for (let w = within; w < end; ) {
        const i = Math.floor(w / ps);
        const off = w - i * ps;
        const k = Math.min(end - w, ps - off);
        const page = sec.get(i);
        if (page !== undefined) out.set(page.subarray(off, off + k), o + w - within);
        else if (!fresh) out.fill(0, o + w - within, o + w - within + k);
        w += k;
      }
    }
  }

  /** Writes `src` into section `s` at `within` (the run lies inside the section). */
  #writeIn(s: number, within: number, src: Uint8Array): void {
    const sec = this.#sections.get(s);
    if (sec instanceof Uint8Array) {
      sec.set(src, within);
      return;
    }
    const n = src.length;
    if (this.#goesDense(s, sec, this.#pagesSpanned(within, n))) {
      this.#dense(s).set(src, within);
      return;
    }
    const ps = this.pageSize;
    const end = within + n;
    for (let w = within; w < end; ) {
      const i = Math.floor(w / ps);
      const off = w - i * ps;
      const k = Math.min(end - w, ps - off);
      this.#page(s, i).set(src.subarray(w - within, w - within + k), off);
      w += k;
    }
  }

  #fillInSection(s: number, within: number, n: number, v: number): void {
    const sec = this.#sections.get(s);
    if (sec instanceof Uint8Array) {
      if (v === 0 && within === 0 && n === sec.length) {
        this.#sections.delete(s);
        this.#backedSections--;
        this.#backedBytes -= sec.length;
        this.#layout++;
      } else {
        sec.fill(v, within, within + n);
      }
      return;
    }
    if (v === 0 && sec === undefined) return;
    if (v !== 0 && this.#goesDense(s, sec, this.#pagesSpanned(within, n))) {
      this.#dense(s).fill(v, within, within + n);
      return;
    }
    const ps = this.pageSize;
    const end = within + n;
    for (let w = within; w < end; ) {
      const i = Math.floor(w / ps);
      const off = w - i * ps;
      const k = Math.min(end - w, ps - off);
      if (v !== 0) {
        this.#page(s, i).fill(v, off, off + k);
      } else if (k === ps) {
        this.#dropPage(s, sec as PageBacked, i);
      } else {
        (sec as PageBacked).get(i)?.fill(0, off, off + k);
      }
      w += k;
    }
  }

  /** Copies a run that lies inside one source section and one destination section. */
  #copyChunk(d: number, s: number, n: number): void {
    const sb = this.sectionBytes;
    const si = Math.floor(s / sb);
    const di = Math.floor(d / sb);
    const sOff = s - si * sb;
    const dOff = d - di * sb;
    const src = this.#sections.get(si);
    if (src === undefined) {
      this.#fillInSection(di, dOff, n, 0);
    } else if (src instanceof Uint8Array) {
      if (si === di) src.copyWithin(dOff, sOff, sOff + n);
      else this.#writeIn(di, dOff, src.subarray(sOff, sOff + n));
    } else if (si === di && dOff > sOff) {
      // Destination overlaps the tail of the source inside one section: back to front.
      for (let left = n; left > 0; ) {
        const k = this.#pieceBack(sOff + left, dOff + left, left);
        this.#copyPiece(si, sOff + left - k, di, dOff + left - k, k);
        left -= k;
      }
    } else {
      const ps = this.pageSize;
      for (let done = 0; done < n; ) {
        const k = Math.min(n - done, ps - ((sOff + done) % ps), ps - ((dOff + done) % ps));
        this.#copyPiece(si, sOff + done, di, dOff + done, k);
        done += k;
      }
    }
  }

  /** Length of the last piece of `[.., sEnd)` → `[.., dEnd)` that stays inside one page each. */
  #pieceBack(sEnd: number, dEnd: number, left: number): number {
    const ps = this.pageSize;
    return Math.min(left, ((sEnd - 1) % ps) + 1, ((dEnd - 1) % ps) + 1);
  }

  /** Copies `k` bytes that lie inside one source page and one destination page. */
  #copyPiece(si: number, sOff: number, di: number, dOff: number, k: number): void {
    const sec = this.#sections.get(si);
    let bytes: Uint8Array | undefined;
    if (sec instanceof Uint8Array) {
      bytes = sec.subarray(sOff, sOff + k);
    } else if (sec !== undefined) {
      const i = Math.floor(sOff / this.pageSize);
      const off = sOff - i * this.pageSize;
      bytes = sec.get(i)?.subarray(off, off + k);
    }
    if (bytes === undefined) this.#fillInSection(di, dOff, k, 0);
    else this.#writeIn(di, dOff, bytes);
  }
}
