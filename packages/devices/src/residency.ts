// Which lines a finite, set-associative cache holds, with least-recently-used replacement.

/**
 * The tag store of a finite cache: `sets × ways` slots in typed arrays. A line lives in set
 * `line mod sets`; touching a line not present takes a free way or evicts the way used least
 * recently. The data itself is kept by the cache model; this only decides residency.
 */
export class SetAssociativeLru {
  /** Number of sets. */
  readonly sets: number;
  readonly #tags: Float64Array;
  readonly #stamps: Float64Array;
  #clock = 0;

  /**
   * @param lines - capacity in lines
   * @param ways - associativity
   */
  constructor(
    lines: number,
    readonly ways: number,
  ) {
    this.sets = Math.max(1, Math.floor(lines / ways));
    this.#tags = new Float64Array(this.sets * ways).fill(-1);
    this.#stamps = new Float64Array(this.sets * ways);
  }

  /**
   * Marks `line` most recently used, inserting it if absent.
   * @returns the line evicted to make room, or -1
   */
  touch(line: number): number {
    return this.#touchIn((line % this.sets) * this.ways, line, ++this.#clock);
  }

  /**
   * Touches every line of `[l0, l1)` in ascending order, leaving the tag store exactly as
   * {@link SetAssociativeLru.touch} line by line would, at a cost that does not grow past
   * `sets × ways²` however long the run. Its first `sets × ways` lines are touched one by one:
   * then every set holds `ways` lines of the run and nothing else, so each further line misses
   * and evicts the one `sets × ways` lines before it, and each set ends up holding its last
   * `ways` lines of the run.
   * @param evicted - called for each line evicted before the run touched it: lines that are
   *   not in the run, and lines of the run pushed out before their turn (such a line is then
   *   brought back in at its turn)
   * @returns the first line of the run still cached afterwards: every line of
   *   `[l0, returned)` was touched and then evicted again by the run itself, after its turn
   */
  touchRun(l0: number, l1: number, evicted: (line: number) => void): number {
    const n = l1 - l0;
    if (n <= 0) return l0;
    const sets = this.sets;
    const ways = this.ways;
    const cap = sets * ways;
    const c0 = this.#clock;
    // The first `sets × ways` lines, in order: each set gets its first `ways` lines of the run.
    const oneByOne = l0 + Math.min(n, cap);
    for (let l = l0; l < oneByOne; l++) {
      const ev = this.#touchIn((l % sets) * ways, l, c0 + (l - l0) + 1);
      if (ev >= 0) evicted(ev);
    }
    if (n > cap) {
      // The rest cycles through the sets: each ends with its last `ways` lines of the run.
      const tags = this.#tags;
      const stamps = this.#stamps;
      for (let l = l1 - cap; l < l1; l++) {
        const slot = (l % sets) * ways + (Math.floor((l - l0) / sets) % ways);
        tags[slot] = l;
        stamps[slot] = c0 + (l - l0) + 1;
      }
    }
    this.#clock = c0 + n;
    return Math.max(l0, l1 - cap);
  }

  /** Touches `line` in the set whose first slot is `base`, with recency `stamp`. */
  #touchIn(base: number, line: number, stamp: number): number {
    const tags = this.#tags;
    const stamps = this.#stamps;
    const end = base + this.ways;
    let victim = base;
    let oldest = Number.POSITIVE_INFINITY;
    for (let i = base; i < end; i++) {
      const t = tags[i] as number;
      if (t === line) {
        stamps[i] = stamp;
        return -1;
      }
      const s = t < 0 ? -1 : (stamps[i] as number);
      if (s < oldest) {
        oldest = s;
        victim = i;
      }
    }
    const evicted = tags[victim] as number;
    tags[victim] = line;
    stamps[victim] = stamp;
    return evicted;
  }

  /** Drops `line` if present. */
  remove(line: number): void {
    const base = (line % this.sets) * this.ways;
    for (let i = base; i < base + this.ways; i++) {
      if (this.#tags[i] === line) {
        this.#tags[i] = -1;
        return;
      }
    }
  }
}
