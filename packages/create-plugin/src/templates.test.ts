// The starter's plugins, as shipped in templates/, pass their conformance suites.

import {
  runExporterConformance,
  runHeapConformance,
  runImporterConformance,
  type SuiteReport,
} from "@dmabuf/testing";
import { describe, expect, it } from "vitest";
import { MyExporter } from "../templates/exporter/src/plugin.js";
import { MyHeap } from "../templates/heap/src/plugin.js";
import { conformance, importerSuite } from "../templates/importer/src/plugin.js";

const failures = (r: SuiteReport) =>
  r.results.filter((x) => x.status === "failed").map((x) => `${x.id}: ${x.failure?.message}`);

describe("the starter templates certify", () => {
  it("heap", () => {
    const [report] = runHeapConformance({ plugin: MyHeap });
    expect(report && failures(report)).toEqual([]);
    expect(report?.target).toBe("my_heap");
    expect(report?.passed).toBeGreaterThan(20);
  });

  it("exporter", () => {
    const report = runExporterConformance({ plugin: MyExporter });
    expect(failures(report)).toEqual([]);
    expect(report.target).toBe("my-exporter");
    expect(report.passed).toBeGreaterThan(10);
  });

  it("importer, and the module names it for dmabuf-conformance", () => {
    const report = runImporterConformance(importerSuite);
    expect(failures(report)).toEqual([]);
    expect(report.passed).toBeGreaterThan(5);
    expect(conformance).toEqual([{ suite: "importer", options: importerSuite }]);
  });
});
