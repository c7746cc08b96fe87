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
    const ways = this.ways;
    const base = (line % this.sets) * ways;
    const tags = this.#tags;
    const stamps = this.#stamps;
    let victim = base;
    let oldest = Number.POSITIVE_INFINITY;
    for (let i = base; i < base + ways; i++) {
      const t = tags[i] as number;
      if (t === line) {
        stamps[i] = ++this.#clock;
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
    stamps[victim] = ++this.#clock;
    return evicted;
  }

  /**
   * Completes a touch of every line of `[l0, l1)` in ascending order, once its first
   * `sets × ways` lines have been touched one by one: each later line misses and evicts the line
   * `sets × ways` before it (by then its set holds only lines of the run, and that one is the
   * least recently used), so the cache ends up holding the last line of each residue class and
   * the lines evicted are exactly `[l0, l1 - sets × ways)`. Costs O(sets × ways), not O(lines).
   */
  finishRun(l0: number, l1: number): void {
    const cap = this.sets * this.ways;
    const tags = this.#tags;
    const stamps = this.#stamps;
    const clock = this.#clock;
    for (let i = 0; i < tags.length; i++) {
      const t = tags[i] as number;
      if (t < l0 || t >= l0 + cap) continue;
      const last = t + Math.floor((l1 - 1 - t) / cap) * cap;
      if (last === t) continue;
      tags[i] = last;
      stamps[i] = clock + (last - (l0 + cap)) + 1;
    }
    this.#clock = clock + Math.max(0, l1 - l0 - cap);
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
