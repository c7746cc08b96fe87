// Reports for people and machines: per-case lines, summaries and the JSON document.

import type { CaseResult, SuiteReport } from "./case.js";

/** The one-line progress mark of a case result: `✓ id`, `✗ id [CODE]`, `- id (skipped: …)`. */
export function formatCaseLine(r: CaseResult): string {
  if (r.status === "passed") return `  ✓ ${r.id} (${Math.round(r.durationMs)} ms)`;
  if (r.status === "skipped") return `  - ${r.id} (skipped: ${r.reason})`;
  const f = r.failure;
  const tag = f?.errorCode ? `${f.code} ${f.errorCode}` : (f?.code ?? "FAILED");
  return `  ✗ ${r.id} [${tag}]\n      ${r.title}\n      ${f?.message ?? ""}`;
}

/**
 * A suite's heading: its kind, target and the capabilities that selected its cases (the
 * default memory type, `cpuCaching=cached`, is left out).
 */
export function formatSuiteHeading(
  report: Pick<SuiteReport, "suite" | "target" | "capabilities">,
): string {
  const caps = Object.entries(report.capabilities)
    .filter(([k, v]) => v !== undefined && v !== false && !(k === "cpuCaching" && v === "cached"))
    .map(([k, v]) => (v === true ? k : `${k}=${typeof v === "number" ? bytes(v) : String(v)}`));
  return `${report.suite} conformance: ${report.target}${caps.length ? ` (${caps.join(", ")})` : ""}`;
}

/** A byte count in the largest binary unit that divides it: `4MiB`, `12KiB`, `4095`. */
function bytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

/** Totals over several reports. */
export interface Totals {
  /** Passed cases. */
  readonly passed: number;
  /** Failed cases. */
  readonly failed: number;
  /** Skipped cases. */
  readonly skipped: number;
}

/** Sums the counts of several reports. */
export function totals(reports: readonly SuiteReport[]): Totals {
  return reports.reduce(
    (t, r) => ({
      passed: t.passed + r.passed,
      failed: t.failed + r.failed,
      skipped: t.skipped + r.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}

/** `N passed, N failed, N skipped`. */
export function formatTotals(t: Totals): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

/** A whole report as text: heading, one line per case, and the suite's totals. */
export function formatReport(report: SuiteReport): string {
  return [
    formatSuiteHeading(report),
    ...report.results.map(formatCaseLine),
    `  ${formatTotals(report)}`,
  ].join("\n");
}
