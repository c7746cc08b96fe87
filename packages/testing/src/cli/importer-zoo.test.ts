// dmabuf-conformance with default options on the importer modules: the reference passes, each zoo importer fails its case.

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importerZoo } from "../zoo/index.js";
import { type CliJsonReport, EXIT_FAILED, EXIT_OK, runCli } from "./run.js";

const src = fileURLToPath(new URL("..", import.meta.url));

async function certify(module: string): Promise<{ status: number; doc: CliJsonReport }> {
  let stdout = "";
  const status = await runCli(["--json", module], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: () => undefined,
    cwd: src,
    isolation: "in-process",
  });
  return { status, doc: JSON.parse(stdout) as CliJsonReport };
}

/** The zoo importers of the importer-suite cases on release, write-after-read and attach errors. */
const modules: Record<string, string> = {
  PutBeforeDetachImporter: "./zoo/put-before-detach-importer.ts",
  ReleaseWhileBusyImporter: "./zoo/release-while-busy-importer.ts",
  ReadersIgnoredImporter: "./zoo/readers-ignored-importer.ts",
  LeakOnAttachErrorImporter: "./zoo/leak-on-attach-error-importer.ts",
};

describe("dmabuf-conformance on importer classes", () => {
  it("runs the reference importer's queued-work cases (its class declares asyncWork) and passes", async () => {
    const { status, doc } = await certify("./reference/reference-importer.ts");
    expect(status).toBe(EXIT_OK);
    const results = doc.reports[0]?.results ?? [];
    expect(results.filter((r) => r.status === "skipped").map((r) => r.id)).toEqual([
      "importer.dynamic.move-notify",
    ]);
    expect(results.find((r) => r.id === "importer.release.queued-work")?.status).toBe("passed");
  });

  for (const [name, module] of Object.entries(modules)) {
    const entry = importerZoo.find((z) => z.name === name);
    it(`fails ${name} with exit 1 on ${entry?.catches[0]}`, async () => {
      const { status, doc } = await certify(module);
      expect(status).toBe(EXIT_FAILED);
      expect(doc.reports.map((r) => [r.suite, r.target])).toEqual([["importer", name]]);
      const failed = (doc.reports[0]?.results ?? []).filter((r) => r.status === "failed");
      expect(failed.map((r) => r.id).sort()).toEqual([...(entry?.catches ?? [])].sort());
      const first = failed.find((r) => r.id === entry?.catches[0]);
      expect([first?.failure?.code, first?.failure?.errorCode]).toEqual([
        entry?.code,
        entry?.errorCode,
      ]);
    });
  }
});
