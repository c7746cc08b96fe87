#!/usr/bin/env node

// Bundles each published package's tsc output into one ES module per entry point (esbuild).
//
// tsc stays the compiler (it emits the decorator metadata tsyringe needs); this step only joins
// its `dist/**/*.js` into `dist/<entry>.bundle.js`, following tsc's source maps so a stack trace
// under `node --enable-source-maps` names the TypeScript file and line. zod is inlined and
// tree-shaken; every other package stays external (one copy of each @dmabuf package, tsyringe's
// global container, vitest), as do node builtins. Entries of one package share chunks
// (`dist/bundle-chunk-*.js`), so module state is never duplicated inside a package. All output
// sits directly in `dist/`, where tsc's modules sit, so `import.meta.url`-relative paths
// (`../templates/`, `../c`) resolve as before.
//
// Run after `tsc -b` (`pnpm build` does both). Nothing is rebuilt when no input changed.
// `node scripts/bundle.mjs core testing` bundles only those packages; `--check` only verifies
// that the bundles are up to date (exit 1 otherwise); `--clean` deletes them.

import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { join, relative, resolve } from "node:path";
import * as esbuild from "esbuild";

const root = resolve(import.meta.dirname, "..");

/** Package directory → output name (`dist/<name>.bundle.js`) → tsc's module it starts from. */
const ENTRIES = {
  core: { index: "index.js", uapi: "uapi/index.js" },
  devices: { index: "index.js" },
  "heaps-system": { index: "index.js" },
  "heaps-cma": { index: "index.js" },
  testing: { index: "index.js", cli: "cli.js" },
  wasm: { index: "index.js", "cli-cc": "cli/cc.js", "cli-run": "cli/run.js" },
  "create-plugin": { index: "index.js", cli: "cli.js" },
};

/** The only package whose code is inlined; its locale modules must be shaken away (except `en`). */
const INLINED = "zod";
const STATE = "bundle-state.json";
const BUILTINS = new Set(builtinModules);

const self = createHash("sha256")
  .update(readFileSync(import.meta.filename))
  .update(esbuild.version)
  .digest("hex");

/** The state file's fingerprint of the inputs a previous run read (size and mtime). */
function fingerprint(files) {
  const h = createHash("sha256").update(self);
  for (const f of files) {
    if (!existsSync(f)) return undefined;
    const s = statSync(f);
    h.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest("hex");
}

function upToDate(dist) {
  const state = join(dist, STATE);
  if (!existsSync(state)) return false;
  const { inputs, outputs, hash } = JSON.parse(readFileSync(state, "utf8"));
  if (!outputs.every((o) => existsSync(join(dist, o)))) return false;
  return fingerprint(inputs.map((i) => join(root, i))) === hash;
}

/** Externals: every dependency but zod, including @dmabuf/* and optional/peer ones. */
function externals(manifest) {
  const names = new Set();
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const name of Object.keys(manifest[field] ?? {})) if (name !== INLINED) names.add(name);
  }
  return [...names, "@dmabuf/*", "@vitest/*"];
}

/** Refuses a bundle that inlined another package, kept zod's locales, or imports an undeclared package. */
function verify(pkg, manifest, metafile) {
  const problems = [];
  // Every module esbuild parsed is an input; what survived tree-shaking has bytes in an output.
  const kept = new Set();
  for (const o of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      if (bytesInOutput > 0) kept.add(input);
    }
  }
  for (const input of kept) {
    if (!input.includes("node_modules/")) continue;
    const inZod = /node_modules\/zod\//.test(input);
    if (!inZod) problems.push(`inlines ${input} (only ${INLINED} may be inlined)`);
    else if (/\/locales\/(?!en\.js$)/.test(input)) problems.push(`keeps the zod locale ${input}`);
  }
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  for (const [out, o] of Object.entries(metafile.outputs)) {
    for (const imp of o.imports) {
      if (!imp.external) continue;
      const spec = imp.path;
      const name = spec.startsWith("@")
        ? spec.split("/").slice(0, 2).join("/")
        : spec.split("/")[0];
      if (spec.startsWith("node:") || BUILTINS.has(spec) || declared.has(name)) continue;
      problems.push(`${out} imports ${spec}, which is not a dependency`);
    }
  }
  if (problems.some((p) => p.includes("zod locale"))) {
    problems.push(
      'import zod as `import * as z from "zod"`: the named `z` export keeps every locale',
    );
  }
  if (problems.length > 0) {
    throw new Error(`bundle of @dmabuf/${pkg}:\n  ${problems.join("\n  ")}`);
  }
}

