// printk_ratelimited, on the kernel's virtual clock: at most a burst of messages per interval.

import type { Kernel, LogLevel } from "@dmabuf/core";

/** DEFAULT_RATELIMIT_INTERVAL: 5 seconds, in nanoseconds of virtual time. */
export const RATELIMIT_INTERVAL_NS = 5e9;
/** DEFAULT_RATELIMIT_BURST: messages allowed per interval. */
export const RATELIMIT_BURST = 10;

/**
 * One rate-limit state (`struct ratelimit_state`): up to {@link RATELIMIT_BURST} messages per
 * {@link RATELIMIT_INTERVAL_NS}; the rest are dropped and counted, and the first message of a
 * later interval is preceded by a "<name>: N callbacks suppressed" line.
 */
export class RateLimitedLog {
  #begin = Number.NEGATIVE_INFINITY;
  #printed = 0;
  #missed = 0;

  /**
   * @param kernel - the kernel whose log and clock are used
   * @param name - the caller's name, used in the suppression notice
   */
  constructor(
    private readonly kernel: Pick<Kernel, "log" | "clock">,
    readonly name: string,
  ) {}

  /** Logs `text` at `level` unless the burst of the current interval is used up. */
  log(level: LogLevel, text: string): boolean {
    const now = this.kernel.clock.now;
    if (now - this.#begin >= RATELIMIT_INTERVAL_NS) {
      if (this.#missed > 0) {
        this.kernel.log.log("warn", `${this.name}: ${this.#missed} callbacks suppressed`);
      }
      this.#begin = now;
      this.#printed = 0;
      this.#missed = 0;
    }
    if (this.#printed >= RATELIMIT_BURST) {
      this.#missed++;
      return false;
    }
    this.#printed++;
    this.kernel.log.log(level, text);
    return true;
  }
}
