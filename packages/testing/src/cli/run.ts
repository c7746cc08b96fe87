// dmabuf-conformance: load a plugin module, run the matching suites, report, set the exit code.

import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type KernelConfigInput, type PluginClass, pluginMetadata } from "@dmabuf/core";
import { describeError } from "../conformance/assert.js";
import type { SuiteReport } from "../conformance/case.js";
import {
  type ExporterConformanceOptions,
  prepareExporterSuite,
  resolveExporter,
} from "../conformance/exporter/suite.js";
import {
  type HeapConformanceOptions,
  prepareHeapSuite,
  resolveHeapTargets,
} from "../conformance/heap/suite.js";
import { conformanceReportHtml } from "../conformance/html-report.js";
import {
  type ImporterConformanceOptions,
  prepareImporterSuite,
} from "../conformance/importer/suite.js";
import { formatCaseLine, formatSuiteHeading, formatTotals, totals } from "../conformance/report.js";
import { type PreparedSuite, runSuite } from "../conformance/runner.js";

/** Exit status: every case passed or was skipped. */
export const EXIT_OK = 0;
/** Exit status: a case failed, or a plugin could not be booted. */
export const EXIT_FAILED = 1;
/** Exit status: bad arguments, a module that cannot be loaded, or nothing to certify. */
export const EXIT_USAGE = 2;

/** Where the CLI writes and resolves from (the process's, or a test's). */
export interface CliIo {
  /** Writes to standard output. */
  readonly stdout: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr: (text: string) => void;
  /** Directory relative module paths and package names resolve from. */
  readonly cwd: string;
}

/**
 * A suite a module asks to be run with, when the plugins' declarations are not enough (a CMA
 * heap needs a CMA area, an importer is not a plugin class): export an array of these as
 * `conformance` from the module.
 *
 * @example
 * ```ts
 * export const conformance: ConformanceTarget[] = [
 *   { suite: "heap", options: { plugin: CmaHeap, kernelConfig: { cma: { size: "32MiB" } } } },
 * ];
 * ```
 */
export type ConformanceTarget =
  | { readonly suite: "heap"; readonly options: HeapConformanceOptions }
  | { readonly suite: "exporter"; readonly options: ExporterConformanceOptions }
  | { readonly suite: "importer"; readonly options: ImporterConformanceOptions };

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
  /** One report per suite run. */
  readonly reports: readonly SuiteReport[];
}

/** The usage text. */
export const USAGE = `Usage: dmabuf-conformance [options] <module>

Loads <module> (a path to a built .js file, or a package name), finds the heap and exporter
plugins it exports (classes decorated with @heap / @exporter; exporters need a
create(size, flags) method), runs the heap suite on every heap and the exporter suite on
every exporter, prints one line per case and exits 0 when nothing failed, 1 when a case
failed, 2 on usage errors. A module can instead export \`conformance\`: an array of
{ suite: "heap" | "exporter" | "importer", options } to run.

Options:
  --json                  print one JSON report on stdout instead of progress
  --case <prefix>         run only the cases whose id starts with <prefix> (repeatable)
  --profile <6.18|6.1>    kernel version profile of the test kernels
  --kernel-config <json>  more createKernel options, e.g. '{"ram":"256MiB"}'
  --list                  list the case ids of the suites that would run, and exit
  --report <file.html>    also write an HTML report: a summary, one section per failed case
  -h, --help              show this text
`;

