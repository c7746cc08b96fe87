// dmabuf-conformance --report: an HTML page with one section per failed case.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, runCli } from "./run.js";

const src = fileURLToPath(new URL("..", import.meta.url));

async function cli(...argv: string[]) {
  let stdout = "";
  const status = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: () => {},
    cwd: src,
    typescriptLoader: true,
  });
  return { status, stdout };
}

describe("dmabuf-conformance --report", () => {
  it("writes one section per failed case, naming case, code and message", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "conformance-")), "out.html");
    const r = await cli("--report", out, "--case", "heap.alloc.zeroed", "./zoo/not-zeroing.ts");
    expect(r.status).toBe(EXIT_FAILED);
    const html = readFileSync(out, "utf8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    const sections = [
      ...html.matchAll(/<section class="case failed" id="case-\d+"><h2>([^<]*)<\/h2>/g),
    ];
    expect(sections.map((m) => m[1])).toEqual([
      "✗ heap not_zeroing: heap.alloc.zeroed-after-reuse",
    ]);
    expect(html).toContain("EXPECTATION_FAILED: ");
    expect(html).toMatch(/not_zeroing: 0 passed, 1 failed, 0 skipped|\d+ passed, 1 failed/);
  });

  it("has no case section when everything passed", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "conformance-")), "ok.html");
    const r = await cli("--report", out, "--case", "heap.factory", "./reference/reference-heap.ts");
    expect(r.status).toBe(EXIT_OK);
    const html = readFileSync(out, "utf8");
    expect(html).toContain('<section id="summary">');
    expect(html).not.toContain('class="case');
  });
});
