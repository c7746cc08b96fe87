// The exporter suite: how each case gets a kernel and buffers, and the synchronous run.

import {
  createKernel,
  type DmaBuf,
  type Kernel,
  type KernelConfigInput,
  type PluginClass,
  pluginMetadata,
} from "@dmabuf/core";
import { O_RDWR } from "@dmabuf/core/uapi";
import { ConformanceFailure } from "../assert.js";
import { type ExporterCapabilities, resolveExporterCapabilities } from "../capabilities.js";
import type { SuiteReport } from "../case.js";
import { DEFAULT_KERNEL_CONFIG } from "../heap/suite.js";
import { type PreparedSuite, type RunOptions, runSuite } from "../runner.js";
import { createFdWith, type ExporterSession, ownedCreate } from "../session.js";
import type { KernelTracker } from "../tracker.js";
import { exporterCases } from "./cases.js";
import type { ExporterCase, ExporterCaseContext } from "./context.js";

/** The `plugins` list of a kernel configuration. */
type KernelPlugins = NonNullable<KernelConfigInput["plugins"]>;

/**
 * An exporter plugin the suite (and the CLI) can drive without knowing more about it: it
 * creates buffers the way {@link @dmabuf/core!index.PageExporter} does.
 */
export interface CreatingExporter {
  /**
   * Creates and exports a buffer of `size` bytes (a page multiple) with file flags `flags`;
   * the caller owns its one reference.
   */
  create(size: number, flags: number): DmaBuf;
}

/** A booted kernel with a way to create buffers from the exporter under test. */
export interface ExporterTarget {
  /** The kernel, freshly booted. */
  readonly kernel: Kernel;
  /** Creates a buffer; the caller owns its one reference. */
  create(size: number, flags: number): DmaBuf;
}

/**
 * What the exporter suite tests. Give **either** `plugin` (an `@exporter` class with a
 * `create(size, flags)` method, booted as `createKernel({ ram: "64MiB", ...kernelConfig,
 * plugins: [...kernelConfig.plugins, plugin] })` for every case) **or** `factory` (boots a
 * fresh kernel and says how to create buffers).
 *
 * @example
 * ```ts
 * describeExporterConformance({ plugin: PageExporter });
 * ```
 */
export interface ExporterConformanceOptions {
  /** Name shown in reports (default: the exporter's declared name). */
  readonly name?: string;
  /** The exporter plugin class. */
  readonly plugin?: PluginClass<CreatingExporter>;
  /** The plugin's configuration. */
  readonly config?: unknown;
  /** The rest of the kernel configuration for `plugin`. Default `{ ram: "64MiB" }`. */
  readonly kernelConfig?: KernelConfigInput;
  /** Boots a fresh kernel with the exporter; called for every case. */
  readonly factory?: () => ExporterTarget;
  /**
   * Capabilities; default read off the ops table of a first buffer (mmap, vmap, CPU access
   * from the ops present; not contiguous; no maximum).
   */
  readonly capabilities?: Partial<ExporterCapabilities>;
  /** Case ids not to run, each with the reason (reported as skipped). */
  readonly exclude?: Readonly<Record<string, string>>;
}

const factoryCases: readonly ExporterCase[] = [
  {
    id: "exporter.factory.fresh-kernel",
    title: "The factory returns a new kernel on every call",
    run(ctx) {
      const a = ctx.boot();
      const b = ctx.boot();
      if (a.kernel === b.kernel) {
        throw new ConformanceFailure("FACTORY", "the factory returned the same kernel twice");
      }
      if (a.kernel.dmaBuf.list().length + b.kernel.dmaBuf.list().length > 0) {
        throw new ConformanceFailure("FACTORY", "a fresh kernel already has buffers");
      }
    },
  },
  {
    id: "exporter.factory.isolated",
    title: "Kernels from the factory share no state: buffers, pages and inode numbers",
    run(ctx) {
      const a = ctx.boot();
      const b = ctx.boot();
      const ps = a.kernel.pageSize;
      const before = JSON.stringify(b.kernel.snapshot());
      const bufA = a.create(ps);
      const changed = JSON.stringify(b.kernel.snapshot()) !== before;
      const bufB = b.create(ps);
      const sameIno = bufA.ino === bufB.ino;
      a.kernel.dmaBuf.put(bufA);
      b.kernel.dmaBuf.put(bufB);
      if (changed) {
        throw new ConformanceFailure("FACTORY", "creating in one kernel changed another kernel");
      }
      if (!sameIno) {
        throw new ConformanceFailure("FACTORY", "inode numbers are shared between kernels");
      }
    },
  },
];