interface Args {
  module: string;
  json: boolean;
  list: boolean;
  cases: string[];
  kernelConfig: KernelConfigInput;
  report?: string;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args | "help" {
  const args: Args = { module: "", json: false, list: false, cases: [], kernelConfig: {} };
  const positional: string[] = [];
  let profile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "-h" || a === "--help") return "help";
    else if (a === "--json") args.json = true;
    else if (a === "--list") args.list = true;
    else if (a === "--case") args.cases.push(value());
    else if (a === "--report") args.report = value();
    else if (a === "--profile") profile = value();
    else if (a === "--kernel-config") {
      const text = value();
      try {
        args.kernelConfig = JSON.parse(text) as KernelConfigInput;
      } catch {
        throw new UsageError(`--kernel-config is not JSON: ${text}`);
      }
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new UsageError("give exactly one module");
  args.module = positional[0] as string;
  if (profile !== undefined) {
    if (profile !== "6.18" && profile !== "6.1") {
      throw new UsageError(`--profile must be 6.18 or 6.1, not ${profile}`);
    }
    args.kernelConfig = { ...args.kernelConfig, profile };
  }
  return args;
}

/** Resolves the module argument to an import specifier: a file URL, or the package name. */
function specifierOf(module: string, cwd: string): string {
  if (module.startsWith(".") || isAbsolute(module) || /\.[cm]?js$/.test(module)) {
    return pathToFileURL(resolve(cwd, module)).href;
  }
  try {
    return pathToFileURL(createRequire(resolve(cwd, "package.json")).resolve(module)).href;
  } catch {
    return module;
  }
}

type Job =
  | { readonly label: string; readonly prepare: () => PreparedSuite<unknown, unknown>[] }
  | { readonly label: string; readonly skip: string };

function jobsOf(target: ConformanceTarget, label: string): Job {
  switch (target.suite) {
    case "heap":
      return {
        label,
        prepare: () =>
          resolveHeapTargets(target.options).map(
            (t) => prepareHeapSuite(t, target.options) as PreparedSuite<unknown, unknown>,
          ),
      };
    case "exporter":
      return {
        label,
        prepare: () => [
          prepareExporterSuite(resolveExporter(target.options), target.options) as PreparedSuite<
            unknown,
            unknown
          >,
        ],
      };
    case "importer":
      return {
        label,
        prepare: () => [prepareImporterSuite(target.options) as PreparedSuite<unknown, unknown>],
      };
  }
}

/** Finds what to run in a module's exports. */
function discover(exports: Record<string, unknown>, kernelConfig: KernelConfigInput): Job[] {
  const declared = exports.conformance;
  if (declared !== undefined) {
    if (!Array.isArray(declared)) throw new UsageError("`conformance` must be an array");
    return (declared as ConformanceTarget[]).map((t, i) => {
      const merged = {
        ...t,
        options: { ...t.options, kernelConfig: { ...kernelConfig, ...t.options.kernelConfig } },
      } as ConformanceTarget;
      return jobsOf(merged, `conformance[${i}] (${t.suite})`);
    });
  }
  const jobs: Job[] = [];
  for (const [name, value] of Object.entries(exports).sort(([a], [b]) => a.localeCompare(b))) {
    const meta = pluginMetadata(value);
    if (!meta) continue;
    const plugin = value as PluginClass;
    if (meta.kind === "heap") {
      jobs.push(jobsOf({ suite: "heap", options: { plugin, kernelConfig } }, name));
    } else if (typeof (plugin.prototype as { create?: unknown }).create === "function") {
      const options = { plugin: plugin as ExporterConformanceOptions["plugin"], kernelConfig };
      jobs.push(jobsOf({ suite: "exporter", options }, name));
    } else {
      jobs.push({ label: name, skip: "an exporter without a create(size, flags) method" });
    }
  }
  return jobs;
}

/**
 * Runs the CLI. Never throws for bad input: returns the exit status.
 * @param argv - the arguments after the program name
 * @param io - where to write, and the directory to resolve the module from
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: Args | "help";
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.stderr(`dmabuf-conformance: ${(e as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args === "help") {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(specifierOf(args.module, io.cwd))) as Record<string, unknown>;
  } catch (e) {
    io.stderr(`dmabuf-conformance: cannot load ${args.module}: ${describeError(e)}\n`);
    return EXIT_USAGE;
  }
  let jobs: Job[];
  try {
    jobs = discover(exports, args.kernelConfig);
  } catch (e) {
    io.stderr(`dmabuf-conformance: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  const say = args.json ? () => {} : io.stdout;
  for (const job of jobs) {
    if ("skip" in job) io.stderr(`dmabuf-conformance: not certifying ${job.label}: ${job.skip}\n`);
  }
  const runnable = jobs.filter((j): j is Extract<Job, { prepare: unknown }> => "prepare" in j);
  if (runnable.length === 0) {
    io.stderr(`dmabuf-conformance: ${args.module} exports no heap or exporter plugin to certify\n`);
    return EXIT_USAGE;
  }
  const filter =
    args.cases.length > 0 ? (id: string) => args.cases.some((p) => id.startsWith(p)) : undefined;
  const reports: SuiteReport[] = [];
  const errors: { target: string; error: string }[] = [];
  for (const job of runnable) {
    let suites: PreparedSuite<unknown, unknown>[];
    try {
      suites = job.prepare();
    } catch (e) {
      errors.push({ target: job.label, error: describeError(e) });
      say(`✗ ${job.label}: cannot boot a kernel with it: ${describeError(e)}\n`);
      continue;
    }
    for (const suite of suites) {
      if (args.list) {
        say(
          `${formatSuiteHeading({ ...suite, suite: suite.kind, capabilities: suite.capabilities as Record<string, unknown> })}\n`,
        );
        for (const c of suite.cases) if (!filter || filter(c.id)) say(`  ${c.id}  ${c.title}\n`);
        continue;
      }
      say(
        `${formatSuiteHeading({ suite: suite.kind, target: suite.target, capabilities: suite.capabilities as Record<string, unknown> })}\n`,
      );
      const report = runSuite(suite, {
        ...(filter ? { filter } : {}),
        onResult: (r) => say(`${formatCaseLine(r)}\n`),
      });
      say(`  ${formatTotals(report)}\n\n`);
      reports.push(report);
    }
  }
  if (args.list) return errors.length > 0 ? EXIT_FAILED : EXIT_OK;
  if (args.report) writeReport(resolve(io.cwd, args.report), args.module, reports, errors, io);
  const t = totals(reports);
  const ok = t.failed === 0 && errors.length === 0;
  if (args.json) {
    const doc: CliJsonReport = { module: args.module, ok, ...t, errors, reports };
    io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const failed = reports.flatMap((r) =>
      r.results.filter((x) => x.status === "failed").map((x) => `${r.target}: ${x.id}`),
    );
    if (failed.length > 0) say(`Failed:\n${failed.map((f) => `  ${f}\n`).join("")}`);
    say(`${formatTotals(t)}${errors.length > 0 ? `, ${errors.length} not bootable` : ""}\n`);
  }
  return ok ? EXIT_OK : EXIT_FAILED;
}

function writeReport(
  path: string,
  module: string,
  reports: readonly SuiteReport[],
  errors: readonly { target: string; error: string }[],
  io: CliIo,
): void {
  try {
    writeFileSync(path, conformanceReportHtml(module, reports, errors));
  } catch (e) {
    io.stderr(`dmabuf-conformance: cannot write the report ${path}: ${describeError(e)}\n`);
  }
}
