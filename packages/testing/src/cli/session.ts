// One CLI session: load the module, find what to certify, run the selected cases, report events.

import {
  checkConfig,
  createKernel,
  type KernelConfigInput,
  kernelConfigSchema,
  type PluginClass,
  pluginMetadata,
} from "@dmabuf/core";
import { describeError } from "../conformance/assert.js";
import type { CaseResult } from "../conformance/case.js";
import {
  type ExporterConformanceOptions,
  prepareExporterSuite,
  resolveExporter,
} from "../conformance/exporter/suite.js";
import {
  DEFAULT_KERNEL_CONFIG,
  type HeapConformanceOptions,
  prepareHeapSuite,
  resolveHeapTargets,
} from "../conformance/heap/suite.js";
import type { ImporterCapabilities, ImporterUnderTest } from "../conformance/importer/context.js";
import {
  type ImporterConformanceOptions,
  prepareImporterSuite,
} from "../conformance/importer/suite.js";
import { executeCase, type PreparedSuite } from "../conformance/runner.js";
import { UsageError } from "./args.js";
import { nearCaseIds } from "./case-filter.js";
import { type CaseTag, Containment, type Escape } from "./containment.js";
import type { CliEvent, SessionRequest } from "./events.js";
import { registerTsx, specifierOf, TYPESCRIPT_FILE, typescriptHint } from "./resolve.js";
import type { ConformanceTarget } from "./target.js";
import { withinTimeLimit } from "./time-limit.js";

type AnySuite = PreparedSuite<unknown, unknown>;

interface Job {
  readonly label: string;
  /** The kernel configuration in words, for the suite headings. */
  readonly kernel: string;
  readonly prepare: () => AnySuite[];
}

/** A byte count in the largest binary unit that divides it. */
function bytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}

/**
 * The kernel configuration a suite boots with, in words: profile, RAM, page size and every
 * setting that differs from createKernel's defaults, e.g.
 * `kernel 6.1, ram 32MiB, 4KiB pages, cma 16MiB, plugins SystemHeap`.
 */
export function describeKernelConfig(input: KernelConfigInput, pluginConfig?: unknown): string {
  const parsed = kernelConfigSchema.safeParse(input);
  if (!parsed.success) return `kernel ${JSON.stringify(input)}`;
  const c = parsed.data;
  const parts = [`kernel ${c.profile}`, `ram ${bytes(c.ram)}`, `${bytes(c.pageSize)} pages`];
  if (c.cma.size !== undefined) parts.push(`cma ${bytes(c.cma.size)}`);
  for (const r of c.cma.regions) parts.push(`cma region ${r.name} ${bytes(r.size)}`);
  if (c.hugepages > 0) parts.push(`hugepages ${c.hugepages}`);
  if (c.moveNotify) parts.push("move-notify");
  if (c.heapNodeMode !== 0o600) parts.push(`heap nodes 0${c.heapNodeMode.toString(8)}`);
  if (c.sectionBytes !== undefined) parts.push(`sections ${bytes(c.sectionBytes)}`);
  if (!c.udmabuf.enabled) parts.push("no udmabuf");
  const names = c.plugins.map((p) => (typeof p === "function" ? p.name : p.plugin.name));
  if (names.length > 0) parts.push(`plugins ${names.join("+")}`);
  if (pluginConfig !== undefined) parts.push(`plugin config ${JSON.stringify(pluginConfig)}`);
  return parts.join(", ");
}

const FACTORY_KERNEL = "kernel from the module's factory";

function merged(config: KernelConfigInput | undefined): KernelConfigInput {
  return { ...DEFAULT_KERNEL_CONFIG, ...config };
}

function jobOf(target: ConformanceTarget, label: string): Job {
  switch (target.suite) {
    case "heap": {
      const o = target.options;
      return {
        label,
        kernel: o.factory ? FACTORY_KERNEL : describeKernelConfig(merged(o.kernelConfig), o.config),
        prepare: () => resolveHeapTargets(o).map((t) => prepareHeapSuite(t, o) as AnySuite),
      };
    }
    case "exporter": {
      const o = target.options;
      return {
        label,
        kernel: o.factory ? FACTORY_KERNEL : describeKernelConfig(merged(o.kernelConfig), o.config),
        prepare: () => [prepareExporterSuite(resolveExporter(o), o) as AnySuite],
      };
    }
    case "importer": {
      const o = target.options;
      return {
        label,
        kernel: describeKernelConfig(merged(o.kernelConfig)),
        prepare: () => [prepareImporterSuite(o) as AnySuite],
      };
    }
  }
}

/**
 * An exported importer class: constructed per case as `new Importer(kernel)`, with the
 * capabilities it declares as a static `capabilities` property.
 */
