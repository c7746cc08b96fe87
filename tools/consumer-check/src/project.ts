// The scratch projects of the consumer check: their files, and the commands a plugin author runs there.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** One command of the check, run in a scratch project. */
export interface ProjectStep {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** A failure makes every later step meaningless (an install, a compile). */
  readonly fatal: boolean;
}

/** Registry versions the scratch projects install next to the tarballs. */
export const REGISTRY = { typescript: "6.0.3", vitest: "4.1.12", tsx: "4.23.15" } as const;

/**
 * `tsc --init`'s strict ESM defaults, with `target` lowered to ES2022 so that Node 20 runs the
 * emitted TC39 decorators, and no `experimentalDecorators`/`emitDecoratorMetadata`.
 */
export const STANDARD_TSCONFIG = {
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

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/**
 * Packages the npm consumer project does not install: the starter (it runs it instead) and
 * the wasm toolchain (100 MB of clang; {@link wasmSteps} installs it with pnpm's store).
 */
const NOT_IN_CONSUMER = new Set(["@dmabuf/create-plugin", "@dmabuf/wasm"]);

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** A vitest file declaring the heap suite for the heap a compiled module exports. */
const suite = (from: string) =>
  [
    'import { describeHeapConformance } from "@dmabuf/testing";',
    `import { AcmeHeap } from "${from}";`,
    "",
    "describeHeapConformance({ plugin: AcmeHeap });",
    "",
  ].join("\n");

/**
 * Checks, in the installed project, that each package entry and the CLI resolve to its bundle,
 * that core's bundle (with zod inlined) checks a plugin schema written with the project's own
 * zod, and that under `--enable-source-maps` a throw inside core names its TypeScript line.
 */
export const BUNDLES_CHECK = `import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as z from "zod";
const fail = (m) => { console.error(m); process.exit(1); };
for (const name of ["@dmabuf/core", "@dmabuf/core/uapi", "@dmabuf/devices", "@dmabuf/heaps-system", "@dmabuf/heaps-cma", "@dmabuf/testing"]) {
  const file = fileURLToPath(import.meta.resolve(name));
  if (!/\\/dist\\/[a-z-]+\\.bundle\\.js$/.test(file)) fail(\`\${name} resolves to \${file}, not a bundle\`);
  await import(name);
}
const cli = realpathSync("node_modules/.bin/dmabuf-conformance");
if (!cli.endsWith("/@dmabuf/testing/dist/cli.bundle.js")) fail(\`dmabuf-conformance is \${cli}\`);
const { createKernel, heap, KernelError } = await import("@dmabuf/core");
const schema = z.object({ sizeMiB: z.number().default(4) });
class Configured { constructor(_host, config) { this.config = config; } allocate() { throw new Error("unused"); } }
heap({ name: "configured", configSchema: schema })(Configured);
const boot = (config) => createKernel({ ram: "16MiB", plugins: [{ plugin: Configured, config }] });
if (boot({}).plugin(Configured).config.sizeMiB !== 4) fail("the schema's default was not applied");
try {
  boot({ sizeMB: 8 });
  fail("an unknown key booted");
} catch (e) {
  if (!(e instanceof KernelError) || e.code !== "EINVAL" || !e.message.includes("sizeMiB")) throw e;
  if (!/src\\/plugin\\/plugin-config\\.ts:\\d+:\\d+/.test(e.stack)) fail(\`no TypeScript frame:\\n\${e.stack}\`);
}
`;

/** Inputs of the consumer project. */
export interface ConsumerInputs {
  /** Package name → packed tarball. */
  readonly tgz: Readonly<Record<string, string>>;
  /** The README's minimal example. */
  readonly example: string;
  /** A heap written against the public API (the acme example heap). */
  readonly heapSource: string;
}

/**
 * Writes the npm consumer project and returns its steps: install; (a) the README example under
 * plain node and tsx; (b) the heap compiled with TC39 decorators and certified; (c) the same
 * heap with legacy decorators, certified; (d) the heap suite under vitest with no config.
 */
export function consumerProject(root: string, input: ConsumerInputs): ProjectStep[] {
  const deps = Object.fromEntries(
    Object.entries(input.tgz)
      .filter(([name]) => !NOT_IN_CONSUMER.has(name))
      .map(([name, file]) => [name, `file:${file}`]),
  );
  write(root, {
    "package.json": json({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: deps,
      devDependencies: { ...REGISTRY },
    }),
    "tsconfig.json": json(STANDARD_TSCONFIG),
    "tsconfig.legacy.json": json({
      extends: "./tsconfig.json",
      compilerOptions: { outDir: "legacy-dist", experimentalDecorators: true },
    }),
    "tsconfig.legacy-metadata.json": json({
      extends: "./tsconfig.json",
      compilerOptions: {
        outDir: "legacy-metadata-dist",
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    }),
    "example.mjs": input.example,
    "bundles.mjs": BUNDLES_CHECK,
    "example.ts": input.example,
    "src/heap.ts": input.heapSource,
    "test/tc39.test.ts": suite("../dist/heap.js"),
    "test/legacy.test.ts": suite("../legacy-dist/heap.js"),
  });
  const bin = (name: string) => join(root, "node_modules/.bin", name);
  const step = (name: string, cmd: string, args: string[], fatal = false): ProjectStep => ({
    name,
    cmd,
    args,
    cwd: root,
    fatal,
  });
  return [
    step(
      "npm install of the tarballs",
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline"],
      true,
    ),
    step("bundles: entries, CLI, another zod's schema, TypeScript stack frames", process.execPath, [
      "--enable-source-maps",
      "bundles.mjs",
    ]),
    step("(a) README example, node", process.execPath, ["example.mjs"]),
    step("(a) README example, tsx", bin("tsx"), ["example.ts"]),
    step(
      "tsc: TC39 decorators (b), legacy (c), legacy + metadata",
      bin("tsc"),
      ["-b", "tsconfig.json", "tsconfig.legacy.json", "tsconfig.legacy-metadata.json"],
      true,
    ),
    step("(b) certify, TC39 decorators", bin("dmabuf-conformance"), ["./dist/heap.js"]),
    step("(c) certify, legacy decorators", bin("dmabuf-conformance"), ["./legacy-dist/heap.js"]),
    step("(c) certify, legacy decorators + metadata", bin("dmabuf-conformance"), [
      "./legacy-metadata-dist/heap.js",
    ]),
    step("(d) vitest, no config: tsc output of (b) and (c)", bin("vitest"), ["run"]),
  ];
}

/** The starter's steps: scaffold a heap project from the packed starter, pnpm install, certify, test. */
export function starterSteps(work: string, tgz: Readonly<Record<string, string>>): ProjectStep[] {
  const dir = join(work, "my-heap");
  const local = Object.entries(tgz)
    .filter(([name]) => name !== "@dmabuf/create-plugin")
    .map(([, file]) => file);
  return [
    {
      name: "starter: scaffold a heap",
      cmd: "npm",
      args: [
        "exec",
        "--yes",
        "--package=./create.tgz",
        "--",
        "create-dmabuf-plugin",
        "my-heap",
        "--kind",
        "heap",
        ...local.flatMap((f) => ["--tarball", f]),
      ],
      cwd: work,
      fatal: true,
    },
    { name: "starter: pnpm install", cmd: "pnpm", args: ["install"], cwd: dir, fatal: true },
    { name: "starter: certify", cmd: "pnpm", args: ["run", "certify"], cwd: dir, fatal: false },
    { name: "starter: test", cmd: "pnpm", args: ["test"], cwd: dir, fatal: false },
  ];
}

/** The wasm package on its own: a pnpm project on its tarball, and an import of its entry. */
export function wasmSteps(root: string, tgz: Readonly<Record<string, string>>): ProjectStep[] {
  const wasm = tgz["@dmabuf/wasm"];
  if (wasm === undefined) return [];
  const overrides = Object.entries(tgz)
    .filter(([name]) => name !== "@dmabuf/create-plugin")
    .map(([name, file]) => `  ${JSON.stringify(name)}: ${JSON.stringify(`file:${file}`)}\n`);
  write(root, {
    "package.json": json({
      name: "wasm-consumer",
      private: true,
      type: "module",
      dependencies: { "@dmabuf/wasm": `file:${wasm}` },
    }),
    "pnpm-workspace.yaml": `overrides:\n${overrides.join("")}`,
    "smoke.mjs": [
      'import * as wasm from "@dmabuf/wasm";',
      'if (Object.keys(wasm).length === 0) throw new Error("@dmabuf/wasm exports nothing");',
      "",
    ].join("\n"),
  });
  return [
    { name: "wasm: pnpm install", cmd: "pnpm", args: ["install"], cwd: root, fatal: true },
    { name: "wasm: import", cmd: process.execPath, args: ["smoke.mjs"], cwd: root, fatal: false },
  ];
}
