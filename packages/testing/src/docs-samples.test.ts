// Every ```ts block of docs/*.md, README.md and each package's README is type-checked and run.
//
// Info-string attributes after `ts`: `sample=<name>` names the test; `module=./x.js` makes the
// block importable by later blocks of the same page as "./x.js" (or as "../dist/x.js", …);
// `source=<path>` requires the block to equal that file of the repository. A block that calls
// `describe…(` runs while vitest collects (as a test file's top level does); every other block
// runs inside a test.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as core from "@dmabuf/core";
import * as coreUapi from "@dmabuf/core/uapi";
import * as devices from "@dmabuf/devices";
import * as heapsCma from "@dmabuf/heaps-cma";
import * as heapsSystem from "@dmabuf/heaps-system";
import * as tsyringe from "tsyringe";
import ts from "typescript";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import * as testing from "./index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const virtualDir = join(root, "packages/testing/src/__doc_samples__");

interface Sample {
  readonly page: string;
  readonly index: number;
  readonly name: string;
  readonly code: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** The virtual file the type check sees it as. */
  readonly file: string;
}

const FENCE = /^```ts(?:[ \t]+([^\n]*))?\n([\s\S]*?)^```$/gm;

function samplesOf(page: string): Sample[] {
  const text = readFileSync(join(root, page), "utf8");
  const out: Sample[] = [];
  const slug = page.replace(/[^a-z0-9]+/gi, "-").replace(/-md$/, "");
  for (const m of text.matchAll(FENCE)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[1] ?? "").split(/\s+/).filter(Boolean)) {
      const [k, v = ""] = a.split("=");
      attrs[k as string] = v;
    }
    const index = out.length;
    const mod = attrs.module;
    // A module's virtual file sits where its specifier points from the page's samples.
    const file = join(virtualDir, slug, mod ? mod.replace(/\.js$/, ".ts") : `sample-${index}.ts`);
    out.push({
      page,
      index,
      name: attrs.sample ?? `block ${index + 1}`,
      code: m[2] as string,
      attrs,
      file,
    });
  }
  return out;
}

const pages = [
  "README.md",
  // @dmabuf/wasm's sample compiles C with clang (top-level await): its own tests run it.
  ...readdirSync(join(root, "packages"))
    .sort()
    .filter((p) => p !== "wasm")
    .map((p) => `packages/${p}/README.md`)
    .filter((p) => existsSync(join(root, p))),
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
const samples = pages.flatMap(samplesOf);

/** The workspace modules samples import, by specifier. */
const modules: Record<string, unknown> = {
  "@dmabuf/core": core,
  "@dmabuf/core/uapi": coreUapi,
  "@dmabuf/devices": devices,
  "@dmabuf/heaps-cma": heapsCma,
  "@dmabuf/heaps-system": heapsSystem,
  "@dmabuf/testing": testing,
  tsyringe,
  vitest,
};

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2023.d.ts"],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  customConditions: ["@dmabuf/source"],
  types: ["node"],
  strict: true,
  noUncheckedIndexedAccess: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  noEmit: true,
};

/** Where the last type check's inputs and findings are kept (ignored by git). */
const cacheFile = join(root, "node_modules/.cache/docs-samples/type-check.json");

/** What the last type check read and found. */
interface TypeCheckRecord {
  /** Hash of the samples, the compiler options and the TypeScript version. */
  readonly key: string;
  /** Every file the program read, with its content hash. */
  readonly files: Readonly<Record<string, string>>;
  /** The findings. */
  readonly diagnostics: readonly string[];
}

