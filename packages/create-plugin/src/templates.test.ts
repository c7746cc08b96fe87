// The starter's plugins, as shipped in templates/, pass their conformance suites.

import {
  allocFromHeap,
  createKernel,
  Device,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type Kernel,
} from "@dmabuf/core";
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
    // It declares no asyncWork, and its imports queue no device work: the declaration holds.
    const declared = report.results.find((r) => r.id === "importer.import.declares-async-work");
    expect(declared?.status).toBe("passed");
    expect(conformance).toEqual([{ suite: "importer", options: importerSuite }]);
  });
});

describe("the starter templates take their sg tables from host.sg", () => {
  /** Attach + map with the next sg-table allocation failing (in `syscall`): ENOMEM, and nothing left behind. */
  function mapFails(k: Kernel, buf: DmaBuf, syscall: string): void {
    const attachment = k.dmaBuf.attach(buf, new Device({ name: "gpu0" }));
    const before = k.snapshot();
    k.faults.failNth("sg", 1);
    expect(() => k.dmaBuf.mapAttachment(attachment, DMA_BIDIRECTIONAL)).toThrow(
      expect.objectContaining({ code: "ENOMEM", syscall }),
    );
    expect(k.snapshot()).toEqual(before);
    k.dmaBuf.detach(buf, attachment);
  }

  it("heap: map_dma_buf fails with ENOMEM when the table cannot be allocated", () => {
    const k = createKernel({ ram: "64MiB", plugins: [MyHeap] });
    const app = k.spawn();
    const fd = allocFromHeap(app, "my_heap", 1 << 16);
    const buf = k.dmaBuf.get(app, fd);
    mapFails(k, buf, "sg_alloc_table");
    k.dmaBuf.put(buf);
  });

  it("exporter: map_dma_buf fails with ENOMEM when the table cannot be allocated", () => {
    const k = createKernel({ ram: "64MiB", plugins: [MyExporter] });
    const buf = k.plugin(MyExporter).create(1 << 16, 0);
    mapFails(k, buf, "sg_alloc_table_from_pages");
    k.dmaBuf.put(buf);
  });
});
