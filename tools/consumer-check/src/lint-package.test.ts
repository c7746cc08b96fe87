// The tarball linter: a well-formed package passes, and each way of breaking one is named.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { create } from "tar";
import { afterEach, describe, expect, it } from "vitest";
import { lintPackageDir, lintTarball, lintWorkspaceManifest } from "./lint-package.js";

const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

const MANIFEST = {
  name: "@dmabuf/widget",
  version: "0.1.0",
  description: "A widget.",
  keywords: ["dma-buf"],
  license: "MIT",
  repository: { type: "git", url: "git+https://example.invalid/widget.git" },
  type: "module",
  bin: { widget: "./dist/cli.js" },
  exports: {
    ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./package.json": "./package.json",
  },
  dependencies: { "@dmabuf/core": "0.1.0", tsyringe: "4.10.0" },
  peerDependencies: { vitest: "^4.1.0" },
};

const FILES: Record<string, string> = {
  "README.md": "# widget\n",
  LICENSE: "MIT\n",
  "dist/index.js":
    'import "reflect-metadata-free";\nexport { a } from "./a.js";\nimport { b } from "@dmabuf/core";\n',
  "dist/index.d.ts": "export {};\n",
  "dist/a.js": 'import { readFileSync } from "node:fs";\nimport { describe } from "vitest";\n',
  "dist/cli.js": '#!/usr/bin/env node\nconst m = await import("./a.js");\nimport "tsyringe";\n',
};

