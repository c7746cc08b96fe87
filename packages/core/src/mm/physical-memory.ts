// Models machine RAM: one flat physical address space, backed by host memory per section on demand.

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

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * Simulated physical memory.
 *
 * The address space is split into fixed-size sections. A section gets a host `Uint8Array` only
 * when something non-zero is first written into it; until then it reads as zeros. Zero-filling a
 * whole backed section releases its backing again, so creating a huge machine costs only the
 * section table and the cost of every operation grows with the bytes it touches.
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

  readonly #sections: (Uint8Array | undefined)[];
  #backedSections = 0;
  #backedBytes = 0;

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
    this.#sections = new Array<Uint8Array | undefined>(this.sectionCount).fill(undefined);
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
      const sec = this.#sections[s];
      if (sec !== undefined) out.set(sec.subarray(within, within + n), o);
      else if (!fresh) out.fill(0, o, o + n);
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
      this.#back(s).set(src.subarray(i, i + n), within);
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
   * Number of sections currently backed by host memory.
   *
   * @returns The backed section count.
   */
  backedSections(): number {
    return this.#backedSections;
  }

  /**
   * Host bytes currently allocated to back simulated RAM.
   *
   * @returns The total size of all backed sections.
   */
  backedBytes(): number {
    return this.#backedBytes;
  }

  /**
   * Whether the section containing `phys` is backed by host memory.
   *
   * @param phys - A physical address in `[0, bytes)`.
   * @returns `true` if that section is backed.
   * @throws RangeError if `phys` is out of bounds.
   */
  isBacked(phys: number): boolean {
    if (!Number.isSafeInteger(phys) || phys < 0 || phys >= this.bytes) {
      throw new RangeError(`physical address ${phys} outside [0, ${this.bytes})`);
    }
    return this.#sections[Math.floor(phys / this.sectionBytes)] !== undefined;
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

  #back(s: number): Uint8Array {
    let sec = this.#sections[s];
    if (sec === undefined) {
      sec = new Uint8Array(this.#sectionLength(s));
      this.#sections[s] = sec;
      this.#backedSections++;
      this.#backedBytes += sec.length;
    }
    return sec;
  }

  #fillInSection(s: number, within: number, n: number, v: number): void {
    if (v === 0) {
      const sec = this.#sections[s];
      if (sec === undefined) return;
      if (within === 0 && n === sec.length) {
        this.#sections[s] = undefined;
        this.#backedSections--;
        this.#backedBytes -= sec.length;
      } else {
        sec.fill(0, within, within + n);
      }
    } else {
      this.#back(s).fill(v, within, within + n);
    }
  }

  /** Copies a run that lies inside one source section and one destination section. */
  #copyChunk(d: number, s: number, n: number): void {
    const sb = this.sectionBytes;
    const si = Math.floor(s / sb);
    const di = Math.floor(d / sb);
    const sOff = s - si * sb;
    const dOff = d - di * sb;
    const src = this.#sections[si];
    if (src === undefined) {
      this.#fillInSection(di, dOff, n, 0);
    } else if (si === di) {
      src.copyWithin(dOff, sOff, sOff + n);
    } else {
      this.#back(di).set(src.subarray(sOff, sOff + n), dOff);
    }
  }
}
