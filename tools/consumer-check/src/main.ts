#!/usr/bin/env node
// The consumer check: packs every package, lints the tarballs, and uses them as a plugin author would.

import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { lintTarball, lintWorkspaceManifest } from "./lint-package.js";
import { consumerProject, type ProjectStep, starterSteps, wasmSteps } from "./project.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const keep = process.env.CONSUMER_CHECK_KEEP === "1";
const verbose = process.env.CONSUMER_CHECK_VERBOSE === "1";

interface StepResult {
  readonly name: string;
  readonly ms: number;
  readonly ok: boolean;
}

const results: StepResult[] = [];
const started = Date.now();

/** What a failed (or, verbose, any) step said, printed once every chain has ended. */
const transcripts: string[] = [];

/**
 * Runs one command to its end and records the step. A failure prints what it said (at the
 * end). Resolves to whether it succeeded.
 */
function run(step: ProjectStep): Promise<boolean> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(step.cmd, step.args, {
      cwd: step.cwd,
      env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    let ended = false;
    const end = (ok: boolean, error?: Error) => {
      if (ended) return; // "error" may be followed by "close"
      ended = true;
      const ms = Date.now() - t0;
      const { name } = step;
      results.push({ name, ms, ok });
      if (!ok || verbose) {
        const where = relative(repo, step.cwd).startsWith("..") ? step.cwd : ".";
        transcripts.push(
          `\n${ok ? "✓" : "✗"} ${name}: ${step.cmd} ${step.args.join(" ")} (in ${where})\n` +
            `${error ? `${error.message}\n` : ""}${out}`,
        );
      }
      done(ok);
    };
    child.on("error", (e) => end(false, e));
    child.on("close", (code) => end(code === 0));
  });
}

/** Runs steps in order; a failed fatal step ends the chain. Resolves to whether none failed. */
async function chain(steps: readonly ProjectStep[]): Promise<boolean> {
  let ok = true;
  for (const s of steps) {
    const passed = await run(s);
    ok &&= passed;
    if (!passed && s.fatal) return false;
  }
  return ok;
}

/** The packages of the workspace's `packages/`: each is published, so each is packed and linted. */
function publishable(): string[] {
  return readdirSync(join(repo, "packages"))
    .filter((d) => existsSync(join(repo, "packages", d, "package.json")))
    .sort();
}

function finish(scratch: string): never {
  for (const t of transcripts) process.stdout.write(t);
  const failed = results.filter((r) => !r.ok);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  for (const r of results) {
    if (verbose || failed.length > 0) {
      process.stdout.write(`  ${r.ok ? "✓" : "✗"} ${r.name} (${r.ms} ms)\n`);
    }
  }
  if (failed.length > 0 || keep) process.stdout.write(`scratch project kept at ${scratch}\n`);
  else rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(
    `consumer check: ${results.length - failed.length} steps passed, ${failed.length} failed (${secs} s)\n`,
  );
  process.exit(failed.length > 0 ? 1 : 0);
}

const scratch = mkdtempSync(join(tmpdir(), "dmabuf-consumer-"));
const tarballs = join(scratch, "tarballs");
mkdirSync(tarballs);

// 1. Pack (each package's prepack builds it) and lint every tarball.
const filters = publishable().flatMap((d) => ["--filter", `./packages/${d}`]);
const pack = ["-r", ...filters, "pack", "--pack-destination", tarballs];
if (!(await chain([{ name: "pack", cmd: "pnpm", args: pack, cwd: repo, fatal: true }]))) {
  finish(scratch);
}
const files = readdirSync(tarballs).filter((f) => f.endsWith(".tgz"));
const t0 = Date.now();
const problems = [
  ...publishable().flatMap((d) =>
    lintWorkspaceManifest(
      JSON.parse(readFileSync(join(repo, "packages", d, "package.json"), "utf8")),
    ),
  ),
  ...files.flatMap((f) => lintTarball(join(tarballs, f))),
];
results.push({ name: "lint tarballs", ms: Date.now() - t0, ok: problems.length === 0 });
for (const p of problems) process.stdout.write(`✗ tarball ${p.pkg} ${p.message}\n`);
if (problems.length > 0) finish(scratch);

const tgz = Object.fromEntries(
  files.map((f) => {
    const m = /^(dmabuf-.+)-\d+\.\d+\.\d+\.tgz$/.exec(f);
    return [`@${(m?.[1] ?? f).replace(/^dmabuf-/, "dmabuf/")}`, join(tarballs, f)];
  }),
);
const readme = readFileSync(join(repo, "README.md"), "utf8");
const example = /## A minimal example\n[\s\S]*?```ts[^\n]*\n([\s\S]*?)```/.exec(readme)?.[1];
const create = tgz["@dmabuf/create-plugin"];
if (example === undefined || create === undefined) {
  const what = example === undefined ? "README.md's minimal example" : "the starter's tarball";
  results.push({ name: `find ${what}`, ms: 0, ok: false });
  finish(scratch);
}
const heapSource = readFileSync(join(repo, "docs/examples/acme-heap/src/index.ts"), "utf8");

// 2. A fresh npm project outside the repository, on the tarballs; 3. the starter, scaffolded by
// the packed create-dmabuf-plugin and installed with pnpm. The two run side by side.
const project = join(scratch, "consumer");
const work = join(scratch, "starter");
mkdirSync(work);
cpSync(create, join(work, "create.tgz"));
await Promise.all([
  chain(consumerProject(project, { tgz, example, heapSource })),
  chain([...starterSteps(work, tgz), ...wasmSteps(join(scratch, "wasm"), tgz)]),
]);
writeFileSync(join(scratch, "results.json"), JSON.stringify(results, null, 2));
finish(scratch);
