// Benchmark timing: repeated rounds, median per-iteration cost, ratios against a baseline.

/** One measured case. */
export interface Measurement {
  /** Case name. */
  readonly name: string;
  /** Median nanoseconds per iteration. */
  readonly nsPerOp: number;
}

/**
 * Times `fn` in `rounds` rounds of `iterations` calls each (after one warm-up round) and
 * returns the median nanoseconds per call.
 */
export function measure(name: string, fn: () => void, iterations: number, rounds = 7): Measurement {
  for (let i = 0; i < iterations; i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  samples.sort((a, b) => a - b);
  return { name, nsPerOp: samples[Math.floor(samples.length / 2)] as number };
}

/** A result line: case, baseline, ratio, and whether the goal holds. */
export interface RatioLine {
  /** What was compared. */
  readonly name: string;
  /** Case cost ÷ baseline cost. */
  readonly ratio: number;
  /** The goal, e.g. "<= 1.5". */
  readonly goal: string;
  /** Whether the ratio meets the goal. */
  readonly ok: boolean;
}

/** Formats ratio lines as a table. */
export function formatRatios(lines: readonly RatioLine[]): string {
  return lines
    .map(
      (l) =>
        `${l.name.padEnd(58)} ${l.ratio.toFixed(3).padStart(8)}x   goal ${l.goal.padEnd(7)} ${l.ok ? "ok" : "MISSED"}`,
    )
    .join("\n");
}
