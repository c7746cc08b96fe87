// The project a plugin author starts from: files, names and dependency ranges for one plugin kind.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The kinds of plugin a project can be scaffolded for. */
export const PLUGIN_KINDS = ["heap", "exporter", "importer"] as const;

/** One of {@link PLUGIN_KINDS}. */
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** What {@link scaffold} writes. */
export interface ScaffoldOptions {
  /** The new project's directory; it must not exist or be empty. Its name names the plugin. */
  readonly directory: string;
  /** The plugin kind (default `"heap"`). */
  readonly kind?: PluginKind;
  /**
   * Packed `@dmabuf/*` tarballs to depend on instead of the registry (before a release, or to
   * try local changes); each becomes a `file:` dependency and an override for npm and pnpm.
   */
  readonly tarballs?: readonly string[];
}

const templates = fileURLToPath(new URL("../templates/", import.meta.url));
const own = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Registry ranges of the tools a generated project builds and tests with. */
const TOOLS = { typescript: "~6.0.3", vitest: "^4.1.12" } as const;

/**
 * The generated tsconfig: `tsc --init`'s strict ESM defaults with ES2022 output, so that the
 * TC39 standard decorators are lowered to code Node 20 runs.
 */
const TSCONFIG = {
  compilerOptions: {
    module: "nodenext",
    target: "es2022",
    types: [],
    rootDir: "src",
    outDir: "dist",
    sourceMap: true,
    declaration: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    strict: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    noUncheckedSideEffectImports: true,
    moduleDetection: "force",
    skipLibCheck: true,
  },
  include: ["src"],
};

function copyTree(from: string, to: string, edit: (text: string) => string): string[] {
  const written: string[] = [];
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) written.push(...copyTree(src, dst, edit));
    else {
      mkdirSync(dirname(dst), { recursive: true });
      writeFileSync(dst, edit(readFileSync(src, "utf8")));
      written.push(dst);
    }
  }
  return written;
}

/** The package name a packed tarball holds (`dmabuf-core-0.1.0.tgz` → `@dmabuf/core`). */
function packageOfTarball(file: string): string {
  const m = /^dmabuf-(.+)-\d+\.\d+\.\d+(?:-[\w.]+)?\.tgz$/.exec(basename(file));
  if (!m)
    throw new TypeError(`${file} is not a packed @dmabuf package (dmabuf-<name>-<version>.tgz)`);
  return `@dmabuf/${m[1]}`;
}

/**
 * Writes a new plugin project into `options.directory`: `package.json` (build, `certify` and
 * `test` scripts on `@dmabuf/core` and `@dmabuf/testing`), `tsconfig.json`, the plugin in
 * `src/plugin.ts`, its conformance test in `test/`, a README and a `.gitignore`.
 *
 * @returns the files written, relative to the directory.
 * @throws Error when the directory exists and is not empty; TypeError for an unknown kind or
 * a tarball that is not a packed `@dmabuf` package.
 */
export function scaffold(options: ScaffoldOptions): string[] {
  const kind = options.kind ?? "heap";
  if (!PLUGIN_KINDS.includes(kind)) {
    throw new TypeError(`unknown plugin kind "${kind}": one of ${PLUGIN_KINDS.join(", ")}`);
  }
  const dir = resolve(options.directory);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new Error(`${dir} exists and is not empty`);
  }
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (name === "") throw new TypeError(`cannot name a plugin after "${basename(dir)}"`);
  const snake = name.replace(/-/g, "_");

  const range = `^${own.version}`;
  const deps: Record<string, string> = { "@dmabuf/core": range };
  const devDeps: Record<string, string> = { "@dmabuf/testing": range, ...TOOLS };
  const overrides: Record<string, string> = {};
  for (const file of options.tarballs ?? []) {
    const pkg = packageOfTarball(file);
    if (pkg === "@dmabuf/create-plugin") continue; // the starter is no dependency of the project
    const spec = `file:${resolve(file)}`;
    overrides[pkg] = spec;
    if (pkg in deps) deps[pkg] = spec;
    if (pkg in devDeps) devDeps[pkg] = spec;
  }

  mkdirSync(dir, { recursive: true });
  const placeholder = `my-${kind}`;
  const written = copyTree(join(templates, kind), dir, (text) =>
    text.replaceAll(placeholder, name).replaceAll(placeholder.replace("-", "_"), snake),
  );
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    description: `A DMA-BUF ${kind} for the @dmabuf kernel model.`,
    type: "module",
    exports: { ".": { types: "./dist/plugin.d.ts", default: "./dist/plugin.js" } },
    scripts: {
      build: "tsc",
      certify: "tsc && dmabuf-conformance ./dist/plugin.js",
      test: "tsc && vitest run",
    },
    dependencies: deps,
    devDependencies: devDeps,
    ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
  };
  const files: Record<string, string> = {
    "package.json": `${JSON.stringify(pkg, null, 2)}\n`,
    "tsconfig.json": `${JSON.stringify(TSCONFIG, null, 2)}\n`,
    ".gitignore": "node_modules/\ndist/\n",
    "README.md": readme(name, kind),
  };
  if (Object.keys(overrides).length > 0) {
    files["pnpm-workspace.yaml"] = `overrides:\n${Object.entries(overrides)
      .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}\n`)
      .join("")}`;
  }
  for (const [file, text] of Object.entries(files)) {
    writeFileSync(join(dir, file), text);
    written.push(join(dir, file));
  }
  return written.map((f) => relative(dir, f)).sort();
}

function readme(name: string, kind: PluginKind): string {
  return `# ${name}

A DMA-BUF ${kind} for the [@dmabuf](https://www.npmjs.com/package/@dmabuf/core) kernel model,
certified by the conformance suites of \`@dmabuf/testing\`.

- \`src/plugin.ts\`: the ${kind}. Rename it and make it yours.
- \`test/conformance.test.ts\`: every conformance case as a vitest test, run on the compiled
  plugin (\`dist/\`).

\`\`\`sh
npm install
npm test           # tsc, then the conformance suite under vitest
npm run certify    # tsc, then dmabuf-conformance on dist/plugin.js (one line per case)
\`\`\`

Run \`npm run certify\` in CI: it exits non-zero when a case fails.
`;
}