/** Every case of the exporter suite, in order: the factory cases, then the exporter cases. */
export const exporterConformanceCases: readonly ExporterCase[] = [
  ...factoryCases,
  ...exporterCases,
];

/** The exporter to test, resolved from the options. */
export interface ResolvedExporter {
  /** Name shown in reports. */
  readonly name: string;
  /** Capabilities. */
  readonly capabilities: ExporterCapabilities;
  /** Boots a fresh kernel with the exporter. */
  readonly boot: () => ExporterTarget;
}

/**
 * Resolves the options: boots a kernel and creates one buffer to read the exporter's ops.
 * @throws TypeError for options without exactly one of `plugin` and `factory`, or a plugin
 * that is not an exporter with a `create` method; whatever booting or creating throws.
 */
export function resolveExporter(options: ExporterConformanceOptions): ResolvedExporter {
  if (!options.plugin === !options.factory) {
    throw new TypeError("exporter conformance needs exactly one of `plugin` and `factory`");
  }
  let boot: () => ExporterTarget;
  let name = options.name;
  const plugin = options.plugin;
  if (plugin) {
    const meta = pluginMetadata(plugin);
    if (meta?.kind !== "exporter") {
      throw new TypeError(`${plugin.name} is not an exporter plugin (no @exporter decorator)`);
    }
    if (typeof (plugin.prototype as Partial<CreatingExporter>).create !== "function") {
      throw new TypeError(`${plugin.name} has no create(size, flags) method to make buffers with`);
    }
    name ??= meta.name;
    const base: KernelConfigInput = { ...DEFAULT_KERNEL_CONFIG, ...options.kernelConfig };
    const entry: KernelPlugins[number] =
      options.config === undefined ? plugin : { plugin, config: options.config };
    const plugins: KernelPlugins = [...(base.plugins ?? []), entry];
    boot = () => {
      const kernel = createKernel({ ...base, plugins });
      const instance = kernel.plugin(plugin);
      return { kernel, create: (size, flags) => instance.create(size, flags) };
    };
  } else {
    boot = options.factory as () => ExporterTarget;
  }
  const probe = boot();
  const sample = probe.create(probe.kernel.pageSize, O_RDWR);
  name ??= sample.expName;
  const capabilities = resolveExporterCapabilities(
    sample.ops,
    probe.kernel.profile.sysfsStats,
    options.capabilities,
  );
  probe.kernel.dmaBuf.put(sample);
  return { name, capabilities, boot };
}

function openExporterSession(target: ExporterTarget, name: string): ExporterSession {
  const { kernel } = target;
  const proc = kernel.spawn({ name: "conformance" });
  const create = ownedCreate(kernel, `exporter '${name}'`, (size: number, flags = O_RDWR) =>
    target.create(size, flags),
  );
  return { kernel, proc, create, createFd: createFdWith(kernel, create, proc) };
}

/** The exporter suite for a resolved exporter, ready for {@link runSuite} or vitest. */
export function prepareExporterSuite(
  exporter: ResolvedExporter,
  options: Pick<ExporterConformanceOptions, "exclude"> = {},
): PreparedSuite<ExporterCaseContext, ExporterCapabilities> {
  return {
    kind: "exporter",
    target: exporter.name,
    capabilities: exporter.capabilities,
    cases: exporterConformanceCases,
    exclude: options.exclude ?? {},
    context: (tracker: KernelTracker) => ({
      capabilities: exporter.capabilities,
      boot: () => {
        const target = exporter.boot();
        tracker.track(target.kernel);
        return openExporterSession(target, exporter.name);
      },
    }),
  };
}

/** Runs the exporter suite synchronously, without a test framework. */
export function runExporterConformance(
  options: ExporterConformanceOptions,
  run: RunOptions = {},
): SuiteReport {
  return runSuite(prepareExporterSuite(resolveExporter(options), options), run);
}
