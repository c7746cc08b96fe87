// scaffold(): the files of a new project, its names, dependency ranges and refusals.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type PluginKind, scaffold } from "./scaffold.js";

const own = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "dmabuf-scaffold-"));
  scratch.push(d);
  return d;
}
const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");

describe("scaffold", () => {
  it("writes a heap project named after its directory", () => {
    const dir = join(tmp(), "Vendor Heap");
    expect(scaffold({ directory: dir, kind: "heap" })).toEqual([
      ".gitignore",
      "README.md",
      "package.json",
      "src/plugin.ts",
      "test/conformance.test.ts",
      "tsconfig.json",
    ]);
    const pkg = JSON.parse(read(dir, "package.json"));
    expect(pkg.name).toBe("vendor-heap");
    expect(pkg.scripts).toEqual({
      build: "tsc",
      certify: "tsc && dmabuf-conformance ./dist/plugin.js",
      test: "tsc && vitest run",
    });
    expect(pkg.dependencies).toEqual({ "@dmabuf/core": `^${own.version}` });
    expect(pkg.devDependencies).toEqual({
      "@dmabuf/testing": `^${own.version}`,
      typescript: "~6.0.3",
      vitest: "^4.1.12",
    });
    expect(pkg.overrides).toBeUndefined();
    const plugin = read(dir, "src/plugin.ts");
    expect(plugin).toContain('name: "vendor_heap"');
    expect(plugin).not.toMatch(/my[-_]heap/);
  });

  it.each<[PluginKind, string]>([
    ["exporter", '@exporter({ name: "cam-out" })'],
    ["importer", 'new Device({ name: "cam-out" })'],
  ])("writes a %s project", (kind, named) => {
    const dir = join(tmp(), "cam-out");
    scaffold({ directory: dir, kind });
    expect(read(dir, "src/plugin.ts")).toContain(named);
    expect(read(dir, "test/conformance.test.ts")).toContain('from "../dist/plugin.js"');
  });

  it("depends on packed tarballs, with overrides for npm and pnpm", () => {
    const root = tmp();
    const core = join(root, "dmabuf-core-0.1.0.tgz");
    const sys = join(root, "dmabuf-heaps-system-0.1.0.tgz");
    const starter = join(root, "dmabuf-create-plugin-0.1.0.tgz");
    scaffold({ directory: join(root, "h"), tarballs: [core, sys, starter] });
    const pkg = JSON.parse(read(join(root, "h"), "package.json"));
    expect(pkg.dependencies["@dmabuf/core"]).toBe(`file:${core}`);
    expect(pkg.overrides).toEqual({
      "@dmabuf/core": `file:${core}`,
      "@dmabuf/heaps-system": `file:${sys}`,
    });
    expect(read(join(root, "h"), "pnpm-workspace.yaml")).toBe(
      `overrides:\n  "@dmabuf/core": "file:${core}"\n  "@dmabuf/heaps-system": "file:${sys}"\n`,
    );
  });

  it("refuses a non-empty directory, an unknown kind and a foreign tarball", () => {
    const dir = tmp();
    writeFileSync(join(dir, "keep.txt"), "mine");
    expect(() => scaffold({ directory: dir })).toThrow(/exists and is not empty/);
    const empty = join(tmp(), "x");
    mkdirSync(empty);
    expect(() => scaffold({ directory: empty, kind: "driver" as PluginKind })).toThrow(
      'unknown plugin kind "driver": one of heap, exporter, importer',
    );
    expect(() => scaffold({ directory: empty, tarballs: ["left-pad-1.0.0.tgz"] })).toThrow(
      "left-pad-1.0.0.tgz is not a packed @dmabuf package",
    );
  });
});