function importerJob(name: string, cls: ImporterClass, kernelConfig: KernelConfigInput): Job {
  const options: ImporterConformanceOptions = {
    name,
    importer: (k) => new cls(k),
    kernelConfig,
    ...(cls.capabilities ? { capabilities: cls.capabilities } : {}),
  };
  const job = jobOf({ suite: "importer", options }, name);
  return {
    ...job,
    prepare: () => {
      try {
        new cls(createKernel(merged(kernelConfig)));
      } catch (e) {
        throw new Error(
          `new ${name}(kernel) failed (${describeError(e)}); export \`conformance\` with ` +
            `{ suite: "importer", options: { name, importer: (kernel) => new ${name}(…) } } ` +
            "to say how it is constructed",
        );
      }
      return job.prepare();
    },
  };
}

/** An importer class, with what it declares it can do. */
type ImporterClass = (new (
  k: unknown,
) => ImporterUnderTest) & {
  readonly capabilities?: Partial<ImporterCapabilities>;
};

const isImporterClass = (v: unknown): v is ImporterClass =>
  typeof v === "function" &&
  typeof (v.prototype as { importFd?: unknown } | undefined)?.importFd === "function";

/** Finds what to run in a module's exports; notes go to `emit`. */
function discover(
  exports: Record<string, unknown>,
  kernelConfig: KernelConfigInput,
  emit: (e: CliEvent) => void,
): Job[] {
  const declared = exports.conformance;
  if (declared !== undefined) {
    if (!Array.isArray(declared)) throw new UsageError("`conformance` must be an array");
    return (declared as ConformanceTarget[]).map((t, i) => {
      const options = {
        ...t.options,
        kernelConfig: { ...kernelConfig, ...t.options.kernelConfig },
      };
      return jobOf({ ...t, options } as ConformanceTarget, `conformance[${i}] (${t.suite})`);
    });
  }
  const jobs: Job[] = [];
  const skipped: string[] = [];
  for (const [name, value] of Object.entries(exports).sort(([a], [b]) => a.localeCompare(b))) {
    const meta = pluginMetadata(value);
    if (!meta) {
      if (isImporterClass(value)) jobs.push(importerJob(name, value, kernelConfig));
      continue;
    }
    const plugin = value as PluginClass;
    if (meta.kind === "heap") {
      const options: HeapConformanceOptions = { plugin, kernelConfig };
      jobs.push(jobOf({ suite: "heap", options }, name));
    } else if (meta.kind === "device") {
      skipped.push(`${name} (a device: certify what imports through it as an importer)`);
    } else if (typeof (plugin.prototype as { create?: unknown }).create === "function") {
      const options: ExporterConformanceOptions = {
        plugin: plugin as ExporterConformanceOptions["plugin"],
        kernelConfig,
      };
      jobs.push(jobOf({ suite: "exporter", options }, name));
    } else {
      skipped.push(`${name} (an exporter without a create(size, flags) method)`);
    }
  }
  for (const s of skipped) emit({ type: "note", message: `not certifying ${s}` });
  return jobs;
}

/** Imports the module the way the session can: TypeScript through tsx unless the host loads it. */
async function load(req: SessionRequest): Promise<Record<string, unknown>> {
  const specifier = specifierOf(req.module, req.cwd);
  if (req.viaTsx && TYPESCRIPT_FILE.test(req.module) && !(await registerTsx(req.cwd))) {
    throw new UsageError(typescriptHint(req.module));
  }
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    if ((e as { code?: unknown }).code === "ERR_UNKNOWN_FILE_EXTENSION") {
      throw new UsageError(typescriptHint(req.module));
    }
    throw new UsageError(`cannot load ${req.module}: ${describeError(e)}`);
  }
}

/** Runs one case; one that has not returned after `timeoutMs` is stopped and fails. */
function runCase(suite: AnySuite, c: AnySuite["cases"][number], timeoutMs: number): CaseResult {
  const start = performance.now();
  const run = withinTimeLimit(timeoutMs, () => executeCase(suite, c));
  if (!run.timedOut) return run.value;
  return {
    id: c.id,
    title: c.title,
    status: "failed",
    failure: {
      code: "TIMEOUT",
      message: `the case did not finish within ${timeoutMs} ms (stopped; the run goes on)`,
    },
    durationMs: performance.now() - start,
  };
}

/**
 * A case's result with what its plugin did to the process during the case or right after it
 * returned: the first escape fails the case (its code wins over the case's own failure).
 */
function withEscapes(result: CaseResult, escapes: readonly Escape[]): CaseResult {
  const first = escapes[0];
  if (!first) return result;
  // The same call made for every allocation is said once, with a count.
  const counts = new Map<string, number>();
  for (const e of escapes) counts.set(e.message, (counts.get(e.message) ?? 0) + 1);
  const said = [...counts].map(([m, n]) => (n > 1 ? `${m} (${n} times)` : m));
  const [head = first.message, ...rest] = said;
  const also = [
    ...rest,
    ...(result.failure
      ? [`the case failed: [${result.failure.code}] ${result.failure.message}`]
      : []),
  ];
  return {
    id: result.id,
    title: result.title,
    status: "failed",
    failure: {
      code: first.code,
      message: also.length > 0 ? `${head}; also: ${also.join("; ")}` : head,
    },
    durationMs: result.durationMs,
  };
}

