// Deterministic virtual time: a clock and an event queue that waits run forward.

/** A scheduled event. */
interface TimedEvent {
  at: number;
  seq: number;
  run: () => void;
}

/**
 * The kernel's virtual clock (nanoseconds since boot). Nothing in the model reads host time:
 * devices complete work as events on this clock, and a blocking call runs the queue forward
 * until its condition holds or its virtual timeout expires. Same inputs, same trace.
 */
export class SimClock {
  #now = 0;
  #seq = 0;
  readonly #queue: TimedEvent[] = [];

  /** Virtual nanoseconds since boot. */
  get now(): number {
    return this.#now;
  }

  /** Number of events waiting to run. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Runs `fn` when the clock reaches `now + delayNs`. Events at the same instant run in the
   * order they were scheduled.
   */
  schedule(delayNs: number, fn: () => void): void {
    if (!(delayNs >= 0)) throw new RangeError("delay must be >= 0");
    const ev = { at: this.#now + delayNs, seq: this.#seq++, run: fn };
    let i = this.#queue.length;
    while (i > 0) {
      const prev = this.#queue[i - 1] as TimedEvent;
      if (prev.at < ev.at || (prev.at === ev.at && prev.seq < ev.seq)) break;
      i--;
    }
    this.#queue.splice(i, 0, ev);
  }

  /** Runs every event due at or before `now + ns`, then sets the clock there. */
  advance(ns: number): void {
    this.runUntil(() => false, this.#now + ns);
  }

  /**
   * Runs events in order until `done()` holds (checked before each event) or the next event
   * lies beyond `deadline` (absolute ns; `Infinity` for none). When `done()` never holds the
   * clock ends at `deadline` (or at the last event if the deadline is infinite).
   * @returns whether `done()` held
   */
  runUntil(done: () => boolean, deadline: number): boolean {
    for (;;) {
      if (done()) return true;
      const next = this.#queue[0];
      if (!next || next.at > deadline) {
        if (Number.isFinite(deadline) && deadline > this.#now) this.#now = deadline;
        return done();
      }
      this.#queue.shift();
      this.#now = Math.max(this.#now, next.at);
      next.run();
    }
  }
}
