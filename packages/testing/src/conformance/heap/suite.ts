// The heap suite: which heaps to test, how each case gets its kernels, and the synchronous run.

import {
  allocFromHeap,
  createKernel,
  type HeapCapabilities,
  type HeapMetadata,
  type Kernel,
  type KernelConfigInput,
  type PluginClass,
  pluginMetadata,
} from "@dmabuf/core";
import { O_RDWR } from "@dmabuf/core/uapi";
import { ConformanceFailure } from "../assert.js";
import { type HeapSuiteCapabilities, resolveHeapCapabilities } from "../capabilities.js";
import type { SuiteReport } from "../case.js";
import { exporterCases } from "../exporter/cases.js";
import { type PreparedSuite, type RunOptions, runSuite } from "../runner.js";
import { createFdWith, type HeapSession, ownedCreate } from "../session.js";
import type { KernelTracker } from "../tracker.js";
import { heapCases } from "./cases.js";
import type { HeapCase, HeapCaseContext } from "./context.js";

/** The `plugins` list of a kernel configuration. */
type KernelPlugins = NonNullable<KernelConfigInput["plugins"]>;

/**
 * What the heap suite tests and how it boots kernels. Give **either** `plugin` (the suite
 * boots `createKernel({ ram: "64MiB", ...kernelConfig, plugins: [...kernelConfig.plugins,
 * { plugin, config }] })` for every case) **or** `factory` (a function returning a freshly
 * booted kernel with the heap registered; the suite's first cases check that it is fresh and
 * isolated on every call).
 *
 * @example
 * ```ts
 * describeHeapConformance({ plugin: AcmeHeap });
 * describeHeapConformance({
 *   factory: () => createKernel({ ram: "256MiB", cma: { size: "64MiB" }, plugins: [CmaHeap] }),
 *   heapName: "default_cma_region",
 * });
 * ```
 */
export interface HeapConformanceOptions {
  /** The heap plugin class (decorated with `@heap`). */
  readonly plugin?: PluginClass;
  /** The plugin's configuration (validated against its `configSchema`). */
  readonly config?: unknown;
  /**
   * The rest of the kernel configuration for `plugin` (RAM, profile, CMA areas, other
   * plugins). Default `{ ram: "64MiB" }`.
   */
  readonly kernelConfig?: KernelConfigInput;
  /** Boots a fresh kernel with the heap registered; called for every case. */
  readonly factory?: () => Kernel;
  /**
   * The heap to test. Default: the name the plugin declares; for a plugin that adds its heaps
   * from `probe` (or a factory) every heap it registers is tested, one suite each.
   */
  readonly heapName?: string;
  /** Overrides of the capabilities the heap registered with. */
  readonly capabilities?: HeapCapabilities;
  /** Case ids not to run, each with the reason (reported as skipped). */
  readonly exclude?: Readonly<Record<string, string>>;
}

/** Kernel configuration the suite applies under `kernelConfig`. */
export const DEFAULT_KERNEL_CONFIG: KernelConfigInput = { ram: "64MiB" };

/** One heap to run the suite against. */
export interface HeapTarget {
  /** The heap's name. */
  readonly heapName: string;
  /** Its capabilities (declared, defaults applied, overrides applied). */
  readonly capabilities: HeapSuiteCapabilities;
  /** Boots a fresh kernel with the heap. */
  readonly boot: () => Kernel;
}

/**
 * Every case of the heap suite, in order: the heap cases (factory, naming, ALLOC ioctl,
 * allocation, observability, leaks), then the exporter cases run through the heap.
 */
export const heapConformanceCases: readonly HeapCase[] = [...heapCases, ...exporterCases];

function pluginBoot(options: HeapConformanceOptions, withPlugin: boolean): () => Kernel {
  const base: KernelConfigInput = { ...DEFAULT_KERNEL_CONFIG, ...options.kernelConfig };
  const plugins: KernelPlugins = [...(base.plugins ?? [])];
  if (withPlugin && options.plugin) {
    plugins.push(
      options.config === undefined
        ? options.plugin
        : { plugin: options.plugin, config: options.config },
    );
  }
  return () => createKernel({ ...base, plugins });
}

