// dmabuf-conformance: parse the command line, run the session, report, set the exit code.

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { CaseResult, SuiteKind, SuiteReport } from "../conformance/case.js";
import { formatCaseLine, formatSuiteHeading, formatTotals, totals } from "../conformance/report.js";
import {
  type CliArgs,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  parseArgs,
  USAGE,
  UsageError,
} from "./args.js";
import type { CasePosition, CliEvent } from "./events.js";

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE, USAGE } from "./args.js";
export type { ConformanceTarget } from "./target.js";

/** Where the CLI writes and resolves from (the process's, or a test's). */
export interface CliIo {
  /** Writes to standard output. */
  readonly stdout: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr: (text: string) => void;
  /** Directory relative module paths and package names resolve from. */
  readonly cwd: string;
  /**
   * `true` when the caller already runs under a TypeScript loader (tests under vitest):
   * TypeScript modules are imported as they are rather than through the tsx installed in
   * `cwd`. Default `false`. (The cases always run in this thread, each under the time limit.)
   */
  readonly typescriptLoader?: boolean;
}

/** One suite run as the JSON report gives it: the suite report and the kernel it booted. */
export interface CliSuiteReport extends SuiteReport {
  /** The kernel configuration of the run, in words (`kernel 6.18, ram 64MiB, 4KiB pages`). */
  readonly kernel: string;
}

/** The machine-readable report `--json` prints. */
export interface CliJsonReport {
  /** The module as given on the command line. */
  readonly module: string;
  /** True when no case failed and every target booted. */
  readonly ok: boolean;
  /** Passed cases over all suites. */
  readonly passed: number;
  /** Failed cases over all suites. */
  readonly failed: number;
  /** Skipped cases over all suites. */
  readonly skipped: number;
  /** Targets that could not be run (their kernel did not boot), with the error. */
  readonly errors: readonly { readonly target: string; readonly error: string }[];
  /**
   * What a plugin did to the process that could not be reported against its case: an error
   * thrown (or process.exit called) asynchronously after that case's result was reported, or
   * outside every case (loading the module, booting). `from` names the case (`target: id`) or
   * phase when known. Each makes the run fail.
   */
  readonly escapes: readonly {
    readonly code: "PROCESS_EXIT" | "ASYNC_ERROR";
    readonly message: string;
    readonly from?: string;
  }[];
  /** One report per suite run. */
  readonly reports: readonly CliSuiteReport[];
}

interface SuiteState {
  readonly kind: SuiteKind;
  readonly target: string;
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly kernel: string;
  readonly results: CaseResult[];
}

/** Collects a run's events into output and reports. */
class Collector {
  readonly suites = new Map<string, SuiteState>();
  readonly errors: { target: string; error: string }[] = [];
  readonly escapes: CliJsonReport["escapes"][number][] = [];
  readonly #reported = new Set<number>();
  readonly #notes = new Set<string>();
  usage: string | undefined;
  done = false;

  constructor(
    private readonly args: CliArgs,
    private readonly io: CliIo,
  ) {}

  say(text: string): void {
    if (!this.args.json) this.io.stdout(text);
  }

