// Resolves the CLI's module argument from the current directory: a file path, or a package installed there.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "./args.js";

/** File names Node cannot import without a TypeScript loader. */
export const TYPESCRIPT_FILE = /\.(?:[cm]?ts|tsx)$/;

/** Whether the argument names a file rather than a package. */
function isPath(module: string, cwd: string): boolean {
  return (
    module.startsWith(".") ||
    isAbsolute(module) ||
    /\.(?:[cm]?[jt]s|tsx)$/.test(module) ||
    (!module.startsWith("@") && existsSync(resolve(cwd, module)))
  );
}

/** The target of a package.json `exports` field for an ESM import of `subpath`, if any. */
function exportsEntry(exports: unknown, subpath = "."): string | undefined {
  if (typeof exports === "string") return subpath === "." ? exports : undefined;
  if (Array.isArray(exports)) return exportsEntry(exports[0], subpath);
  if (typeof exports !== "object" || exports === null) return undefined;
  const map = exports as Record<string, unknown>;
  if (Object.keys(map).some((k) => k.startsWith("."))) {
    return subpath in map ? exportsEntry(map[subpath]) : undefined;
  }
  for (const condition of ["import", "node", "default"]) {
    if (condition in map) return exportsEntry(map[condition]);
  }
  return undefined;
}

/**
 * Looks a package up in the node_modules directories above `cwd` and resolves `subpath` of it
 * for an ESM import (the path a `require` resolution would miss or get wrong).
 */
function findInstalled(name: string, cwd: string, subpath = "."): string | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const pkgDir = join(dir, "node_modules", name);
    const manifest = join(pkgDir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as Record<string, unknown>;
      const main = subpath === "." ? ((pkg.module ?? pkg.main ?? "index.js") as string) : undefined;
      const entry = pkg.exports !== undefined ? exportsEntry(pkg.exports, subpath) : main;
      return entry === undefined ? undefined : resolve(pkgDir, entry);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The import specifier (a file URL) of the module argument: a path is resolved against
 * `cwd`; a package name is resolved the way an import in a file of `cwd` would see it.
 * @throws UsageError for a file that does not exist or a package not installed there.
 */
export function specifierOf(module: string, cwd: string): string {
  if (isPath(module, cwd)) {
    const file = resolve(cwd, module);
    if (!existsSync(file)) throw new UsageError(`cannot load ${module}: no such file ${file}`);
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(join(cwd, "package.json")).resolve(module)).href;
  } catch {
    const found = findInstalled(module, cwd);
    if (found !== undefined) return pathToFileURL(found).href;
  }
  throw new UsageError(
    `cannot load ${module}: no package of that name is installed in ${cwd} ` +
      `(install it there, or give a path such as ./dist/index.js)`,
  );
}

/** What to tell the user when Node cannot import a TypeScript file. */
export function typescriptHint(module: string): string {
  const js = module.replace(/\.([cm]?)tsx?$/, ".$1js").replace(/(^|\/)src\//, "$1dist/");
  return (
    `cannot load ${module}: Node runs JavaScript, not TypeScript. Build it (tsc) and pass ` +
    `the output, e.g. ${js}, or install tsx in this project (npm install --save-dev tsx) ` +
    `and dmabuf-conformance loads .ts files through it`
  );
}

/**
 * Registers tsx's loader in this thread when the project in `cwd` has tsx installed.
 * @returns whether it did
 */
export async function registerTsx(cwd: string): Promise<boolean> {
  const api = findInstalled("tsx", cwd, "./esm/api");
  if (api === undefined || !existsSync(api)) return false;
  const { register } = (await import(pathToFileURL(api).href)) as { register: () => unknown };
  register();
  return true;
}