/**
 * Resolves the options into the heaps to test: boots a kernel to read each heap's registered
 * capabilities (and, for a plugin that registers heaps from `probe`, which heaps it adds).
 * @throws TypeError for options that name no heap plugin or factory, or a heap that does not
 * exist; whatever booting the kernel throws (e.g. a KernelError from plugin registration).
 */
export function resolveHeapTargets(options: HeapConformanceOptions): HeapTarget[] {
  if (!options.plugin === !options.factory) {
    throw new TypeError("heap conformance needs exactly one of `plugin` and `factory`");
  }
  if (options.plugin && pluginMetadata(options.plugin)?.kind !== "heap") {
    throw new TypeError(`${options.plugin.name} is not a heap plugin (no @heap decorator)`);
  }
  const boot = options.plugin ? pluginBoot(options, true) : (options.factory as () => Kernel);
  const probe = boot();
  const registered = probe.heaps.list().map((h) => h.name);
  let names: string[];
  if (options.heapName !== undefined) names = [options.heapName];
  else if (!options.plugin) names = registered;
  else {
    const meta = pluginMetadata(options.plugin) as HeapMetadata;
    if (meta.name !== undefined) names = [meta.name];
    else {
      const others = new Set(
        pluginBoot(options, false)()
          .heaps.list()
          .map((h) => h.name),
      );
      names = registered.filter((n) => !others.has(n));
    }
  }
  return names.map((heapName) => {
    const heap = probe.heaps.find(heapName);
    if (!heap) throw new TypeError(`no heap named ${heapName} is registered`);
    const declared = { ...heap.capabilities, ...options.capabilities };
    return {
      heapName,
      capabilities: resolveHeapCapabilities(declared, probe.profile.sysfsStats),
      boot,
    };
  });
}

/** Boots a kernel for one case: the heap, a process "conformance" and the heap opened in it. */
function openHeapSession(kernel: Kernel, heapName: string): HeapSession {
  const heap = kernel.heaps.find(heapName);
  if (!heap)
    throw new ConformanceFailure("FACTORY", `the factory's kernel has no heap ${heapName}`);
  const proc = kernel.spawn({ name: "conformance" });
  const heapFd = proc.open(`/dev/dma_heap/${heapName}`, O_RDWR);
  const create = ownedCreate(kernel, `heap '${heapName}'`, (size: number, flags = O_RDWR) =>
    kernel.runAs(proc, () => heap.ops.allocate(heap, size, flags, 0n)),
  );
  return {
    kernel,
    proc,
    heap,
    heapName,
    heapFd,
    create,
    createFd: createFdWith(kernel, create, proc),
    alloc: (len, opts) => allocFromHeap(proc, heapFd, len, opts),
  };
}

/** The heap suite for one target, ready for {@link runSuite} or the vitest wrapper. */
export function prepareHeapSuite(
  target: HeapTarget,
  options: Pick<HeapConformanceOptions, "exclude"> = {},
): PreparedSuite<HeapCaseContext, HeapSuiteCapabilities> {
  return {
    kind: "heap",
    target: target.heapName,
    capabilities: target.capabilities,
    cases: heapConformanceCases,
    exclude: options.exclude ?? {},
    context: (tracker: KernelTracker) => ({
      capabilities: target.capabilities,
      heapName: target.heapName,
      boot: () => openHeapSession(tracker.track(target.boot()), target.heapName),
    }),
  };
}

/**
 * Runs the heap suite synchronously, without a test framework, against every heap the
 * options name.
 * @returns one report per heap
 */
export function runHeapConformance(
  options: HeapConformanceOptions,
  run: RunOptions = {},
): SuiteReport[] {
  return resolveHeapTargets(options).map((t) => runSuite(prepareHeapSuite(t, options), run));
}
