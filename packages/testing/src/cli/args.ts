// dmabuf-conformance's command line: the usage text, the exit statuses and argument parsing.

/** Exit status: every case passed or was skipped. */
export const EXIT_OK = 0;
/** Exit status: a case failed, or a plugin could not be booted. */
export const EXIT_FAILED = 1;
/** Exit status: bad arguments, a module that cannot be loaded, or nothing to certify. */
export const EXIT_USAGE = 2;

/** Per-case time limit when `--timeout` is not given, in milliseconds. */
export const DEFAULT_CASE_TIMEOUT_MS = 5000;

/** The usage text. */
export const USAGE = `Usage: dmabuf-conformance [options] <module>

Loads <module> (a path to a built .js file, or a package name installed in the current
directory's project), finds the heap, exporter and importer plugins it exports (classes
decorated with @heap / @exporter with a create(size, flags) method; importer classes with an
importFd method, constructed as new Importer(kernel), with the capabilities its class
declares as static \`capabilities\`), runs the matching suite on each, prints one line per
case and exits 0 when nothing failed, 1 when a case failed, 2 on usage errors. A module
can instead export \`conformance\` (type ConformanceTarget[] from @dmabuf/testing): an
array of { suite: "heap" | "exporter" | "importer", options } to run.

A TypeScript file (.ts) is loaded through tsx when the current project has it installed;
otherwise build it and pass the .js.

Options:
  --json                  print one JSON report on stdout instead of progress
  --case <prefix>         run only the cases whose id starts with <prefix> (repeatable);
                          a prefix that selects no case is a usage error
  --timeout <ms>          fail a case that runs longer than this (default ${DEFAULT_CASE_TIMEOUT_MS}) and
                          go on with the next one
  --profile <6.18|6.1>    kernel version profile of the test kernels
  --kernel-config <json>  more createKernel options, e.g. '{"ram":"256MiB"}'
  --list                  list the case ids of the suites that would run, and exit
  --report <file.html>    also write an HTML report: a summary, one section per failed case
  -h, --help              show this text
`;

/** The parsed command line. */
export interface CliArgs {
  /** The module argument as given. */
  module: string;
  /** `--json`. */
  json: boolean;
  /** `--list`. */
  list: boolean;
  /** `--case` prefixes. */
  cases: string[];
  /** `--timeout`, in milliseconds. */
  timeoutMs: number;
  /** `--kernel-config` with `--profile` applied (plain JSON data). */
  kernelConfig: Record<string, unknown>;
  /** `--report`: where to write the HTML report. */
  report?: string;
}

/** A command line the CLI cannot act on; the message says why. */
export class UsageError extends Error {}

/**
 * Parses the arguments after the program name.
 * @returns the arguments, or "help"
 * @throws UsageError for an unknown option, a missing or invalid value, or not one module.
 */
export function parseArgs(argv: readonly string[]): CliArgs | "help" {
  const args: CliArgs = {
    module: "",
    json: false,
    list: false,
    cases: [],
    timeoutMs: DEFAULT_CASE_TIMEOUT_MS,
    kernelConfig: {},
  };
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
    else if (a === "--timeout") {
      const text = value();
      const ms = Number(text);
      if (!/^\d+$/.test(text) || ms <= 0) {
        throw new UsageError(`--timeout takes a positive number of milliseconds, not ${text}`);
      }
      args.timeoutMs = ms;
    } else if (a === "--kernel-config") {
      const text = value();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UsageError(`--kernel-config is not JSON: ${text}`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new UsageError(`--kernel-config must be a JSON object, not ${text}`);
      }
      args.kernelConfig = parsed as Record<string, unknown>;
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