  on(e: CliEvent): void {
    switch (e.type) {
      case "usage":
        this.usage ??= e.message;
        return;
      case "note":
        if (this.#notes.has(e.message)) return;
        this.#notes.add(e.message);
        this.io.stderr(`dmabuf-conformance: ${e.message}\n`);
        return;
      case "boot-error":
        if (this.#reported.has(e.job)) return;
        this.#reported.add(e.job);
        this.errors.push({ target: e.target, error: e.error });
        this.say(`✗ ${e.target}: cannot boot a kernel with it: ${e.error}\n`);
        return;
      case "suite": {
        const key = `${e.job}/${e.suite}`;
        if (this.suites.has(key)) return;
        this.suites.set(key, { ...e, results: [] });
        this.say(
          `${formatSuiteHeading({ suite: e.kind, target: e.target, capabilities: e.capabilities })}\n`,
        );
        this.say(`  ${e.kernel}\n`);
        return;
      }
      case "list":
        this.say(`  ${e.id}  ${e.title}\n`);
        return;
      case "result":
        this.add(e.at, e.result);
        return;
      case "suite-end": {
        const s = this.suites.get(`${e.job}/${e.suite}`);
        if (s && !this.args.list) this.say(`  ${formatTotals(report(s))}\n\n`);
        else if (s) this.say("\n");
        return;
      }
      case "escape": {
        this.escapes.push({
          code: e.code,
          message: e.message,
          ...(e.from !== undefined ? { from: e.from } : {}),
        });
        this.say(`✗ ${e.from ?? "outside every case"} [${e.code}] ${e.message}\n`);
        return;
      }
      case "done":
        this.done = true;
        return;
    }
  }

  add(at: CasePosition, result: CaseResult): void {
    this.suites.get(`${at.job}/${at.suite}`)?.results.push(result);
    this.say(`${formatCaseLine(result)}\n`);
  }
}

function report(s: SuiteState): CliSuiteReport {
  return {
    suite: s.kind,
    target: s.target,
    capabilities: s.capabilities,
    kernel: s.kernel,
    results: s.results,
    passed: s.results.filter((r) => r.status === "passed").length,
    failed: s.results.filter((r) => r.status === "failed").length,
    skipped: s.results.filter((r) => r.status === "skipped").length,
  };
}

/**
 * Runs the CLI. Never throws for bad input: returns the exit status.
 * @param argv - the arguments after the program name
 * @param io - where to write, the directory to resolve the module from, how to isolate
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: CliArgs | "help";
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`dmabuf-conformance: ${e.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args === "help") {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const collector = new Collector(args, io);
  const { runSession } = await import("./session.js");
  const request = {
    module: args.module,
    cwd: io.cwd,
    cases: args.cases,
    list: args.list,
    kernelConfig: args.kernelConfig,
    timeoutMs: args.timeoutMs,
    viaTsx: io.typescriptLoader !== true,
  };
  await runSession(request, (e) => collector.on(e));
  if (collector.usage !== undefined) {
    io.stderr(`dmabuf-conformance: ${collector.usage}\n`);
    return EXIT_USAGE;
  }
  if (!collector.done) {
    io.stderr("dmabuf-conformance: the run ended early\n");
    return EXIT_FAILED;
  }
  const { errors, escapes } = collector;
  if (args.list) return errors.length > 0 ? EXIT_FAILED : EXIT_OK;
  const reports = [...collector.suites.values()].map(report);
  if (args.report)
    await writeReport(resolve(io.cwd, args.report), args.module, reports, errors, io);
  const t = totals(reports);
  const ok = t.failed === 0 && errors.length === 0 && escapes.length === 0;
  if (args.json) {
    const doc: CliJsonReport = { module: args.module, ok, ...t, errors, escapes, reports };
    io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const failed = reports.flatMap((r) =>
      r.results.filter((x) => x.status === "failed").map((x) => `${r.target}: ${x.id}`),
    );
    if (failed.length > 0) collector.say(`Failed:\n${failed.map((f) => `  ${f}\n`).join("")}`);
    collector.say(
      `${formatTotals(t)}${errors.length > 0 ? `, ${errors.length} not bootable` : ""}` +
        `${escapes.length > 0 ? `, ${escapes.length} outside their case` : ""}\n`,
    );
  }
  return ok ? EXIT_OK : EXIT_FAILED;
}

/** Writes the HTML report (loaded only when asked for: it renders with the core). */
async function writeReport(
  path: string,
  module: string,
  reports: readonly SuiteReport[],
  errors: readonly { target: string; error: string }[],
  io: CliIo,
): Promise<void> {
  try {
    const { conformanceReportHtml } = await import("../conformance/html-report.js");
    writeFileSync(path, conformanceReportHtml(module, reports, errors));
  } catch (e) {
    io.stderr(`dmabuf-conformance: cannot write the report ${path}: ${(e as Error).message}\n`);
  }
}
