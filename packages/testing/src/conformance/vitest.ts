// The vitest runner: one `describe` per target, one `it` (or `it.skip`, with its reason) per case.

import { describe, it } from "vitest";
import { ConformanceFailure } from "./assert.js";
import {
  type ExporterConformanceOptions,
  prepareExporterSuite,
  resolveExporter,
} from "./exporter/suite.js";
import { type HeapConformanceOptions, prepareHeapSuite, resolveHeapTargets } from "./heap/suite.js";
import { type ImporterConformanceOptions, prepareImporterSuite } from "./importer/suite.js";
import { executeCase, type PreparedSuite, skipReason } from "./runner.js";

/** Options of the vitest runner, on top of a suite's own options. */
export interface VitestRunnerOptions {
  /** Per-case timeout in milliseconds (default 30 000). */
  readonly timeout?: number;
}

function declareSuite<Ctx, Caps>(
  title: string,
  suite: PreparedSuite<Ctx, Caps>,
  options: VitestRunnerOptions,
): void {
  describe(title, () => {
    for (const c of suite.cases) {
      const name = `${c.id}: ${c.title}`;
      const reason = skipReason(suite, c);
      if (reason !== undefined) {
        it.skip(`${name} (skipped: ${reason})`, () => {});
        continue;
      }
      it(
        name,
        () => {
          const r = executeCase(suite, c);
          if (r.failure) {
            const { code, errorCode, message } = r.failure;
            const tag = errorCode === undefined ? code : `${code} ${errorCode}`;
            throw new ConformanceFailure(code, `[${tag}] ${message}`, errorCode);
          }
        },
        options.timeout ?? 30_000,
      );
    }
  });
}

/**
 * Declares the heap conformance suite as vitest tests: for every heap the options name, a
 * `describe("heap conformance: <name>")` with one test per case, in order. Cases the heap's
 * capabilities rule out are declared skipped, with the reason in the test name. Call it at the
 * top level of a test file (or inside a `describe`).
 *
 * @example
 * ```ts
 * import { describeHeapConformance } from "@dmabuf/testing";
 * import { AcmeHeap } from "./acme-heap.js";
 *
 * describeHeapConformance({ plugin: AcmeHeap });
 * ```
 * @throws TypeError for options naming no heap; whatever booting the kernel throws.
 */
export function describeHeapConformance(
  options: HeapConformanceOptions & VitestRunnerOptions,
): void {
  for (const target of resolveHeapTargets(options)) {
    declareSuite(
      `heap conformance: ${target.heapName}`,
      prepareHeapSuite(target, options),
      options,
    );
  }
}

/**
 * Declares the exporter conformance suite as vitest tests (one per case; ruled-out cases
 * skipped with the reason).
 *
 * @example
 * ```ts
 * describeExporterConformance({ plugin: PageExporter });
 * ```
 * @throws TypeError for options naming no exporter; whatever booting the kernel throws.
 */
export function describeExporterConformance(
  options: ExporterConformanceOptions & VitestRunnerOptions,
): void {
  const exporter = resolveExporter(options);
  declareSuite(
    `exporter conformance: ${exporter.name}`,
    prepareExporterSuite(exporter, options),
    options,
  );
}

/**
 * Declares the importer conformance suite as vitest tests (one per case).
 *
 * @example
 * ```ts
 * describeImporterConformance({
 *   name: "reference-importer",
 *   importer: (kernel) => new ReferenceImporter(kernel),
 *   capabilities: ReferenceImporter.capabilities,
 * });
 * ```
 */
export function describeImporterConformance(
  options: ImporterConformanceOptions & VitestRunnerOptions,
): void {
  declareSuite(`importer conformance: ${options.name}`, prepareImporterSuite(options), options);
}
