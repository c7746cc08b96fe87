#!/usr/bin/env node
// The consumer check: packs every package, lints the tarballs, and uses them as a plugin author would.

import { spawnSync } from "node:child_process";
import {
  cpSync,
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
import { lintTarball } from "./lint-package.js";
import { consumerProject, type ProjectStep, starterSteps } from "./project.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const keep = process.env.CONSUMER_CHECK_KEEP === "1";
const verbose = process.env.CONSUMER_CHECK_VERBOSE === "1";

interface StepResult {
  readonly name: string;
  readonly ms: number;
  readonly ok: boolean;
  /** A known-pending step's outcome ("still failing" or "now passes"). */
  readonly note?: string;
}

const results: StepResult[] = [];
const started = Date.now();

/** Runs a command; on failure prints what it said. Returns whether it succeeded. */
function run(
  name: string,
  cmd: string,
  args: readonly string[],
  cwd: string,
  pending?: string,
): boolean {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ok = r.status === 0;
  if (pending !== undefined) {
    const note = ok ? `passes now: drop its pending mark (${pending})` : `pending: ${pending}`;
    results.push({ name, ms: Date.now() - t0, ok: true, note });
    if (!verbose) return ok;
  } else results.push({ name, ms: Date.now() - t0, ok });
  if (!ok || verbose) {
    const where = relative(repo, cwd).startsWith("..") ? cwd : relative(repo, cwd) || ".";
    process.stdout.write(`\n${ok ? "✓" : "✗"} ${name}: ${cmd} ${args.join(" ")} (in ${where})\n`);
    if (r.error) process.stdout.write(`${r.error.message}\n`);
    process.stdout.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
  }
  return ok;
}

/** The publishable packages of the workspace: every non-private `packages/*`. */
function publishable(): string[] {
  return readdirSync(join(repo, "packages"))
    .filter((d) => {
      try {
        const m = JSON.parse(readFileSync(join(repo, "packages", d, "package.json"), "utf8"));
        return m.private !== true;
      } catch {
        return false;
      }
    })
    .sort();
}

function finish(scratch: string): never {
  const failed = results.filter((r) => !r.ok);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  for (const r of results) {
    if (verbose || failed.length > 0 || r.note) {
      const note = r.note ? ` — ${r.note}` : "";
      process.stdout.write(`  ${r.ok ? "✓" : "✗"} ${r.name} (${r.ms} ms)${note}\n`);
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
if (!run("pack", "pnpm", ["-r", ...filters, "pack", "--pack-destination", tarballs], repo)) {
  finish(scratch);
}
const files = readdirSync(tarballs).filter((f) => f.endsWith(".tgz"));
const t0 = Date.now();
const problems = files.flatMap((f) => lintTarball(join(tarballs, f)));
results.push({ name: "lint tarballs", ms: Date.now() - t0, ok: problems.length === 0 });
for (const p of problems) process.stdout.write(`✗ tarball ${p.pkg} ${p.message}\n`);
if (problems.length > 0) finish(scratch);

// 2. A fresh npm project outside the repository, on the tarballs.
const tgz = Object.fromEntries(
  files.map((f) => {
    const m = /^(dmabuf-.+)-\d+\.\d+\.\d+\.tgz$/.exec(f);
    return [`@${(m?.[1] ?? f).replace(/^dmabuf-/, "dmabuf/")}`, join(tarballs, f)];
  }),
);
const readme = readFileSync(join(repo, "README.md"), "utf8");
const example = /## A minimal example\n[\s\S]*?```ts[^\n]*\n([\s\S]*?)```/.exec(readme)?.[1];
if (example === undefined) {
  process.stdout.write("✗ README.md has no ```ts block under ## A minimal example\n");
  results.push({ name: "README example", ms: 0, ok: false });
  finish(scratch);
}
const heapSource = readFileSync(join(repo, "docs/examples/acme-heap/src/index.ts"), "utf8");

const project = join(scratch, "consumer");
const steps: ProjectStep[] = consumerProject(project, { tgz, example, heapSource });
for (const s of steps) {
  if (!run(s.name, s.cmd, s.args, s.cwd, s.pending) && s.fatal) finish(scratch);
}

// 3. The starter: scaffold with the packed create-dmabuf-plugin, install with pnpm, certify, test.
const create = Object.entries(tgz).find(([name]) => name === "@dmabuf/create-plugin")?.[1];
if (create !== undefined) {
  const work = join(scratch, "starter");
  mkdirSync(work);
  cpSync(create, join(work, "create.tgz"));
  for (const s of starterSteps(work, tgz)) {
    if (!run(s.name, s.cmd, s.args, s.cwd, s.pending) && s.fatal) finish(scratch);
  }
}
writeFileSync(join(scratch, "results.json"), JSON.stringify(results, null, 2));
finish(scratch);
