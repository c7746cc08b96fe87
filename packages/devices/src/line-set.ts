// Sparse per-line state of all of RAM: a chunked bitmap and a chunked tag array, by line number.

/** Lines per chunk (2^15: one 2 MiB section of 64-byte lines). */
const CHUNK_SHIFT = 15;
const CHUNK_LINES = 1 << CHUNK_SHIFT;
const CHUNK_WORDS = CHUNK_LINES >>> 5;

/** Count of set bits in a 32-bit word. */
function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Index of the lowest set bit of a non-zero word. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Mask of bits [lo, hi) of a word, 0 ≤ lo < hi ≤ 32. */
function bits(lo: number, hi: number): number {
  const upper = hi === 32 ? 0xffffffff : (1 << hi) - 1;
  return (upper & ~((1 << lo) - 1)) >>> 0;
}

/**
 * A set of line numbers over the whole physical address space, stored as a bitmap split into
 * chunks of 32768 lines that are allocated on first use, with a population count per chunk.
 * Range operations work a word (32 lines) at a time and skip empty chunks in O(1), so their
 * cost grows with the lines actually set in the range, not with the range or with RAM.
 */
export class LineSet {
  readonly #chunks: (Uint32Array | undefined)[];
  readonly #counts: Int32Array;
  #total = 0;

  /** @param lineCount - lines in the address space */
  constructor(readonly lineCount: number) {
    const n = Math.ceil(lineCount / CHUNK_LINES);
    this.#chunks = new Array<Uint32Array | undefined>(n).fill(undefined);
    this.#counts = new Int32Array(n);
  }

  /** Number of lines in the set. */
  get size(): number {
    return this.#total;
  }

