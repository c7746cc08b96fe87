// What a module exports as `conformance` to tell dmabuf-conformance which suites to run.

import type { ExporterConformanceOptions } from "../conformance/exporter/suite.js";
import type { HeapConformanceOptions } from "../conformance/heap/suite.js";
import type { ImporterConformanceOptions } from "../conformance/importer/suite.js";

/**
 * A suite a module asks to be run with, when the plugins' declarations are not enough (a CMA
 * heap needs a CMA area, an importer needs its constructor arguments): export an array of
 * these as `conformance` from the module given to `dmabuf-conformance`.
 *
 * @example
 * ```ts
 * import type { ConformanceTarget } from "@dmabuf/testing";
 *
 * export const conformance: ConformanceTarget[] = [
 *   { suite: "heap", options: { plugin: CmaHeap, kernelConfig: { cma: { size: "32MiB" } } } },
 *   { suite: "importer", options: { name: "my-gpu", importer: (k) => new MyGpu(k, { lanes: 2 }) } },
 * ];
 * ```
 */
export type ConformanceTarget =
  | { readonly suite: "heap"; readonly options: HeapConformanceOptions }
  | { readonly suite: "exporter"; readonly options: ExporterConformanceOptions }
  | { readonly suite: "importer"; readonly options: ImporterConformanceOptions };
