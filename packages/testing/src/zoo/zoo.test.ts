// The suites can fail: every broken plugin of the zoo fails exactly the cases that name its defect.

import { createKernel } from "@dmabuf/core";
import { describe, expect, it } from "vitest";
import type { SuiteReport } from "../conformance/case.js";
import { exporterConformanceCases, runExporterConformance } from "../conformance/exporter/suite.js";
import { heapConformanceCases, runHeapConformance } from "../conformance/heap/suite.js";
import { importerConformanceCases, runImporterConformance } from "../conformance/importer/suite.js";
import { failedCaseIds } from "../conformance/runner.js";
import { exporterZoo, heapZoo, importerZoo, type ZooEntry } from "./index.js";
import { UnsyncedHeap } from "./unsynced.js";

function expectCaught(
  entry: ZooEntry,
  report: SuiteReport,
  known: readonly { id: string }[],
): void {
  const ids = new Set(known.map((c) => c.id));
  for (const id of entry.catches) expect(ids.has(id), `${id} is a case id`).toBe(true);
  expect(failedCaseIds(report).sort()).toEqual([...entry.catches].sort());
  const first = report.results.find((r) => r.id === entry.catches[0]);
  expect(first?.failure?.code).toBe(entry.code);
  if (entry.errorCode !== undefined) expect(first?.failure?.errorCode).toBe(entry.errorCode);
}

describe("the heap zoo", () => {
  it("holds at least ten broken heaps, each with its own name", () => {
    expect(heapZoo.length).toBeGreaterThanOrEqual(10);
    expect(new Set(heapZoo.map((z) => z.name)).size).toBe(heapZoo.length);
  });
  for (const entry of heapZoo) {
    it(`${entry.name} (${entry.defect}) fails ${entry.catches[0]}`, () => {
      const reports = runHeapConformance({
        plugin: entry.plugin,
        ...(entry.kernelConfig ? { kernelConfig: entry.kernelConfig } : {}),
      });
      expect(reports).toHaveLength(1);
      expectCaught(entry, reports[0] as SuiteReport, heapConformanceCases);
    }, 30_000);
  }
});

describe("the data-path cases run with a non-coherent device without being asked", () => {
  it("UnsyncedHeap fails them with its sync-recording case excluded, no CacheModel configured", () => {
    const [report] = runHeapConformance({
      plugin: UnsyncedHeap,
      exclude: { "exporter.cpu.syncs-mapped-attachments": "excluded by its author" },
    });
    expect(failedCaseIds(report as SuiteReport)).toEqual([
      "exporter.non-coherent.cpu-to-device",
      "exporter.non-coherent.device-to-cpu",
      "exporter.non-coherent.bidirectional",
    ]);
  });
});

describe("the exporter zoo", () => {
  for (const entry of exporterZoo) {
    it(`${entry.name} (${entry.defect}) fails ${entry.catches[0]}`, () => {
      const report = runExporterConformance({ plugin: entry.plugin });
      expectCaught(entry, report, exporterConformanceCases);
    });
  }
});

describe("the importer zoo", () => {
  it("declares for each importer the capabilities its class declares to dmabuf-conformance", () => {
    const kernel = createKernel({ ram: "16MiB" });
    for (const entry of importerZoo) {
      const cls = entry.importer(kernel).constructor as { capabilities?: unknown };
      expect(cls.capabilities, entry.name).toEqual(entry.capabilities);
    }
  });
  for (const entry of importerZoo) {
    it(`${entry.name} (${entry.defect}) fails ${entry.catches[0]}`, () => {
      const report = runImporterConformance({
        name: entry.name,
        importer: entry.importer,
        ...(entry.capabilities ? { capabilities: entry.capabilities } : {}),
        ...(entry.kernelConfig ? { kernelConfig: entry.kernelConfig } : {}),
      });
      expectCaught(entry, report, importerConformanceCases);
    });
  }
});

describe("the memory-type case names each uncached heap's defect", () => {
  it("says the mmap of CachedUncachedHeap is cached, and the zeroing of UnflushedUncachedHeap is still dirty", () => {
    const message = (plugin: (typeof heapZoo)[number]["plugin"]) => {
      const [report] = runHeapConformance({ plugin });
      return report?.results.find((r) => r.id === "exporter.cpu.memory-type")?.failure?.message;
    };
    const byName = (name: string) =>
      heapZoo.find((z) => z.name === name)?.plugin as (typeof heapZoo)[number]["plugin"];
    expect(message(byName("CachedUncachedHeap"))).toBe(
      'memory type of the mmap (vma.caching): expected "write-combine", got "cached"',
    );
    expect(message(byName("UnflushedUncachedHeap"))).toMatch(
      /^byte 0 of a fresh buffer is in a dirty CPU cache line: the allocation did not flush/,
    );
  });
});
