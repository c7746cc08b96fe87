// @dmabuf/testing: conformance suites and the kernel selftests, for any heap, exporter or importer.

export type { CliJsonReport, CliSuiteReport } from "./cli/run.js";
export type { ConformanceTarget } from "./cli/target.js";
export {
  ConformanceFailure,
  check,
  checkEqual,
  checkUnchanged,
  errorCodeOf,
  expectError,
  expectSuccess,
  snapshotDiff,
} from "./conformance/assert.js";
export {
  type ExporterCapabilities,
  type HeapSuiteCapabilities,
  resolveExporterCapabilities,
  resolveHeapCapabilities,
} from "./conformance/capabilities.js";
export {
  type CaseFailure,
  type CaseResult,
  type CaseStatus,
  type ConformanceCase,
  FAILURE_CODES,
  type FailureCode,
  type SuiteKind,
  type SuiteReport,
} from "./conformance/case.js";
export { type BufferFd, cpuRead, cpuWrite } from "./conformance/cpu-view.js";
export {
  type DeviceMapping,
  deviceRead,
  deviceWrite,
  mapForDevice,
  pagePattern,
  testDevice,
} from "./conformance/device-view.js";
export { exporterCases } from "./conformance/exporter/cases.js";
export type { ExporterCase, ExporterCaseContext } from "./conformance/exporter/context.js";
export {
  type CreatingExporter,
  type ExporterConformanceOptions,
  type ExporterTarget,
  exporterConformanceCases,
  prepareExporterSuite,
  type ResolvedExporter,
  resolveExporter,
  runExporterConformance,
} from "./conformance/exporter/suite.js";
export { heapCases } from "./conformance/heap/cases.js";
export type { HeapCase, HeapCaseContext } from "./conformance/heap/context.js";
export {
  DEFAULT_KERNEL_CONFIG,
  type HeapConformanceOptions,
  type HeapTarget,
  heapConformanceCases,
  prepareHeapSuite,
  resolveHeapTargets,
  runHeapConformance,
} from "./conformance/heap/suite.js";
export { conformanceReportHtml } from "./conformance/html-report.js";
export type {
  BufferSource,
  ImporterCapabilities,
  ImporterCase,
  ImporterCaseContext,
  ImporterReadWork,
  ImporterSession,
  ImporterUnderTest,
  ImporterWork,
  ImportHandle,
  SourceBuffer,
} from "./conformance/importer/context.js";
export { PinnablePageExporter } from "./conformance/importer/pinnable-exporter.js";
export {
  type ImporterConformanceOptions,
  importerConformanceCases,
  prepareImporterSuite,
  runImporterConformance,
} from "./conformance/importer/suite.js";
export { type TracedCall, TracedPageExporter } from "./conformance/importer/traced-exporter.js";
export {
  BUFINFO,
  type Bufinfo,
  type BufinfoEntry,
  parseBufinfo,
  parseFdinfo,
} from "./conformance/observability.js";
export {
  formatCaseLine,
  formatReport,
  formatSuiteHeading,
  formatTotals,
  type Totals,
  totals,
} from "./conformance/report.js";
export {
  executeCase,
  failedCaseIds,
  type PreparedSuite,
  type RunOptions,
  runSuite,
  skipReason,
} from "./conformance/runner.js";
export type { ExporterSession, HeapSession } from "./conformance/session.js";
export { KernelTracker } from "./conformance/tracker.js";
export {
  describeExporterConformance,
  describeHeapConformance,
  describeImporterConformance,
  type VitestRunnerOptions,
} from "./conformance/vitest.js";
export {
  type DeviceJob,
  DeviceJobQueue,
  implicitDeps,
} from "./reference/job-queue.js";
export { type ReferenceBuffer, ReferenceHeap } from "./reference/reference-heap.js";
export { type ImportState, ReferenceImporter } from "./reference/reference-importer.js";
export { describeDmabufHeapsSelftest, type HeapSelftestOptions } from "./selftest/dmabuf-heaps.js";
export {
  type ExporterZooEntry,
  exporterZoo,
  type HeapZooEntry,
  heapZoo,
  type ImporterZooEntry,
  importerZoo,
  type ZooEntry,
} from "./zoo/index.js";
