// The bench table: every figure as its cost over a baseline's, measured in interleaved rounds.

/** One side of a row: runs one round and returns its cost (in the row's unit). */
export type Side = () => number | Promise<number>;

/** The two sides of a prepared row. */
export interface Sides {
  /** One round of the measured case. */
  readonly ours: Side;
  /** One round of the baseline, in the same unit. */
  readonly base: Side;
  /** Frees what `prepare` made (kernels, buffers); called after the last round. */
  readonly done?: () => void;
  /** A remark for the table, read after the last round. */
  readonly note?: () => string;
}

/**
 * A row of the table: a tracked figure against its baseline. The ratio is always ours ÷
 * baseline (how many times the baseline's cost), so lower is better, and the goal is the
 * highest ratio that holds.
 */
export interface Row {
  /** What is measured. */
  readonly name: string;
  /** What it is compared with. */
  readonly baseline: string;
  /** Unit of both sides' costs, for the table. */
  readonly unit: string;
  /** Highest ratio that meets the goal; null for a figure shown for information. */
  readonly goal: number | null;
  /** Counted rounds, ours and baseline alternating (default 7). */
  readonly rounds?: number;
  /** Whether one uncounted round of each side runs first (default true). */
  readonly warmup?: boolean;
  /** Builds the row's state; runs once the rows before it are done. */
  prepare(): Sides | Promise<Sides>;
}

/** A measured row. */
export interface RowResult {
  readonly row: Row;
  /** Median cost of our side. */
  readonly ours: number;
  /** Median cost of the baseline. */
  readonly base: number;
  /** Median of the per-round ratios. */
  readonly ratio: number;
  /** Smallest and largest per-round ratio. */
  readonly spread: readonly [number, number];
  /** Whether the goal holds (true for information rows). */
  readonly holds: boolean;
  /** The row's remark, if any. */
  readonly note: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Runs one row: rounds alternate ours, baseline, ours, … and each pair gives a ratio. */
export async function runRow(row: Row): Promise<RowResult> {
  const sides = await row.prepare();
  try {
    if (row.warmup !== false) {
      await sides.ours();
      await sides.base();
    }
    const ours: number[] = [];
    const base: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < (row.rounds ?? 7); r++) {
      const o = await sides.ours();
      const b = await sides.base();
      ours.push(o);
      base.push(b);
      ratios.push(o / b);
    }
    const ratio = median(ratios);
    return {
      row,
      ours: median(ours),
      base: median(base),
      ratio,
      spread: [Math.min(...ratios), Math.max(...ratios)],
      holds: row.goal === null || ratio <= row.goal,
      note: sides.note?.() ?? "",
    };
  } finally {
    sides.done?.();
  }
}

/** Runs rows one after another, telling `progress` of each result. */
export async function runRows(
  rows: readonly Row[],
  progress: (r: RowResult) => void = () => {},
): Promise<RowResult[]> {
  const out: RowResult[] = [];
  for (const row of rows) {
    const r = await runRow(row);
    progress(r);
    out.push(r);
  }
  return out;
}

function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

/** Formats results as one plain-text table. */
export function formatTable(results: readonly RowResult[]): string {
  const head = ["figure", "baseline", "ours", "baseline", "ratio", "spread", "goal", "holds"];
  const rows = results.map((r) => [
    r.row.name + (r.note ? ` (${r.note})` : ""),
    r.row.baseline,
    `${num(r.ours)} ${r.row.unit}`,
    `${num(r.base)} ${r.row.unit}`,
    `${num(r.ratio)}x`,
    `${num(r.spread[0])}–${num(r.spread[1])}`,
    r.row.goal === null ? "info" : `<= ${num(r.row.goal)}`,
    r.row.goal === null ? "" : r.holds ? "yes" : "NO",
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i >= 2 && i <= 5 ? c.padStart(width[i] as number) : c.padEnd(width[i] as number),
      )
      .join("  ")
      .trimEnd();
  return [line(head), line(width.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Nanoseconds per call of `fn`, called until at least `ms` milliseconds have passed. */
export function nsPerOpFor(fn: () => void, ms: number): number {
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(ms * 1e6));
  let n = 0;
  let t = t0;
  do {
    fn();
    n++;
    t = process.hrtime.bigint();
  } while (t < until);
  return Number(t - t0) / n;
}

/** Nanoseconds per call of `fn` over `n` calls. */
export function nsPerOp(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

let lcgState = 1;

/**
 * The plain-JS yardstick: 2,000 steps of a 32-bit linear congruential generator, as one
 * operation.
 */
export function lcgOp(): void {
  let x = lcgState;
  for (let i = 0; i < 2000; i++) x = (x * 1103515245 + 12345) | 0;
  lcgState = x;
}
