#!/usr/bin/env node

// Runs one TypeScript sample of a guide: `pnpm sample docs/getting-started.md#2` (the 2nd ```ts block).
//
// The block (and the `module=` blocks of the same page it imports) is compiled with TypeScript
// as the samples test compiles it, written next to @dmabuf/testing's dependencies so
// `@dmabuf/*` imports resolve to the built packages, and run with node. Run `tsc -b` first
// (`pnpm sample` does).

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

const root = resolve(import.meta.dirname, "..");
const FENCE = /^```ts(?:[ \t]+([^\n]*))?\n([\s\S]*?)^```$/gm;
const USAGE = `Usage: pnpm sample <page.md>#<n>   run the n-th \`\`\`ts block of the page (1-based)
       pnpm sample <page.md>#<name>  run the block with sample=<name>
       pnpm sample <page.md>         list the page's blocks`;

function fail(message) {
  process.stderr.write(`sample: ${message}\n`);
  process.exit(2);
}

const arg = process.argv[2];
if (!arg || arg === "-h" || arg === "--help") {
  process.stdout.write(`${USAGE}\n`);
  process.exit(arg ? 0 : 2);
}
const [pagePath, which] = arg.split("#");
const page = resolve(process.cwd(), pagePath);
let text;
try {
  text = readFileSync(page, "utf8");
} catch {
  fail(`no such page ${pagePath}`);
}
const blocks = [...text.matchAll(FENCE)].map((m, i) => {
  const attrs = Object.fromEntries(
    (m[1] ?? "")
      .split(/\s+/)
      .filter(Boolean)
      .map((a) => [a.split("=")[0], a.split("=")[1] ?? ""]),
  );
  return { index: i + 1, code: m[2], attrs, line: text.slice(0, m.index).split("\n").length };
});
if (blocks.length === 0) fail(`${pagePath} has no \`\`\`ts block`);
if (which === undefined) {
  for (const b of blocks) {
    const name = b.attrs.sample ? ` sample=${b.attrs.sample}` : "";
    process.stdout.write(`#${b.index}${name} (line ${b.line})\n`);
  }
  process.exit(0);
}
const block = /^\d+$/.test(which)
  ? blocks[Number(which) - 1]
  : blocks.find((b) => b.attrs.sample === which);
if (!block)
  fail(`${pagePath} has no block ${which} (it has ${blocks.length}; run without #… to list them)`);
if (/\bdescribe\w*\(/.test(block.code)) {
  fail(`block ${which} declares vitest tests: put it in a *.test.ts file and run it with vitest`);
}

// Under @dmabuf/testing's node_modules, so the workspace packages and tsyringe resolve.
const dir = join(root, "packages/testing/node_modules/.samples", basename(page, ".md"));
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const compile = (code, fileName) => {
  const out = ts.transpileModule(code, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    },
    fileName: fileName.replace(/\.m?js$/, ".ts"),
    reportDiagnostics: true,
  });
  const errors = (out.diagnostics ?? []).map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, "\n"),
  );
  if (errors.length > 0) fail(`${pagePath} block ${block.index}: ${errors.join("; ")}`);
  // reflect-metadata first, as the packages' own entry points do; @dmabuf/testing itself is
  // not in its own node_modules.
  const testing = pathToFileURL(join(root, "packages/testing/dist/index.js")).href;
  const js = out.outputText.replace(/from "@dmabuf\/testing"/g, `from "${testing}"`);
  return `import "reflect-metadata";\n${js}`;
};
for (const b of blocks) {
  const mod = b.attrs.module;
  if (mod && b !== block)
    writeFileSync(join(dir, basename(mod).replace(/\.js$/, ".mjs")), compile(b.code, mod));
}
const file = join(dir, `block-${block.index}.mjs`);
writeFileSync(
  file,
  compile(block.code, file).replace(/from "\.\/([^"]+)\.js"/g, 'from "./$1.mjs"'),
);
for (const m of readFileSync(file, "utf8").matchAll(/from "(\.\/[^"]+)\.mjs"/g)) {
  const target = join(dir, `${m[1]}.mjs`);
  try {
    readFileSync(target);
  } catch {
    fail(`block ${which} imports ${m[1]}.js, which no module= block of ${pagePath} provides`);
  }
}
process.stderr.write(`sample: ${relative(root, page)} block ${block.index} (line ${block.line})\n`);
const r = spawnSync(process.execPath, ["--enable-source-maps", pathToFileURL(file).pathname], {
  stdio: "inherit",
  cwd: process.cwd(),
});
process.exit(r.status ?? 1);
