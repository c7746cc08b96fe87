// docs/examples/c-pipeline (camera → CPU → display) under dmabuf-run: correct is clean, a missing SYNC_END is reported.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { compileC } from "./compile.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../..");
const cacheDir = join(repo, ".cache");
const runCli = join(here, "../dist/cli/run.js");
const source = readFileSync(join(repo, "docs/examples/c-pipeline/pipeline.c"), "utf8");
const FLAGS = ["--heaps", "cma", "--devices", "camera,scanout", "--cache", "checking"];

function run(wasmPath: string) {
  const r = spawnSync(process.execPath, [runCli, ...FLAGS, "--findings-status", "3", wasmPath], {
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the C pipeline example under dmabuf-run", () => {
  const paths = { good: join(cacheDir, "pipeline.wasm"), bad: join(cacheDir, "pipeline-bug.wasm") };
  beforeAll(async () => {
    mkdirSync(cacheDir, { recursive: true });
    const files = { "pipeline.c": source };
    writeFileSync(paths.good, await compileC({ files, sources: ["pipeline.c"], cacheDir }));
    writeFileSync(
      paths.bad,
      await compileC({
        files,
        sources: ["pipeline.c"],
        defines: ["FORGET_SYNC_END"],
        cacheDir,
      }),
    );
  }, 600_000);

  it("the correct pipeline shows four camera frames and the model finds nothing", () => {
    const r = run(paths.good);
    expect(r.stdout).toBe(
      "frame 0: camera sequence 0, on screen (modeset)\n" +
        "frame 1: camera sequence 1, on screen at scanout frame 2\n" +
        "frame 2: camera sequence 2, on screen at scanout frame 3\n" +
        "frame 3: camera sequence 3, on screen at scanout frame 4\n",
    );
    expect(r.stderr).toContain("== coherency: no violations");
    expect(r.stderr).toContain("== open at exit: nothing");
    expect(r.status).toBe(0);
  }, 300_000);

  it("without frame 2's DMA_BUF_SYNC_END the scanout's stale read is reported", () => {
    const r = run(paths.bad);
    expect(r.stderr).toContain(
      "== coherency: 2 violation(s)\n" +
        "   scanout0 read buffer 1 (unnamed) [default_cma_region] at offset 0x0, 8192 bytes while " +
        "the CPU held it dirty in cache: the device read stale memory; no DMA_BUF_IOCTL_SYNC " +
        "END|WRITE (dma_buf_end_cpu_access) between the CPU write and the device read\n" +
        "   a sync for the CPU by scanout0 invalidated buffer 1 (unnamed) [default_cma_region] at " +
        "offset 0x0, 8192 bytes that the CPU held dirty: the CPU's writes were lost; no " +
        "DMA_BUF_IOCTL_SYNC END|WRITE (dma_buf_end_cpu_access) between the CPU write and the " +
        "invalidate\n",
    );
    expect(r.status).toBe(3);
  }, 300_000);
});