/** Reports the escapes that came too late for their case's result, or from no case. */
function emitLate(containment: Containment, emit: (e: CliEvent) => void): void {
  for (const { tag, what } of containment.takeLate()) {
    const message = tag?.reported ? `${what.message} (after the case was reported)` : what.message;
    emit({ type: "escape", code: what.code, message, ...(tag ? { from: tag.label } : {}) });
  }
}

/**
 * Runs a session: every event goes to `emit`, in order, ending with `done` (or `usage`).
 * Never throws. While it runs, the plugin's process.exit() and process.kill() of its own
 * process are refused and asynchronous errors are caught (see {@link Containment}).
 */
export async function runSession(req: SessionRequest, emit: (e: CliEvent) => void): Promise<void> {
  const containment = new Containment();
  containment.install();
  try {
    await session(req, emit, containment);
  } catch (e) {
    if (e instanceof UsageError) emit({ type: "usage", message: e.message });
    else emit({ type: "usage", message: describeError(e) });
  } finally {
    containment.uninstall();
  }
}

async function session(
  req: SessionRequest,
  emit: (e: CliEvent) => void,
  containment: Containment,
): Promise<void> {
  const kernelConfig = req.kernelConfig as KernelConfigInput;
  const checked = checkConfig(kernelConfigSchema, merged(kernelConfig));
  if (!checked.ok)
    throw new UsageError(`--kernel-config: ${checked.message.replaceAll("\n", "; ")}`);
  const exports = await containment.runOutsideCases({ label: "loading the module" }, () =>
    load(req),
  );
  const jobs = discover(exports, kernelConfig, emit);
  if (jobs.length === 0) {
    throw new UsageError(
      `${req.module} exports no heap, exporter or importer to certify: export a class ` +
        "decorated with @heap or @exporter, an importer class (with importFd), or a " +
        "`conformance` array of { suite, options } (type ConformanceTarget from @dmabuf/testing)",
    );
  }
  const prepared: (AnySuite[] | undefined)[] = jobs.map((job, i) => {
    try {
      const suites = containment.runOutsideCases({ label: `booting ${job.label}` }, job.prepare);
      if (suites.length > 0) return suites;
      // A heap plugin that adds no heap in this kernel (a CMA heap without a CMA area) would
      // otherwise pass having run nothing.
      emit({
        type: "boot-error",
        job: i,
        target: job.label,
        error:
          `it registers no heap in ${job.kernel}; export \`conformance\` with the ` +
          "kernelConfig (a CMA area, …) or plugin config it needs",
      });
      return undefined;
    } catch (e) {
      emit({ type: "boot-error", job: i, target: job.label, error: describeError(e) });
      return undefined;
    }
  });
  const filter =
    req.cases.length > 0 ? (id: string) => req.cases.some((p) => id.startsWith(p)) : undefined;
  if (filter) {
    const ids = prepared.flatMap((s) => s ?? []).flatMap((s) => s.cases.map((c) => c.id));
    const unmatched = req.cases.filter((p) => !ids.some((id) => id.startsWith(p)));
    if (unmatched.length > 0 && ids.length > 0) {
      const lines = unmatched.map((p) => {
        const near = nearCaseIds(p, ids);
        return `--case ${p} selects no case${near.length > 0 ? `; did you mean ${near.join(", ")}?` : ""}`;
      });
      throw new UsageError(`${lines.join("\n")}\n(--list shows every case id)`);
    }
  }
  for (let j = 0; j < jobs.length; j++) {
    const suites = prepared[j];
    if (!suites) continue;
    for (let s = 0; s < suites.length; s++) {
      const suite = suites[s] as AnySuite;
      emit({
        type: "suite",
        job: j,
        suite: s,
        kind: suite.kind,
        target: suite.target,
        capabilities: suite.capabilities as Readonly<Record<string, unknown>>,
        kernel: (jobs[j] as Job).kernel,
      });
      for (let i = 0; i < suite.cases.length; i++) {
        const c = suite.cases[i] as AnySuite["cases"][number];
        if (filter && !filter(c.id)) continue;
        if (req.list) {
          emit({ type: "list", id: c.id, title: c.title });
          continue;
        }
        const at = { job: j, suite: s, case: i };
        const tag: CaseTag = { label: `${suite.target}: ${c.id}` };
        const result = containment.run(tag, () => runCase(suite, c, req.timeoutMs));
        await containment.settle();
        emit({ type: "result", at, result: withEscapes(result, containment.close(tag)) });
        emitLate(containment, emit);
      }
      emit({ type: "suite-end", job: j, suite: s });
    }
  }
  await containment.settle();
  emitLate(containment, emit);
  emit({ type: "done" });
}
