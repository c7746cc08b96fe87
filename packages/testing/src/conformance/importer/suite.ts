// The importer suite: kernels with the page exporter and the system heap, and the importer.

import { allocFromHeap, createKernel, type Kernel, type KernelConfigInput } from "@dmabuf/core";
import { O_RDWR } from "@dmabuf/core/uapi";
import { SystemHeap } from "@dmabuf/heaps-system";
import { ConformanceFailure } from "../assert.js";
import { checkingCache } from "../cache-check.js";
import type { SuiteReport } from "../case.js";
import { DEFAULT_KERNEL_CONFIG } from "../heap/suite.js";
import { type PreparedSuite, type RunOptions, runSuite } from "../runner.js";
import type { KernelTracker } from "../tracker.js";
import { importerCases } from "./cases.js";
import type {
  BufferSource,
  ImporterCapabilities,
  ImporterCase,
  ImporterCaseContext,
  ImporterSession,
  ImporterUnderTest,
} from "./context.js";
import { PinnablePageExporter } from "./pinnable-exporter.js";
import { TracedPageExporter } from "./traced-exporter.js";

/** The `plugins` list of a kernel configuration. */
type KernelPlugins = NonNullable<KernelConfigInput["plugins"]>;

/**
 * What the importer suite tests. Every case boots `createKernel({ ram: "64MiB",
 * ...kernelConfig, plugins: [...kernelConfig.plugins, TracedPageExporter, SystemHeap,
 * PinnablePageExporter] })`, creates the importer in it with `importer(kernel)`, and imports
 * buffers of the first two exporters (the dynamic cases also of the pinnable one).
 *
 * @example
 * ```ts
 * describeImporterConformance({
 *   name: "my-importer",
 *   importer: (kernel) => new MyImporterAdapter(kernel),
 * });
 * ```
 */
export interface ImporterConformanceOptions {
  /** Name shown in reports. */
  readonly name: string;
  /** Creates the importer under test in a freshly booted kernel. */
  readonly importer: (kernel: Kernel) => ImporterUnderTest;
  /** The rest of the kernel configuration (other plugins the importer needs, the profile). */
  readonly kernelConfig?: KernelConfigInput;
  /** Case ids not to run, each with the reason (reported as skipped). */
  readonly exclude?: Readonly<Record<string, string>>;
  /** What the importer declares it can do (default: nothing optional). */
  readonly capabilities?: Partial<ImporterCapabilities>;
}

/** Every case of the importer suite, in order. */
export const importerConformanceCases: readonly ImporterCase[] = importerCases;

function bootKernel(options: ImporterConformanceOptions): Kernel {
  const base: KernelConfigInput = { ...DEFAULT_KERNEL_CONFIG, ...options.kernelConfig };
  const plugins: KernelPlugins = [...(base.plugins ?? [])];
  if (!plugins.includes(TracedPageExporter)) plugins.push(TracedPageExporter);
  if (!plugins.includes(SystemHeap)) plugins.push(SystemHeap);
  if (!plugins.includes(PinnablePageExporter)) plugins.push(PinnablePageExporter);
  return createKernel({ ...base, plugins });
}

function openImporterSession(kernel: Kernel, options: ImporterConformanceOptions): ImporterSession {
  // The suite's CPU side always runs through a checking cache: a non-coherent importer device
  // that reads before the CPU's lines were cleaned, or whose writes the CPU reads without an
  // invalidate, is a coherency finding.
  checkingCache(kernel);
  const proc = kernel.spawn({ name: "conformance" });
  const pages = kernel.plugin(TracedPageExporter);
  if (!kernel.heaps.find("system")) {
    throw new ConformanceFailure("FACTORY", "the kernel has no system heap to import from");
  }
  const sources: BufferSource[] = [
    {
      name: "page-exporter",
      calls: pages.calls,
      create(size) {
        const buf = pages.create(size, O_RDWR);
        return { buf, fd: kernel.dmaBuf.fd(buf, proc, 0) };
      },
    },
    {
      name: "system heap",
      calls: undefined,
      create(size) {
        const fd = allocFromHeap(proc, "system", size, { fdFlags: O_RDWR });
        const buf = kernel.dmaBuf.fromFile(proc.fileOf(fd));
        if (!buf) throw new ConformanceFailure("FACTORY", "the system heap returned no dma-buf");
        return { buf, fd };
      },
    },
  ];
  return { kernel, proc, importer: options.importer(kernel), sources };
}

/** The importer suite, ready for {@link runSuite} or the vitest wrapper. */
export function prepareImporterSuite(
  options: ImporterConformanceOptions,
): PreparedSuite<ImporterCaseContext, ImporterCapabilities> {
  return {
    kind: "importer",
    target: options.name,
    capabilities: { asyncWork: false, dynamic: false, ...options.capabilities },
    cases: importerConformanceCases,
    exclude: options.exclude ?? {},
    context: (tracker: KernelTracker) => ({
      boot: () => openImporterSession(tracker.track(bootKernel(options)), options),
    }),
  };
}

/** Runs the importer suite synchronously, without a test framework. */
export function runImporterConformance(
  options: ImporterConformanceOptions,
  run: RunOptions = {},
): SuiteReport {
  return runSuite(prepareImporterSuite(options), run);
}
