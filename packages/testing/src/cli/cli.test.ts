// dmabuf-conformance: discovery, progress, the per-case report, --json and the exit codes.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { heapConformanceCases } from "../conformance/heap/suite.js";
import { type CliJsonReport, EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli } from "./run.js";

const src = fileURLToPath(new URL("..", import.meta.url));
const pkg = fileURLToPath(new URL("../..", import.meta.url));

async function cli(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const status = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    cwd: src,
    typescriptLoader: true,
  });
  return { status, stdout, stderr };
}

describe("dmabuf-conformance", () => {
  it("certifies the reference heap: progress per case, totals, exit 0", async () => {
    const r = await cli("./reference/reference-heap.ts");
    expect(r.status).toBe(EXIT_OK);
    expect(r.stdout).toContain("heap conformance: pages (mmap, vmap, cpuAccess, sysfsStats)");
    expect(r.stdout).toContain("  ✓ heap.factory.fresh-kernel");
    expect(r.stdout).toMatch(/ {2}- heap\.alloc\.contiguous \(skipped: .+\)/);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed, \d+ skipped\n$/);
    // The first run also loads the suites (the CLI imports them only when it runs them).
  }, 30_000);

  it("fails a zoo heap with exit 1, naming the case and its failure code", async () => {
    const r = await cli("./zoo/not-zeroing.ts");
    expect(r.status).toBe(EXIT_FAILED);
    expect(r.stdout).toContain("  ✗ heap.alloc.zeroed-after-reuse [EXPECTATION_FAILED]");
    expect(r.stdout).toContain("Failed:\n  not_zeroing: heap.alloc.zeroed-after-reuse\n");
  });

  it("--json prints one machine report and nothing else", async () => {
    const r = await cli("--json", "./zoo/wrong-errno.ts");
    expect(r.status).toBe(EXIT_FAILED);
    const doc = JSON.parse(r.stdout) as CliJsonReport;
    expect(doc.ok).toBe(false);
    expect(doc.reports).toHaveLength(1);
    const failed = doc.reports[0]?.results.filter((x) => x.status === "failed");
    expect(failed?.map((x) => [x.id, x.failure?.code, x.failure?.errorCode])).toEqual([
      ["heap.alloc.enomem", "WRONG_ERROR", "EINVAL"],
      ["heap.alloc.fault-walk", "WRONG_ERROR", "EINVAL"],
    ]);
    expect(doc.failed).toBe(2);
  });

  it("runs exporter plugins through the exporter suite", async () => {
    const r = await cli("--json", "./zoo/caching-exporter.ts");
    const doc = JSON.parse(r.stdout) as CliJsonReport;
    expect(doc.reports.map((x) => [x.suite, x.target])).toEqual([["exporter", "caching-exporter"]]);
    expect(r.status).toBe(EXIT_FAILED);
  });

  it("--case runs only the cases with a matching id prefix", async () => {
    const r = await cli("--json", "--case", "heap.naming.", "./reference/reference-heap.ts");
    const doc = JSON.parse(r.stdout) as CliJsonReport;
    expect(doc.reports[0]?.results.map((x) => x.id)).toEqual([
      "heap.naming.name",
      "heap.naming.exp-name",
      "heap.naming.set-name",
    ]);
    expect(r.status).toBe(EXIT_OK);
  });

  it("--case that selects nothing is a usage error naming the near ids", async () => {
    const r = await cli("--case", "heap.aloc", "./reference/reference-heap.ts");
    expect(r.status).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("--case heap.aloc selects no case; did you mean heap.alloc.");
    expect(r.stdout).toBe("");
    const typo = await cli(
      "--case",
      "heap.naming.",
      "--case",
      "exporter.mmap.shred",
      "./reference/reference-heap.ts",
    );
    expect(typo.status).toBe(EXIT_USAGE);
    expect(typo.stderr).toContain(
      "--case exporter.mmap.shred selects no case; did you mean exporter.mmap.shared?",
    );
  });

  it("a typo in --kernel-config is a usage error naming the nearest key", async () => {
    const r = await cli("--kernel-config", '{"memory":"32MiB"}', "./reference/reference-heap.ts");
    expect(r.status).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('--kernel-config: unknown key "memory" (did you mean "ram"?)');
  });

  it("labels every run with its kernel configuration", async () => {
    const six = await cli(
      "--profile",
      "6.1",
      "--kernel-config",
      '{"ram":"32MiB"}',
      "--case",
      "heap.naming.name",
      "./reference/reference-heap.ts",
    );
    expect(six.stdout).toMatch(
      /heap conformance: pages \(.*\)\n {2}kernel 6.1, ram 32MiB, 4KiB pages\n/,
    );
    const json = await cli("--json", "--case", "heap.naming.name", "./reference/reference-heap.ts");
    const doc = JSON.parse(json.stdout) as CliJsonReport;
    expect(doc.reports.map((x) => x.kernel)).toEqual(["kernel 6.18, ram 64MiB, 4KiB pages"]);
  });

  it("a module exporting only an importer class runs the importer suite on it", async () => {
    const good = await cli("--json", "./reference/reference-importer.ts");
    const doc = JSON.parse(good.stdout) as CliJsonReport;
    expect(doc.reports.map((x) => [x.suite, x.target])).toEqual([
      ["importer", "ReferenceImporter"],
    ]);
    expect(good.status).toBe(EXIT_OK);
    const bad = await cli("./zoo/keeps-mapping-importer.ts");
    expect(bad.status).toBe(EXIT_FAILED);
    expect(bad.stdout).toContain("importer conformance: KeepsMappingImporter");
  });

  it("--profile and --kernel-config reach the test kernels", async () => {
    const r = await cli(
      "--json",
      "--profile",
      "6.1",
      "--kernel-config",
      '{"ram":"32MiB"}',
      "--case",
      "heap.observability.sysfs",
      "./reference/reference-heap.ts",
    );
    const doc = JSON.parse(r.stdout) as CliJsonReport;
    expect(doc.reports[0]?.results[0]?.status).toBe("passed");
  });

  it("--list prints the case ids and runs nothing", async () => {
    const r = await cli("--list", "./reference/reference-heap.ts");
    expect(r.status).toBe(EXIT_OK);
    expect(r.stdout).toContain("  exporter.release.once  ");
    expect(r.stdout).not.toContain("✓");
  });

  it.each([
    [[], "give exactly one module"],
    [["a.js", "b.js"], "give exactly one module"],
    [["--bogus", "a.js"], "unknown option --bogus"],
    [["--profile", "5.4", "a.js"], "--profile must be"],
    [["--kernel-config", "{", "a.js"], "--kernel-config is not JSON"],
    [["./no/such/module.js"], "cannot load ./no/such/module.js"],
    [["./conformance/case.ts"], "exports no heap, exporter or importer to certify"],
    [["--timeout", "0", "a.js"], "--timeout takes a positive number of milliseconds"],
    [["--kernel-config", "[1]", "a.js"], "--kernel-config must be a JSON object"],
    [["no-such-package"], "no package of that name is installed in"],
  ])("exits 2 on usage errors: %j", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.status).toBe(EXIT_USAGE);
    expect(r.stderr).toContain(message);
  });

  it("--help prints the usage and exits 0", async () => {
    const r = await cli("--help");
    expect(r.status).toBe(EXIT_OK);
    expect(r.stdout).toContain("Usage: dmabuf-conformance [options] <module>");
  });

  it("a module's `conformance` export says what to run", async () => {
    const r = await cli("--json", "./cli/fixtures/declared-targets.ts");
    const doc = JSON.parse(r.stdout) as CliJsonReport;
    expect(doc.reports.map((x) => [x.suite, x.target])).toEqual([
      ["heap", "video"],
      ["importer", "reference-importer"],
    ]);
    expect(r.status).toBe(EXIT_OK);
  });

  it("reports a plugin whose kernel cannot boot as a failure", async () => {
    const r = await cli("--json", "./cli/fixtures/unbootable.ts");
    const doc = JSON.parse(r.stdout) as CliJsonReport;
    expect(doc.errors.map((e) => e.target)).toEqual(["NamelessHeap"]);
    expect(r.status).toBe(EXIT_FAILED);
  });

  it("a plugin's process.exit, self-kill or stray async error fails its case; the run goes on", async () => {
    const exit = process.exit;
    const kill = process.kill;
    const r = await cli(
      "--json",
      "--case",
      "heap.ioctl.alloc",
      "--case",
      "heap.alloc.page-rounding",
      "./cli/fixtures/escaping-heaps.mjs",
    );
    expect(r.status).toBe(EXIT_FAILED);
    const doc = JSON.parse(r.stdout) as CliJsonReport;
    const failures = doc.reports.map((x) => [
      x.target,
      x.results.map((c) => [c.id, c.failure?.code, c.failure?.message.split(" (refused")[0]]),
    ]);
    const thrown = (what: string) =>
      "an error was thrown asynchronously, by a timer, callback or promise the plugin left " +
      `running: ${what} (3 times)`;
    expect(failures).toEqual([
      [
        "exiting",
        [
          ["heap.ioctl.alloc", "PROCESS_EXIT", "the plugin called process.exit(3)"],
          ["heap.alloc.page-rounding", "PROCESS_EXIT", "the plugin called process.exit(3)"],
        ],
      ],
      [
        "self_killing",
        [
          [
            "heap.ioctl.alloc",
            "PROCESS_EXIT",
            'the plugin called process.kill(process.pid, "SIGTERM")',
          ],
          [
            "heap.alloc.page-rounding",
            "PROCESS_EXIT",
            'the plugin called process.kill(process.pid, "SIGTERM")',
          ],
        ],
      ],
      [
        "stray_callback",
        [
          ["heap.ioctl.alloc", "ASYNC_ERROR", thrown("stray callback of the heap")],
          ["heap.alloc.page-rounding", "ASYNC_ERROR", expect.stringContaining("stray callback")],
        ],
      ],
      [
        "stray_rejection",
        [
          ["heap.ioctl.alloc", "ASYNC_ERROR", thrown("stray rejection of the heap")],
          ["heap.alloc.page-rounding", "ASYNC_ERROR", expect.stringContaining("stray rejection")],
        ],
      ],
    ]);
    expect(doc.escapes).toEqual([]);
    expect(doc.ok).toBe(false);
    // The process's own exit, kill and error handling are given back.
    expect(process.exit).toBe(exit);
    expect(process.kill).toBe(kill);
  });

  // The bin users run: the file package.json names (the bundled CLI).
  const bin = `${pkg}/${(JSON.parse(readFileSync(`${pkg}/package.json`, "utf8")) as { bin: Record<string, string> }).bin["dmabuf-conformance"]}`;
  it.skipIf(!existsSync(bin))(
    "a case that never returns is stopped at --timeout, fails with TIMEOUT, and the run goes on",
    () => {
      const looping = `${pkg}/src/cli/fixtures/retries-forever.mjs`;
      const r = spawnSync(process.execPath, [bin, "--json", "--timeout", "3000", looping], {
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(r.status).toBe(EXIT_FAILED);
      const doc = JSON.parse(r.stdout) as CliJsonReport;
      const results = doc.reports[0]?.results ?? [];
      expect(
        results.filter((x) => x.status === "failed").map((x) => [x.id, x.failure?.code]),
      ).toEqual([["heap.alloc.enomem", "TIMEOUT"]]);
      // Every case after the stopped one still ran.
      expect(results.at(-1)?.id).toBe(heapConformanceCases.at(-1)?.id);
      expect(doc.passed).toBeGreaterThan(30);
    },
    150_000,
  );

  it.skipIf(!existsSync(bin))(
    "the built bin: process.exit in a case fails it and the run goes on to the end",
    () => {
      const fixture = `${pkg}/src/cli/fixtures/escaping-heaps.mjs`;
      const r = spawnSync(process.execPath, [bin, "--case", "heap.ioctl.alloc", fixture], {
        encoding: "utf8",
      });
      expect(r.status).toBe(EXIT_FAILED);
      expect(r.stdout).toContain(
        "  ✗ heap.ioctl.alloc [PROCESS_EXIT]\n      ALLOC returns a dma-buf fd of the requested size\n" +
          "      the plugin called process.exit(3) (refused: the call threw into the plugin)",
      );
      expect(r.stdout).toMatch(/\n0 passed, 4 failed, 0 skipped\n$/);
    },
    60_000,
  );

  it.skipIf(!existsSync(bin))(
    "the built bin: a timer that throws after its case was reported fails the run, naming the case",
    () => {
      const fixture = `${pkg}/src/cli/fixtures/late-timer-heap.mjs`;
      const argv = [bin, "--json", "--case", "heap.ioctl.", "--case", "heap.alloc.page-", fixture];
      const r = spawnSync(process.execPath, argv, { encoding: "utf8" });
      expect(r.status).toBe(EXIT_FAILED);
      const doc = JSON.parse(r.stdout) as CliJsonReport;
      expect(doc.escapes).toEqual([
        {
          code: "ASYNC_ERROR",
          from: "late_timer: heap.ioctl.alloc",
          message:
            "an error was thrown asynchronously, by a timer, callback or promise the plugin " +
            "left running: late timer of the heap (after the case was reported)",
        },
      ]);
      expect(doc.failed).toBe(0);
      expect(doc.ok).toBe(false);
      const text = spawnSync(
        process.execPath,
        argv.filter((a) => a !== "--json"),
        {
          encoding: "utf8",
        },
      );
      expect(text.stdout).toContain(
        "✗ late_timer: heap.ioctl.alloc [ASYNC_ERROR] an error was thrown asynchronously",
      );
      expect(text.stdout).toMatch(/, 1 outside their case\n$/);
    },
    60_000,
  );

  it.skipIf(!existsSync(bin))(
    "the built bin: what a plugin leaves running after the run is reported and ended (exit 1)",
    () => {
      const fixture = `${pkg}/src/cli/fixtures/lingering-heap.mjs`;
      const r = spawnSync(process.execPath, [bin, "--case", "heap.ioctl.alloc", fixture], {
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(r.stdout).toMatch(/\n1 passed, 0 failed, 0 skipped\n$/);
      expect(r.stderr).toBe(
        "dmabuf-conformance: after the run, an error was thrown asynchronously by a timer, " +
          "callback or promise a plugin left running: timer of the heap after the run\n" +
          "dmabuf-conformance: 1000 ms after the run, a plugin still keeps timers or handles " +
          "running; ending the process\n",
      );
      expect(r.status).toBe(EXIT_FAILED);
    },
    60_000,
  );

  it.skipIf(!existsSync(bin))(
    "a .ts path without tsx installed says how to fix it",
    () => {
      const r = spawnSync(process.execPath, [bin, "./src/reference/reference-heap.ts"], {
        encoding: "utf8",
        cwd: pkg,
      });
      expect(r.status).toBe(EXIT_USAGE);
      expect(r.stderr).toContain(
        "cannot load ./src/reference/reference-heap.ts: Node runs JavaScript",
      );
      expect(r.stderr).toContain("e.g. ./dist/reference/reference-heap.js");
    },
    60_000,
  );

  it.skipIf(!existsSync(bin))(
    "package names resolve from the current directory",
    () => {
      const r = spawnSync(
        process.execPath,
        [bin, "--case", "heap.naming.name", "@dmabuf/heaps-system"],
        {
          encoding: "utf8",
          cwd: pkg,
        },
      );
      expect(r.stdout).toContain("heap conformance: system");
      expect(r.status).toBe(EXIT_OK);
    },
    60_000,
  );

  it.skipIf(!existsSync(bin))(
    "the built bin runs under plain node (no vitest)",
    () => {
      const zoo = `${pkg}/dist/zoo/unsynced.js`;
      const r = spawnSync(process.execPath, [bin, zoo], { encoding: "utf8" });
      expect(r.status).toBe(EXIT_FAILED);
      expect(r.stdout).toContain("✗ exporter.cpu.syncs-mapped-attachments [EXPECTATION_FAILED]");
    },
    60_000,
  );
});
