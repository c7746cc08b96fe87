// `pnpm sample <page>#<n>` runs one guide sample with node, and refuses what it cannot run.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const built = existsSync(`${root}packages/testing/dist/index.js`);
const sample = (...args: string[]) =>
  spawnSync(process.execPath, ["scripts/sample.mjs", ...args], { cwd: root, encoding: "utf8" });

describe.skipIf(!built)("scripts/sample.mjs", () => {
  it("lists a page's blocks, numbered, with their names", () => {
    const r = sample("docs/getting-started.md");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^#1 sample=boot \(line \d+\)\n#2 sample=alloc \(line \d+\)\n/);
  }, 60_000);

  it("runs a block by number or by name; an unknown block is a usage error", () => {
    expect(sample("docs/getting-started.md#2").status).toBe(0);
    expect(sample("docs/writing-a-heap.md#try-acme").status).toBe(0); // imports a module= block
    const r = sample("docs/getting-started.md#99");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("docs/getting-started.md has no block 99 (it has 6;");
  }, 120_000);

  it("refuses a block that declares vitest tests, saying what to do instead", () => {
    const r = sample("docs/writing-a-heap.md#describe-acme");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("declares vitest tests");
  }, 60_000);
});
