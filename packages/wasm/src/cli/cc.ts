#!/usr/bin/env node
// dmabuf-cc: compile C sources into a wasm module that runs against the model (dmabuf-run).

import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CompileError, compileC, type SourceTree } from "../compile.js";

const USAGE = `usage: dmabuf-cc [-o out.wasm] [-I dir]... [-D name[=value]]... [-O level] [-g]
                 [--no-instrument] [--cache dir] file.c...
Compiles C (with the dmabuf shim force-included) to an instrumented wasm32-wasi module.`;

/** Puts a host file into the tree at its absolute path (the compiler's root is the tree's). */
function add(tree: SourceTree, abs: string): void {
  const parts = abs.split("/").filter(Boolean);
  let node = tree;
  for (const p of parts.slice(0, -1)) {
    node[p] ??= {};
    node = node[p] as SourceTree;
  }
  node[parts[parts.length - 1] as string] = readFileSync(abs, "utf8");
}

/** Follows quoted and angle includes from the sources through their directories and -I dirs. */
function collect(sources: readonly string[], includeDirs: readonly string[]): SourceTree {
  const tree: SourceTree = {};
  const seen = new Set<string>();
  const queue = [...sources];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    add(tree, file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^\s*#\s*include\s*([<"])([^>"]+)[>"]/gm)) {
      const dirs = m[1] === '"' ? [dirname(file), ...includeDirs] : includeDirs;
      for (const d of dirs) {
        const p = resolve(d, m[2] as string);
        if (existsSync(p) && statSync(p).isFile()) {
          queue.push(p);
          break;
        }
      }
    }
  }
  return tree;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o", default: "a.wasm" },
        include: { type: "string", short: "I", multiple: true, default: [] },
        define: { type: "string", short: "D", multiple: true, default: [] },
        optimize: { type: "string", short: "O", default: "2" },
        debug: { type: "boolean", short: "g", default: false },
        "no-instrument": { type: "boolean", default: false },
        cache: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (e) {
    process.stderr.write(`dmabuf-cc: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`dmabuf-cc: no input files\n${USAGE}\n`);
    return 2;
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));
  const sources = positionals.map(abs);
  for (const s of sources) {
    if (!existsSync(s)) {
      process.stderr.write(`dmabuf-cc: ${s}: no such file\n`);
      return 1;
    }
  }
  const includeDirs = values.include.map(abs);
  try {
    const wasm = await compileC({
      files: collect(sources, includeDirs),
      sources,
      includeDirs,
      defines: values.define,
      flags: [`-O${values.optimize}`, ...(values.debug ? ["-g"] : [])],
      instrument: !values["no-instrument"],
      ...(values.cache ? { cacheDir: abs(values.cache) } : {}),
    });
    writeFileSync(abs(values.output), wasm);
    return 0;
  } catch (e) {
    if (e instanceof CompileError) {
      process.stderr.write(e.stderr);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
