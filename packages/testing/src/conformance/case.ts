// A conformance case as plain data, and the results and reports running cases produces.

/**
 * Stable codes of a failed case. Tools and tests assert these (and the case id), never the
 * message.
 *
 * - `EXPECTATION_FAILED`: a property the rule requires did not hold.
 * - `WRONG_ERROR`: a call failed as it must, but with another code than Linux gives.
 * - `MISSING_ERROR`: a call that must fail succeeded.
 * - `UNEXPECTED_ERROR`: a call that must succeed threw; `errorCode` is the thrown code
 *   (an errno such as `ENOMEM`, or a bug code such as `BUDDY_DOUBLE_FREE`).
 * - `LEAK`: after every process exited, the kernel was not back to its boot state.
 * - `KERNEL_WARNING`: the dma-buf core logged a WARN, DMA-API debugging reported misuse, or
 *   a cache model's coherency checker found a missing sync (a contract broken on the way).
 * - `FACTORY`: the suite's factory did not return fresh, isolated kernels.
 * - `TIMEOUT`: the case ran longer than the runner's per-case limit (the CLI stops a case
 *   that never returns and goes on with the next).
 * - `PROCESS_EXIT`: the plugin called `process.exit()` (or signalled its own process) during
 *   the case; the CLI refuses the call (it throws into the plugin) and goes on.
 * - `ASYNC_ERROR`: a timer, callback or promise the plugin started in the case threw after
 *   the case returned (the CLI catches it and goes on).
 */
export const FAILURE_CODES = [
  "EXPECTATION_FAILED",
  "WRONG_ERROR",
  "MISSING_ERROR",
  "UNEXPECTED_ERROR",
  "LEAK",
  "KERNEL_WARNING",
  "FACTORY",
  "TIMEOUT",
  "PROCESS_EXIT",
  "ASYNC_ERROR",
] as const;

/** A stable failure code; see {@link FAILURE_CODES}. */
export type FailureCode = (typeof FAILURE_CODES)[number];

/**
 * One rule of a conformance suite, as plain data: an id, a title, the capabilities it needs
 * and a synchronous body that throws a {@link ConformanceFailure} when the rule is broken.
 *
 * @typeParam Ctx - what the body receives (a way to boot fresh kernels, capabilities)
 * @typeParam Caps - the capabilities `requires` reads
 */
export interface ConformanceCase<Ctx, Caps> {
  /** Stable, dotted id, e.g. `"heap.alloc.zeroed-after-reuse"`. Reports and tests use it. */
  readonly id: string;
  /** One line saying what the rule is. */
  readonly title: string;
  /** Where the rule comes from (a section of the kernel behaviour it models). */
  readonly spec?: string;
  /**
   * Returns why the case cannot run for a plugin with these capabilities (it is then reported
   * as skipped with that reason), or `undefined` when it can.
   */
  readonly requires?: (caps: Caps) => string | undefined;
  /** Runs the case; throws {@link ConformanceFailure} (or any error) when the rule is broken. */
  run(ctx: Ctx): void;
}

/** How a case ended. */
export type CaseStatus = "passed" | "failed" | "skipped";

/** Why a case failed. */
export interface CaseFailure {
  /** Stable code. */
  readonly code: FailureCode;
  /** Human-readable detail; may change between releases. */
  readonly message: string;
  /** For `UNEXPECTED_ERROR` and `WRONG_ERROR`: the code of the error the plugin produced. */
  readonly errorCode?: string;
}

/** The outcome of one case. */
export interface CaseResult {
  /** The case id. */
  readonly id: string;
  /** The case title. */
  readonly title: string;
  /** How it ended. */
  readonly status: CaseStatus;
  /** For skipped cases: why. */
  readonly reason?: string;
  /** For failed cases: why. */
  readonly failure?: CaseFailure;
  /** Host time the case took, in milliseconds (informational only). */
  readonly durationMs: number;
}

/** Which suite a report comes from. */
export type SuiteKind = "heap" | "exporter" | "importer";

/** The results of one suite run against one target (a heap, an exporter, an importer). */
export interface SuiteReport {
  /** The suite. */
  readonly suite: SuiteKind;
  /** What was tested, e.g. the heap's name. */
  readonly target: string;
  /** The capabilities the cases were selected by. */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /** One result per case, in case order. */
  readonly results: readonly CaseResult[];
  /** Number of passed cases. */
  readonly passed: number;
  /** Number of failed cases. */
  readonly failed: number;
  /** Number of skipped cases. */
  readonly skipped: number;
}