function hashOf(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function fileHash(path: string): string | undefined {
  try {
    return hashOf(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The type check, answered from the record of the last one when neither the samples nor any
 * file that program read changed since (a new file only matters once a read file imports it).
 */
function typeCheck(): string[] {
  const key = hashOf(
    JSON.stringify([ts.version, compilerOptions, samples.map((s) => [s.file, s.code])]),
  );
  try {
    const last = JSON.parse(readFileSync(cacheFile, "utf8")) as TypeCheckRecord;
    if (
      last.key === key &&
      Object.entries(last.files).every(([path, hash]) => fileHash(path) === hash)
    ) {
      return [...last.diagnostics];
    }
  } catch {
    // No usable record: check afresh.
  }
  const { program, diagnostics } = checkProgram();
  const files: Record<string, string> = {};
  for (const f of program.getSourceFiles()) {
    if (f.fileName.startsWith(virtualDir)) continue;
    const hash = fileHash(f.fileName);
    if (hash !== undefined) files[f.fileName] = hash;
  }
  mkdirSync(join(cacheFile, ".."), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ key, files, diagnostics } satisfies TypeCheckRecord));
  return diagnostics;
}

/** Type-checks every sample in one program, each as a file next to the testing sources. */
function checkProgram(): { program: ts.Program; diagnostics: string[] } {
  const virtual = new Map(samples.map((s) => [s.file, s.code]));
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => {
    const text = virtual.get(name);
    return text !== undefined
      ? ts.createSourceFile(name, text, lang)
      : getSourceFile(name, lang, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => virtual.has(name) || fileExists(name);
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (name) =>
    name.startsWith(virtualDir) || (directoryExists ? directoryExists(name) : true);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => virtual.get(name) ?? readFile(name);
  const program = ts.createProgram([...virtual.keys()], compilerOptions, host);
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : "";
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
  return { program, diagnostics };
}

/** Runs a sample as CommonJS with the workspace modules; returns its exports. */
function run(sample: Sample, pageModules: Map<string, unknown>): Record<string, unknown> {
  const out = ts.transpileModule(sample.code, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      esModuleInterop: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    },
    fileName: sample.file,
    reportDiagnostics: true,
  });
  const errors = out.diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  if (errors?.length) throw new SyntaxError(`${sample.page} ${sample.name}: ${errors.join("; ")}`);
  const nodeRequire = createRequire(sample.file);
  const require = (id: string) => {
    if (id in modules) return modules[id];
    if (pageModules.has(id)) return pageModules.get(id);
    if (id.startsWith("node:")) return nodeRequire(id);
    throw new Error(`${sample.page} ${sample.name} imports ${id}, which samples cannot use`);
  };
  const module = { exports: {} as Record<string, unknown> };
  const quiet = { ...console, log() {}, info() {}, table() {} };
  new Function("require", "module", "exports", "console", out.outputText)(
    require,
    module,
    module.exports,
    quiet,
  );
  return module.exports;
}

describe("the code samples of the docs", () => {
  it("every package has a README with a minimal example", () => {
    for (const p of readdirSync(join(root, "packages")).filter((d) =>
      existsSync(join(root, "packages", d, "package.json")),
    )) {
      const readme = join(root, "packages", p, "README.md");
      // A package whose product is a command (a `bin`) may show the command instead.
      const manifest = JSON.parse(readFileSync(join(root, "packages", p, "package.json"), "utf8"));
      const example = manifest.bin ? /^```(ts|sh)\b/m : /^```ts\b/m;
      expect(existsSync(readme) && example.test(readFileSync(readme, "utf8")), readme).toBe(true);
    }
  });

  it("there are samples, and every page with TypeScript has some", () => {
    expect(samples.length).toBeGreaterThan(10);
    for (const page of [
      "docs/async-importer.md",
      "docs/getting-started.md",
      "docs/kernel-side.md",
      "docs/writing-a-heap.md",
    ]) {
      expect(
        samples.some((s) => s.page === page),
        page,
      ).toBe(true);
    }
  });

  it("type-check against the workspace's current API", { timeout: 120_000 }, () => {
    expect(typeCheck()).toEqual([]);
  });

  for (const page of pages.filter((p) => samples.some((s) => s.page === p))) {
    describe(page, () => {
      const pageModules = new Map<string, unknown>();
      for (const sample of samples.filter((s) => s.page === page)) {
        const where = `${sample.name} (${page}, block ${sample.index + 1})`;
        if (sample.attrs.source !== undefined) {
          const path = sample.attrs.source;
          it(`${where} is ${path}, verbatim`, () => {
            expect(sample.code).toBe(readFileSync(join(root, path), "utf8"));
          });
        }
        if (sample.attrs.module !== undefined || /\bdescribe\w*\(/.test(sample.code)) {
          // Modules and suite declarations run while vitest collects, in page order.
          const exports = run(sample, pageModules);
          if (sample.attrs.module !== undefined) pageModules.set(sample.attrs.module, exports);
          it(`${where} runs`, () => {
            expect(exports).toBeDefined();
          });
        } else {
          it(`${where} runs`, () => {
            run(sample, pageModules);
          });
        }
      }
    });
  }
});
