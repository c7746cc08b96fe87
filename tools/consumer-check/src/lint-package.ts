// Lints a packed package (a tarball, or its unpacked `package/` directory) before anyone installs it.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { extract } from "tar";

/** The dependency fields of a manifest whose ranges a registry install has to understand. */
const DEP_FIELDS = [
  "dependencies",
  "peerDependencies",
  "optionalDependencies",
  "devDependencies",
] as const;

/** Range protocols that only mean something inside this workspace. */
const LOCAL_PROTOCOLS = ["catalog:", "workspace:", "link:", "file:", "portal:"];

/** Test files and test fixtures, as built output or as sources. */
const TEST_FILE = /(^|\/)([^/]+\.test\.[cm]?[jt]s|[^/]+\.test\.d\.[cm]?ts|test-fixtures\.[^/]+)$/;
const TEST_DIR = /(^|\/)(fixtures|__tests__|__fixtures__)\//;

/**
 * Module specifiers of the import and re-export declarations of emitted JavaScript (they start a
 * line) and of dynamic imports outside comment lines.
 */
const IMPORT =
  /^(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']|^[ \t]*(?!\*|\/\/)[^\n]*?\bimport\s*\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;

/** One thing wrong with a packed package. */
export interface PackageProblem {
  /** The package name (or the tarball when there is no readable manifest). */
  readonly pkg: string;
  readonly message: string;
}

interface Manifest {
  name?: string;
  version?: string;
  private?: boolean;
  license?: string;
  description?: string;
  repository?: unknown;
  keywords?: unknown;
  bin?: string | Record<string, string>;
  exports?: unknown;
  main?: string;
  types?: string;
  [field: string]: unknown;
}

/** Every file below `dir`, as a posix path relative to it. */
function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Every file an `exports` map points at, with the condition path leading to it. */
function exportTargets(node: unknown, path: string, out: Array<[string, string]>): void {
  if (typeof node === "string") out.push([path, node]);
  else if (Array.isArray(node)) for (const n of node) exportTargets(n, path, out);
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) exportTargets(v, path ? `${path} > ${k}` : k, out);
  }
}

/** The package name a bare specifier imports (`@scope/name/sub` → `@scope/name`). */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

const BUILTINS = new Set(builtinModules);

/**
 * Lints an unpacked package directory (what `tar xzf` puts in `package/`): publishable
 * metadata, no workspace-only ranges, built output present and complete (every export, bin and
 * relative import resolves to a shipped file, every bare import is a declared dependency), no
 * compiled tests, test fixtures or TypeScript sources, a README and a LICENSE. Files under
 * `templates/` are a starter's project templates: data, not code of the package.
 */