  /** Whether `line` is in the set. */
  has(line: number): boolean {
    const w = this.#chunks[line >>> CHUNK_SHIFT];
    if (!w) return false;
    const i = line & (CHUNK_LINES - 1);
    return ((w[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }

  /** Whether any line of [l0, l1) is in the set. */
  any(l0: number, l1: number): boolean {
    if (this.#total === 0 || l0 >= l1) return false;
    let found = false;
    this.#scan(l0, l1, () => {
      found = true;
      return true;
    });
    return found;
  }

  /** Adds [l0, l1). @returns how many lines were newly added */
  addRange(l0: number, l1: number): number {
    let added = 0;
    for (let c = l0 >>> CHUNK_SHIFT; l0 < l1; c++) {
      const base = c * CHUNK_LINES;
      const a = l0 - base;
      const b = Math.min(l1 - base, CHUNK_LINES);
      const before = this.#counts[c] as number;
      if (before < CHUNK_LINES) {
        let w = this.#chunks[c];
        if (!w) {
          w = new Uint32Array(CHUNK_WORDS);
          this.#chunks[c] = w;
        }
        let n: number;
        if (a === 0 && b === CHUNK_LINES) {
          w.fill(0xffffffff);
          n = CHUNK_LINES - before;
        } else {
          n = applyRange(w, a, b, true);
        }
        this.#counts[c] = before + n;
        added += n;
      }
      l0 = base + b;
    }
    this.#total += added;
    return added;
  }

  /** Removes [l0, l1). @returns how many lines were removed */
  removeRange(l0: number, l1: number): number {
    if (this.#total === 0) return 0;
    let removed = 0;
    for (let c = l0 >>> CHUNK_SHIFT; l0 < l1; c++) {
      const base = c * CHUNK_LINES;
      const a = l0 - base;
      const b = Math.min(l1 - base, CHUNK_LINES);
      const before = this.#counts[c] as number;
      const w = this.#chunks[c];
      if (before > 0 && w) {
        let n: number;
        if (a === 0 && b === CHUNK_LINES) {
          w.fill(0);
          n = before;
        } else {
          n = applyRange(w, a, b, false);
        }
        this.#counts[c] = before - n;
        removed += n;
      }
      l0 = base + b;
    }
    this.#total -= removed;
    return removed;
  }

  /**
   * Calls `fn(start, end)` for every maximal run of lines of [l0, l1) that are in the set,
   * in order. Runs continue across word and chunk boundaries.
   */
  forEachRun(l0: number, l1: number, fn: (start: number, end: number) => void): void {
    if (this.#total === 0 || l0 >= l1) return;
    let runStart = -1;
    let runEnd = -1;
    this.#scan(l0, l1, (s, e) => {
      if (runStart >= 0 && s === runEnd) runEnd = e;
      else {
        if (runStart >= 0) fn(runStart, runEnd);
        runStart = s;
        runEnd = e;
      }
      return false;
    });
    if (runStart >= 0) fn(runStart, runEnd);
  }

  /**
   * Calls `fn(start, end)` for every maximal run of lines of [l0, l1) that are *not* in the
   * set, in order.
   */
  forEachGap(l0: number, l1: number, fn: (start: number, end: number) => void): void {
    let pos = l0;
    this.forEachRun(l0, l1, (s, e) => {
      if (s > pos) fn(pos, s);
      pos = e;
    });
    if (pos < l1) fn(pos, l1);
  }

  /** Visits set sub-runs of [l0, l1) word by word; `visit` returns true to stop. */
  #scan(l0: number, l1: number, visit: (start: number, end: number) => boolean): void {
    for (let c = l0 >>> CHUNK_SHIFT; l0 < l1; c++) {
      const base = c * CHUNK_LINES;
      const a = l0 - base;
      const b = Math.min(l1 - base, CHUNK_LINES);
      l0 = base + b;
      const w = this.#chunks[c];
      const count = this.#counts[c] as number;
      if (!w || count === 0) continue;
      if (count === CHUNK_LINES) {
        if (visit(base + a, base + b)) return;
        continue;
      }
      const lastWord = (b - 1) >>> 5;
      for (let wi = a >>> 5; wi <= lastWord; wi++) {
        let x = w[wi] as number;
        if (x === 0) continue;
        const wb = wi << 5;
        const lo = Math.max(a - wb, 0);
        const hi = Math.min(b - wb, 32);
        if (lo > 0 || hi < 32) x = (x & bits(lo, hi)) >>> 0;
        while (x !== 0) {
          const s = ctz(x);
          const inv = ~(x >>> s) >>> 0;
          const len = inv === 0 ? 32 - s : ctz(inv);
          if (visit(base + wb + s, base + wb + s + len)) return;
          x = s + len >= 32 ? 0 : (x & ~bits(s, s + len)) >>> 0;
        }
      }
    }
  }
}

/** Sets or clears bits [a, b) of `w`; returns how many bits changed. */
function applyRange(w: Uint32Array, a: number, b: number, set: boolean): number {
  let changed = 0;
  const first = a >>> 5;
  const last = (b - 1) >>> 5;
  for (let wi = first; wi <= last; wi++) {
    const lo = wi === first ? a & 31 : 0;
    const hi = wi === last ? ((b - 1) & 31) + 1 : 32;
    const m = lo === 0 && hi === 32 ? 0xffffffff : bits(lo, hi);
    const old = w[wi] as number;
    const next = set ? (old | m) >>> 0 : (old & ~m) >>> 0;
    if (next !== old) {
      changed += popcount((old ^ next) >>> 0);
      w[wi] = next;
    }
  }
  return changed;
}

/**
 * A number per line (0 = none), in chunks of 32768 lines allocated on first write: who last
 * wrote a line, for reports. Only ever read for lines some {@link LineSet} marks.
 */
export class LineTags {
  readonly #chunks: (Uint32Array | undefined)[];

  /** @param lineCount - lines in the address space */
  constructor(lineCount: number) {
    this.#chunks = new Array<Uint32Array | undefined>(Math.ceil(lineCount / CHUNK_LINES)).fill(
      undefined,
    );
  }

  /** The tag of `line` (0 when never set). */
  get(line: number): number {
    const w = this.#chunks[line >>> CHUNK_SHIFT];
    return w ? (w[line & (CHUNK_LINES - 1)] as number) : 0;
  }

  /** Sets the tag of every line of [l0, l1). */
  setRange(l0: number, l1: number, tag: number): void {
    for (let c = l0 >>> CHUNK_SHIFT; l0 < l1; c++) {
      const base = c * CHUNK_LINES;
      const b = Math.min(l1 - base, CHUNK_LINES);
      let w = this.#chunks[c];
      if (!w) {
        w = new Uint32Array(CHUNK_LINES);
        this.#chunks[c] = w;
      }
      w.fill(tag, l0 - base, b);
      l0 = base + b;
    }
  }
}
