// docs/conformance.md lists every case and every zoo entry, and nothing else, in both directions.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exporterConformanceCases } from "./conformance/exporter/suite.js";
import { heapCases } from "./conformance/heap/cases.js";
import { importerConformanceCases } from "./conformance/importer/suite.js";
import { exporterZoo, heapZoo, importerZoo, type ZooEntry } from "./zoo/index.js";

const doc = readFileSync(new URL("../../../docs/conformance.md", import.meta.url), "utf8");
const cells = (line: string) =>
  line
    .split("|")
    .slice(1, -1)
    .map((c) => c.trim());

describe("docs/conformance.md", () => {
  it("lists every case with its title, once, and no case that does not exist", () => {
    const rows = doc
      .split("\n")
      .filter((l) => /^\| `(heap|exporter|importer)\.[^`]+` \|/.test(l))
      .map((l) => cells(l).slice(0, 2) as [string, string]);
    const documented = rows.map(([id, title]) => [id.replaceAll("`", ""), title]);
    const cases = [...heapCases, ...exporterConformanceCases, ...importerConformanceCases];
    expect(documented).toEqual(cases.map((c) => [c.id, c.title]));
  });

  it("lists every zoo entry with its defect and the case that catches it", () => {
    const rows = doc
      .split("\n")
      .filter((l) => /^\| (heap|exporter|importer) \| `/.test(l))
      .map((l) =>
        cells(l)
          .slice(0, 4)
          .map((c) => c.replaceAll("`", "")),
      );
    const row = (suite: string) => (z: ZooEntry) => [suite, z.name, z.defect, z.catches[0]];
    expect(rows).toEqual([
      ...heapZoo.map(row("heap")),
      ...exporterZoo.map(row("exporter")),
      ...importerZoo.map(row("importer")),
    ]);
  });
});