export function lintPackageDir(dir: string, label = dir): PackageProblem[] {
  const manifestPath = join(dir, "package.json");
  if (!existsSync(manifestPath)) return [{ pkg: label, message: "has no package.json" }];
  const m = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
  const pkg = m.name ?? label;
  const problems: string[] = [];
  const files = listFiles(dir);
  const shipped = new Set(files);

  if (m.private === true) problems.push(`is "private": true, so it cannot be published`);
  if (!m.version || !/^0\.\d+\.\d+/.test(m.version) || m.version === "0.0.0") {
    problems.push(
      `has version ${JSON.stringify(m.version)}; a 0.x release (at least 0.0.1) is due`,
    );
  }
  for (const field of ["license", "description"] as const) {
    if (typeof m[field] !== "string" || m[field] === "") problems.push(`has no "${field}"`);
  }
  if (!m.repository) problems.push(`has no "repository"`);
  if (!Array.isArray(m.keywords) || m.keywords.length === 0) problems.push(`has no "keywords"`);

  const declared = new Set<string>();
  for (const field of DEP_FIELDS) {
    const deps = (m[field] ?? {}) as Record<string, string>;
    for (const [name, range] of Object.entries(deps)) {
      if (field !== "devDependencies") declared.add(name);
      const local = LOCAL_PROTOCOLS.find((p) => range.startsWith(p));
      if (local) {
        problems.push(`keeps the workspace-only range "${range}" for ${name} in ${field}`);
      }
    }
  }

  const targets: Array<[string, string]> = [];
  exportTargets(m.exports, "", targets);
  if (m.main) targets.push(["main", m.main]);
  if (m.types) targets.push(["types", m.types]);
  if (targets.length === 0) problems.push(`has no "exports"`);
  for (const [where, target] of targets) {
    const rel = posix.normalize(target);
    if (!shipped.has(rel)) problems.push(`exports ${where} → ${target}, which the tarball lacks`);
  }
  if (m.exports && typeof m.exports === "object" && !("./package.json" in m.exports)) {
    problems.push(`does not export "./package.json"`);
  }
  if (
    m.exports &&
    typeof m.exports === "object" &&
    !targets.some(([where]) => where.split(" > ").includes("types"))
  ) {
    problems.push(`exports no "types" condition`);
  }
  const bins = typeof m.bin === "string" ? { [pkg]: m.bin } : (m.bin ?? {});
  for (const [name, target] of Object.entries(bins)) {
    const rel = posix.normalize(target);
    if (!shipped.has(rel)) problems.push(`bin ${name} → ${target}, which the tarball lacks`);
    else if (!readFileSync(join(dir, rel), "utf8").startsWith("#!")) {
      problems.push(`bin ${name} → ${target} does not start with a #! line`);
    }
  }

  for (const f of files) {
    if (f.startsWith("templates/")) continue; // a starter's project templates are data
    if (TEST_FILE.test(f) || TEST_DIR.test(f)) problems.push(`ships the test file ${f}`);
    else if (/\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f)) {
      problems.push(`ships the TypeScript source ${f}`);
    }
  }
  if (!files.some((f) => /\.[cm]?js$/.test(f))) problems.push("ships no built JavaScript");
  if (!files.some((f) => /^readme(\.md)?$/i.test(f))) problems.push("ships no README");
  if (!files.some((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f))) problems.push("ships no LICENSE");

  for (const f of files.filter((x) => /\.[cm]?js$/.test(x) && !x.startsWith("templates/"))) {
    const text = readFileSync(join(dir, f), "utf8");
    for (const match of text.matchAll(IMPORT)) {
      const spec = (match[1] ?? match[2] ?? match[3]) as string;
      if (spec.startsWith(".")) {
        const rel = posix.join(posix.dirname(f), spec);
        if (!shipped.has(rel)) problems.push(`${f} imports ${spec}, which the tarball lacks`);
      } else if (!spec.startsWith("node:") && !BUILTINS.has(spec)) {
        const name = packageOf(spec);
        if (name !== pkg && !declared.has(name)) {
          problems.push(`${f} imports ${spec}, but ${name} is not a dependency`);
        }
      }
    }
  }
  return [...new Set(problems)].map((message) => ({ pkg, message }));
}

/** Unpacks a `.tgz` made by `pnpm pack`/`npm pack` into a scratch directory and lints it. */
export function lintTarball(tarball: string): PackageProblem[] {
  const scratch = mkdtempSync(join(tmpdir(), "dmabuf-lint-"));
  try {
    extract({ file: tarball, cwd: scratch, sync: true });
    const dir = join(scratch, "package");
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      return [{ pkg: tarball, message: "holds no package/ directory" }];
    }
    return lintPackageDir(dir, tarball);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Drops the workspace-only `@dmabuf/source` condition from an `exports` map. */
function withoutSourceCondition(node: unknown): unknown {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k !== "@dmabuf/source")
      .map(([k, v]) => [k, withoutSourceCondition(v)]),
  );
}

/**
 * Lints a workspace package's own `package.json` for what packing does not show: a scoped
 * package publishes with `publishConfig.access: "public"`, and `publishConfig.exports` (what
 * the tarball gets) is `exports` without the workspace-only `@dmabuf/source` condition, so an
 * export added to one is not missing from the other.
 */
export function lintWorkspaceManifest(manifest: Record<string, unknown>): PackageProblem[] {
  const pkg = String(manifest.name);
  const problems: string[] = [];
  const publish = (manifest.publishConfig ?? {}) as Record<string, unknown>;
  if (pkg.startsWith("@") && publish.access !== "public") {
    problems.push(`has no publishConfig.access "public" (a scoped package publishes restricted)`);
  }
  const expected = withoutSourceCondition(manifest.exports);
  if (JSON.stringify(publish.exports) !== JSON.stringify(expected)) {
    problems.push(
      `publishConfig.exports differs from exports without "@dmabuf/source"; set it to ${JSON.stringify(expected)}`,
    );
  }
  return problems.map((message) => ({ pkg, message }));
}
