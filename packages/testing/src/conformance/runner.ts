// The synchronous runner: runs a suite's cases without any test framework (the CLI uses it).

import { toFailure } from "./assert.js";
import type { CaseResult, ConformanceCase, SuiteKind, SuiteReport } from "./case.js";
import { KernelTracker } from "./tracker.js";

/**
 * A suite ready to run against one target: its cases, the target's capabilities and how to
 * make the context one case runs in.
 */
export interface PreparedSuite<Ctx, Caps> {
  /** Which suite. */
  readonly kind: SuiteKind;
  /** What is tested (a heap name, an exporter, an importer). */
  readonly target: string;
  /** The target's capabilities, which select the cases. */
  readonly capabilities: Caps;
  /** The cases, in order. */
  readonly cases: readonly ConformanceCase<Ctx, Caps>[];
  /** Case ids the user excluded, with the reason (reported as skipped). */
  readonly exclude: Readonly<Record<string, string>>;
  /** Makes a fresh context for one case; every kernel it boots is tracked by `tracker`. */
  context(tracker: KernelTracker): Ctx;
}

/** Options of {@link runSuite}. */
export interface RunOptions {
  /** Called after each case, in order (progress reporting). */
  readonly onResult?: (result: CaseResult) => void;
  /** Runs only the cases this returns true for (the others are left out of the report). */
  readonly filter?: (id: string) => boolean;
}

/** Why a case will not run against this target, or undefined when it will. */
export function skipReason<Ctx, Caps>(
  suite: PreparedSuite<Ctx, Caps>,
  c: ConformanceCase<Ctx, Caps>,
): string | undefined {
  return suite.exclude[c.id] ?? c.requires?.(suite.capabilities);
}

/**
 * Runs one case in a fresh context: the body, then the after-case checks (every process
 * exits; no leaks; no dma-buf WARN). Never throws: the outcome is in the result.
 */
export function executeCase<Ctx, Caps>(
  suite: PreparedSuite<Ctx, Caps>,
  c: ConformanceCase<Ctx, Caps>,
): CaseResult {
  const start = performance.now();
  const base = { id: c.id, title: c.title };
  const reason = skipReason(suite, c);
  if (reason !== undefined) return { ...base, status: "skipped", reason, durationMs: 0 };
  const tracker = new KernelTracker();
  try {
    c.run(suite.context(tracker));
    tracker.verify();
  } catch (e) {
    const f = toFailure(e);
    return {
      ...base,
      status: "failed",
      failure: {
        code: f.code,
        message: f.message,
        ...(f.errorCode !== undefined ? { errorCode: f.errorCode } : {}),
      },
      durationMs: performance.now() - start,
    };
  }
  return { ...base, status: "passed", durationMs: performance.now() - start };
}

/** Runs every case of a prepared suite in order and returns the report. */
export function runSuite<Ctx, Caps>(
  suite: PreparedSuite<Ctx, Caps>,
  options: RunOptions = {},
): SuiteReport {
  const results: CaseResult[] = [];
  for (const c of suite.cases) {
    if (options.filter && !options.filter(c.id)) continue;
    const r = executeCase(suite, c);
    results.push(r);
    options.onResult?.(r);
  }
  return {
    suite: suite.kind,
    target: suite.target,
    capabilities: suite.capabilities as Readonly<Record<string, unknown>>,
    results,
    passed: results.filter((r) => r.status === "passed").length,
    failed: results.filter((r) => r.status === "failed").length,
    skipped: results.filter((r) => r.status === "skipped").length,
  };
}

/** The ids of the failed cases of a report, in case order. */
export function failedCaseIds(report: SuiteReport): string[] {
  return report.results.filter((r) => r.status === "failed").map((r) => r.id);
}