/** Deletes a package's bundles, their maps and this step's state. */
function removeBundles(dist, all = false) {
  if (!existsSync(dist)) return;
  for (const f of readdirSync(dist)) {
    if (/^(bundle-chunk-.*|.*\.bundle)\.js(\.map)?$/.test(f)) rmSync(join(dist, f));
    else if (all && (f === STATE || f === "bundle-meta.json")) rmSync(join(dist, f));
  }
}

async function bundle(pkg, entries) {
  const dir = join(root, "packages", pkg);
  const dist = join(dir, "dist");
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (upToDate(dist)) return false;
  const result = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: Object.entries(entries).map(([out, input]) => ({
      in: join("dist", input),
      out: `${out}.bundle`,
    })),
    outdir: "dist",
    chunkNames: "bundle-chunk-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: externals(manifest),
    // Only the package entries are bundled; a user's `@dmabuf/source` condition never applies.
    conditions: ["import", "node", "default"],
    sourcemap: "linked",
    sourcesContent: true,
    metafile: true,
    write: false,
    logLevel: "warning",
    legalComments: "eof",
  });
  verify(pkg, manifest, result.metafile);

  // Replace the previous bundles (chunk names change with their content).
  removeBundles(dist);
  const outputs = [];
  for (const file of result.outputFiles) {
    writeFileSync(file.path, file.contents);
    outputs.push(relative(dist, file.path));
    if (file.path.endsWith(".js") && file.text.startsWith("#!")) chmodSync(file.path, 0o755);
  }
  // The manifest decides the externals, so a changed one rebuilds too.
  const inputs = [...Object.keys(result.metafile.inputs), "package.json"]
    .map((i) => relative(root, resolve(dir, i)))
    .sort();
  const hash = fingerprint(inputs.map((i) => join(root, i)));
  writeFileSync(join(dist, STATE), `${JSON.stringify({ outputs, inputs, hash }, null, 2)}\n`);
  writeFileSync(join(dist, "bundle-meta.json"), JSON.stringify(result.metafile));
  return true;
}

const args = process.argv.slice(2);
const check = args.includes("--check");
const only = args.filter((a) => !a.startsWith("--"));
for (const p of only) if (!(p in ENTRIES)) throw new Error(`no bundled package ${p}`);
const t0 = performance.now();
const built = [];
const stale = [];
for (const [pkg, entries] of Object.entries(ENTRIES)) {
  if (only.length > 0 && !only.includes(pkg)) continue;
  const dist = join(root, "packages", pkg, "dist");
  if (args.includes("--clean")) {
    removeBundles(dist, true);
    continue;
  }
  if (!existsSync(dist)) throw new Error(`packages/${pkg}/dist is missing: run tsc -b first`);
  if (check) {
    if (!upToDate(dist)) stale.push(pkg);
  } else if (await bundle(pkg, entries)) built.push(pkg);
}
if (check && stale.length > 0) {
  process.stderr.write(`bundles out of date: ${stale.join(", ")} (run pnpm build)\n`);
  process.exit(1);
}
if (built.length > 0) {
  const ms = Math.round(performance.now() - t0);
  process.stdout.write(`bundled ${built.map((p) => `@dmabuf/${p}`).join(", ")} (${ms} ms)\n`);
}
