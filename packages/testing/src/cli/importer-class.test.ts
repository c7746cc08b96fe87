// dmabuf-conformance on the reference importer class: its declared capabilities turn the queued-work cases on (the zoo's rows are in zoo-cli.test.ts).

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type CliJsonReport, EXIT_OK, runCli } from "./run.js";

const src = fileURLToPath(new URL("..", import.meta.url));

async function certify(module: string): Promise<{ status: number; doc: CliJsonReport }> {
  let stdout = "";
  const status = await runCli(["--json", module], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: () => undefined,
    cwd: src,
    typescriptLoader: true,
  });
  return { status, doc: JSON.parse(stdout) as CliJsonReport };
}

describe("dmabuf-conformance on importer classes", () => {
  it("runs the reference importer's queued-work cases (its class declares asyncWork) and passes", async () => {
    const { status, doc } = await certify("./reference/reference-importer.ts");
    expect(status).toBe(EXIT_OK);
    const results = doc.reports[0]?.results ?? [];
    expect(results.filter((r) => r.status === "skipped").map((r) => r.id)).toEqual([
      "importer.import.declares-async-work",
      "importer.dynamic.move-notify",
    ]);
    expect(results.find((r) => r.id === "importer.release.queued-work")?.status).toBe("passed");
  });
});
