// dmabuf-conformance with default options rejects every zoo plugin on exactly its cases, and passes the good ones.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exporterZoo, heapZoo, importerZoo, type ZooEntry } from "../zoo/index.js";
import { EXIT_FAILED, EXIT_OK, runCli } from "./run.js";

const src = fileURLToPath(new URL("..", import.meta.url));
const pkg = fileURLToPath(new URL("../..", import.meta.url));

/** The module of every zoo entry, as given on the command line (from src/). One row each. */
const ZOO_MODULES: Readonly<Record<string, string>> = {
  NotZeroingHeap: "./zoo/not-zeroing.ts",
  ReversedTableHeap: "./zoo/reversed-table.ts",
  LeakOnEnomemHeap: "./zoo/leak-on-enomem.ts",
  DoubleReleaseHeap: "./zoo/double-release.ts",
  SharedTableHeap: "./zoo/shared-table.ts",
  UnsyncedHeap: "./zoo/unsynced.ts",
  ScatteredContiguousHeap: "./zoo/scattered-contiguous.ts",
  WrongErrnoHeap: "./zoo/wrong-errno.ts",
  RevalidatingFlagsHeap: "./zoo/revalidating-flags.ts",
  WrongExpNameHeap: "./zoo/wrong-exp-name.ts",
  ShortTableHeap: "./zoo/short-table.ts",
  IgnoresPgoffHeap: "./zoo/ignores-pgoff.ts",
  NeverSyncsHeap: "./zoo/never-syncs.ts",
  SwappedSyncHeap: "./zoo/swapped-sync.ts",
  FixedDirectionSyncHeap: "./zoo/fixed-direction-sync.ts",
  WrongUnmapDirectionHeap: "./zoo/wrong-unmap-direction.ts",
  LeakOnEintrHeap: "./zoo/leak-on-eintr.ts",
  LeakOnSgFailHeap: "./zoo/leak-on-sg-fail.ts",
  LeakyReleaseCmaHeap: "./zoo/leaky-release-cma.ts",
  CachedUncachedHeap: "./zoo/cached-uncached.ts",
  UnflushedUncachedHeap: "./zoo/unflushed-uncached.ts",
  CachingExporter: "./zoo/caching-exporter.ts",
  NoReferenceImporter: "./zoo/no-reference-importer.ts",
  NoDetachImporter: "./zoo/no-detach-importer.ts",
  KeepsMappingImporter: "./zoo/keeps-mapping-importer.ts",
  PutBeforeDetachImporter: "./zoo/put-before-detach-importer.ts",
  WrongDirectionImporter: "./zoo/wrong-direction-importer.ts",
  UnfencedImporter: "./zoo/unfenced-importer.ts",
  StaleMappingImporter: "./zoo/stale-mapping-importer.ts",
  ReleaseWhileBusyImporter: "./zoo/release-while-busy-importer.ts",
  ReadersIgnoredImporter: "./zoo/readers-ignored-importer.ts",
  LeakOnAttachErrorImporter: "./zoo/leak-on-attach-error-importer.ts",
  UndeclaredAsyncImporter: "./zoo/undeclared-async-importer.ts",
};

/** Good plugins: the CLI passes each (every suite it runs, no boot error). */
const PASSING_MODULES: readonly string[] = [
  "./reference/reference-heap.ts",
  "./reference/reference-importer.ts",
  "@dmabuf/heaps-system",
  "./cli/fixtures/shipped-plugins.ts",
  "../../../docs/examples/acme-heap/src/index.ts",
];

/** Runs the CLI in this thread with no option but the module. */
async function cli(module: string) {
  let stdout = "";
  const status = await runCli([module], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: () => {},
    cwd: src,
    typescriptLoader: true,
  });
  return { status, stdout };
}

/** The failed cases of a text report, as `[id, "CODE"]` or `[id, "CODE ERRNO"]`, in order. */
function failedCases(stdout: string): [string, string][] {
  return [...stdout.matchAll(/^ {2}✗ (\S+) \[(\w+(?: \w+)?)\]$/gm)].map(
    (m) => [m[1], m[2]] as [string, string],
  );
}

const zoo: readonly ZooEntry[] = [...heapZoo, ...exporterZoo, ...importerZoo];

describe("dmabuf-conformance with default options, over the zoo", () => {
  it("has a module row for every zoo entry and no other", () => {
    expect(Object.keys(ZOO_MODULES).sort()).toEqual(zoo.map((z) => z.name).sort());
  });

  for (const entry of zoo) {
    it(`rejects ${entry.name} on exactly ${entry.catches.join(", ")}`, async () => {
      const module = ZOO_MODULES[entry.name];
      if (module === undefined) throw new Error(`no module row for ${entry.name}`);
      const r = await cli(module);
      expect(r.status).toBe(EXIT_FAILED);
      const failed = failedCases(r.stdout);
      expect(failed.map(([id]) => id).sort()).toEqual([...entry.catches].sort());
      const tag = entry.errorCode ? `${entry.code} ${entry.errorCode}` : entry.code;
      expect(failed.find(([id]) => id === entry.catches[0])?.[1]).toBe(tag);
    }, 60_000);
  }

  for (const module of PASSING_MODULES) {
    it(`passes ${module}`, async () => {
      const r = await cli(module);
      expect(failedCases(r.stdout)).toEqual([]);
      expect(r.stdout).not.toContain("cannot boot");
      expect(r.stdout).toMatch(/\d+ passed, 0 failed, \d+ skipped\n$/);
      expect(r.status).toBe(EXIT_OK);
    }, 60_000);
  }

  it("refuses a heap that registers no heap with the default kernel, instead of passing it", async () => {
    const r = await cli("@dmabuf/heaps-cma");
    expect(r.status).toBe(EXIT_FAILED);
    expect(r.stdout).toContain(
      "✗ CmaHeap: cannot boot a kernel with it: it registers no heap in kernel 6.18, ram 64MiB, 4KiB pages; export `conformance` with the kernelConfig (a CMA area, …) or plugin config it needs\n",
    );
  });

  // The bin users run: the file package.json names (the bundled CLI).
  const bin = `${pkg}/${(JSON.parse(readFileSync(`${pkg}/package.json`, "utf8")) as { bin: Record<string, string> }).bin["dmabuf-conformance"]}`;
  it.skipIf(!existsSync(bin))(
    "the built bin rejects a zoo heap with exit 1 (one real spawn)",
    () => {
      const r = spawnSync(process.execPath, [bin, `${pkg}/dist/zoo/leak-on-sg-fail.js`], {
        encoding: "utf8",
      });
      expect(r.status).toBe(EXIT_FAILED);
      expect(failedCases(r.stdout)).toEqual([["exporter.map.fault-walk", "LEAK"]]);
    },
    60_000,
  );
});