/** Writes a package directory: the well-formed one, changed by `edit`. */
function pkgDir(
  edit: (m: Record<string, unknown>, files: Record<string, string | undefined>) => void = () => {},
): string {
  const root = mkdtempSync(join(tmpdir(), "dmabuf-lint-test-"));
  scratch.push(root);
  const dir = join(root, "package");
  const m = structuredClone(MANIFEST) as Record<string, unknown>;
  const files: Record<string, string | undefined> = {
    ...FILES,
    "dist/index.js": FILES["dist/index.js"]?.replace('import "reflect-metadata-free";\n', ""),
  };
  edit(m, files);
  files["package.json"] = JSON.stringify(m);
  for (const [path, text] of Object.entries(files)) {
    if (text === undefined) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const messages = (dir: string) => lintPackageDir(dir).map((p) => p.message);

describe("lintPackageDir", () => {
  it("passes a complete package", () => {
    expect(lintPackageDir(pkgDir())).toEqual([]);
  });

  it("fails a tarball without built output", () => {
    const dir = pkgDir((_, f) => {
      for (const k of Object.keys(f)) if (k.startsWith("dist/")) f[k] = undefined;
    });
    expect(messages(dir)).toEqual([
      "exports . > types → ./dist/index.d.ts, which the tarball lacks",
      "exports . > default → ./dist/index.js, which the tarball lacks",
      "bin widget → ./dist/cli.js, which the tarball lacks",
      "ships no built JavaScript",
    ]);
  });

  it("fails a bin that imports a module the tarball lacks", () => {
    const dir = pkgDir((_, f) => {
      f["dist/cli.js"] = '#!/usr/bin/env node\nimport { runCli } from "./cli/run.js";\n';
    });
    expect(messages(dir)).toEqual(["dist/cli.js imports ./cli/run.js, which the tarball lacks"]);
  });

  it("fails a shipped compiled test, test fixture or TypeScript source", () => {
    const dir = pkgDir((_, f) => {
      f["dist/heap.test.js"] = "";
      f["dist/heap.test.d.ts"] = "";
      f["dist/dma-buf/test-fixtures.js"] = "";
      f["dist/cli/fixtures/unbootable.js"] = "";
      f["src/index.ts"] = "";
    });
    expect(messages(dir)).toEqual([
      "ships the test file dist/cli/fixtures/unbootable.js",
      "ships the test file dist/dma-buf/test-fixtures.js",
      "ships the test file dist/heap.test.d.ts",
      "ships the test file dist/heap.test.js",
      "ships the TypeScript source src/index.ts",
    ]);
  });

  it("fails a surviving catalog: or workspace: range", () => {
    const dir = pkgDir((m) => {
      m.dependencies = { "@dmabuf/core": "workspace:*", tsyringe: "catalog:" };
      m.devDependencies = { fastcheck: "catalog:default" };
    });
    expect(messages(dir)).toEqual([
      'keeps the workspace-only range "workspace:*" for @dmabuf/core in dependencies',
      'keeps the workspace-only range "catalog:" for tsyringe in dependencies',
      'keeps the workspace-only range "catalog:default" for fastcheck in devDependencies',
    ]);
  });

  it("fails unpublishable metadata", () => {
    const dir = pkgDir((m) => {
      m.private = true;
      m.version = "0.0.0";
      delete m.license;
      delete m.description;
      delete m.repository;
      m.keywords = [];
      m.exports = { ".": "./dist/index.js" };
    });
    expect(messages(dir)).toEqual([
      'is "private": true, so it cannot be published',
      'has version "0.0.0"; a 0.x release (at least 0.0.1) is due',
      'has no "license"',
      'has no "description"',
      'has no "repository"',
      'has no "keywords"',
      'does not export "./package.json"',
      'exports no "types" condition',
    ]);
  });

  it("fails an import of an undeclared package, a missing README and LICENSE", () => {
    const dir = pkgDir((_, f) => {
      f["dist/index.js"] = 'import "zod/v4";\nimport "node:fs";\nimport "fs";\n';
      f["README.md"] = undefined;
      f.LICENSE = undefined;
    });
    expect(messages(dir)).toEqual([
      "ships no README",
      "ships no LICENSE",
      "dist/index.js imports zod/v4, but zod is not a dependency",
    ]);
  });

  it("fails an export condition pointing into sources that are not shipped", () => {
    const dir = pkgDir((m) => {
      m.exports = {
        ".": { "@dmabuf/source": "./src/index.ts", types: "./dist/index.d.ts" },
        "./package.json": "./package.json",
      };
    });
    expect(messages(dir)).toEqual([
      "exports . > @dmabuf/source → ./src/index.ts, which the tarball lacks",
    ]);
  });
});

describe("lintTarball", () => {
  it("unpacks a .tgz and lints its package/ directory", async () => {
    const dir = pkgDir((_, f) => {
      f["dist/a.test.js"] = "";
    });
    const tgz = join(dirname(dir), "widget-0.1.0.tgz");
    await create({ gzip: true, file: tgz, cwd: dirname(dir) }, ["package"]);
    expect(lintTarball(tgz)).toEqual([
      { pkg: "@dmabuf/widget", message: "ships the test file dist/a.test.js" },
    ]);
  });
});

describe("lintWorkspaceManifest", () => {
  const exports = {
    ".": {
      "@dmabuf/source": "./src/index.ts",
      types: "./dist/index.d.ts",
      default: "./dist/index.js",
    },
    "./package.json": "./package.json",
  };
  const published = {
    ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./package.json": "./package.json",
  };

  it("passes exports mirrored in publishConfig without the source condition", () => {
    const m = {
      name: "@dmabuf/x",
      exports,
      publishConfig: { access: "public", exports: published },
    };
    expect(lintWorkspaceManifest(m)).toEqual([]);
  });

  it("fails an export missing from publishConfig.exports, and a restricted scoped package", () => {
    const more = { ...exports, "./uapi": { types: "./dist/uapi.d.ts", default: "./dist/uapi.js" } };
    const m = { name: "@dmabuf/x", exports: more, publishConfig: { exports: published } };
    expect(lintWorkspaceManifest(m).map((p) => p.message)).toEqual([
      'has no publishConfig.access "public" (a scoped package publishes restricted)',
      `publishConfig.exports differs from exports without "@dmabuf/source"; set it to ${JSON.stringify({ ...published, "./uapi": { types: "./dist/uapi.d.ts", default: "./dist/uapi.js" } })}`,
    ]);
  });
});

describe("lintPackageDir on a starter", () => {
  it("treats templates/ as data: TypeScript and tests there are not shipped code", () => {
    const dir = pkgDir((_, f) => {
      f["templates/heap/src/plugin.ts"] = 'import "./missing.js";\n';
      f["templates/heap/test/conformance.test.ts"] = "";
    });
    expect(lintPackageDir(dir)).toEqual([]);
  });
});
