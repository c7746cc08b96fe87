// What a CLI session reports as it runs, in order.

import type { CaseResult, SuiteKind } from "../conformance/case.js";
import type { EscapeCode } from "./containment.js";

/** Where a case is: job (target), suite of that job, case of that suite, all in run order. */
export interface CasePosition {
  /** Index of the target among what the module exports. */
  readonly job: number;
  /** Index of the suite among the target's suites (a probe-added heap plugin has several). */
  readonly suite: number;
  /** Index of the case in the suite's case list. */
  readonly case: number;
}

/** One thing a session reports, in order. */
export type CliEvent =
  | { readonly type: "usage"; readonly message: string }
  | { readonly type: "note"; readonly message: string }
  | {
      readonly type: "boot-error";
      readonly job: number;
      readonly target: string;
      readonly error: string;
    }
  | {
      readonly type: "suite";
      readonly job: number;
      readonly suite: number;
      readonly kind: SuiteKind;
      readonly target: string;
      readonly capabilities: Readonly<Record<string, unknown>>;
      /** The kernel configuration the suite's kernels boot with, in words. */
      readonly kernel: string;
    }
  | { readonly type: "list"; readonly id: string; readonly title: string }
  | { readonly type: "result"; readonly at: CasePosition; readonly result: CaseResult }
  | { readonly type: "suite-end"; readonly job: number; readonly suite: number }
  | {
      /** A plugin's process.exit or async error that could not be reported against its case. */
      readonly type: "escape";
      readonly code: EscapeCode;
      readonly message: string;
      /** The case (`target: id`) or phase it came from, when known. */
      readonly from?: string;
    }
  | { readonly type: "done" };

/** What a session needs to run. */
export interface SessionRequest {
  /** The module argument as given. */
  readonly module: string;
  /** The directory paths and package names resolve from. */
  readonly cwd: string;
  /** `--case` prefixes (empty: every case). */
  readonly cases: readonly string[];
  /** `--list`. */
  readonly list: boolean;
  /** `--kernel-config` (with `--profile`). */
  readonly kernelConfig: Readonly<Record<string, unknown>>;
  /** Per-case limit in milliseconds: a case still running then is stopped and fails. */
  readonly timeoutMs: number;
  /** Whether TypeScript modules load through the tsx installed in `cwd` (else as they are). */
  readonly viaTsx: boolean;
}
