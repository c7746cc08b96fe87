// The kernel's own dma-buf selftests (linux-source-6.12, obtained at test time) against the model.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createKernel, type KernelVersion } from "@dmabuf/core";
import { Vgem } from "@dmabuf/devices";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { beforeAll, describe, expect, it } from "vitest";
import { compileC } from "../compile.js";
import { runWasm } from "../runtime.js";
import {
  type KernelSource,
  obtainKernelSource,
  selftestTree,
  UAPI_DEFINES,
  uapiIncludeTree,
} from "./kernel-sources.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const cacheDir = join(repo, ".cache");
const found = obtainKernelSource("6.12", join(cacheDir, "linux-source"));
const source: KernelSource | undefined = "root" in found ? found : undefined;
const why = "missing" in found ? found.missing : "";

// Our own fork-free runner for the sync tests: it calls each test function in-process (the
// kernel's sync_test.c forks once per test, which WASI cannot do). The test files themselves are
// compiled unmodified.
const SYNC_RUNNER = `
#include "kselftest.h"
#include "synctest.h"
static void check(int (*test)(void), const char *name) {
  if (test() == 0) ksft_test_result_pass("%s\\n", name);
  else ksft_test_result_fail("%s\\n", name);
}
int main(void) {
  ksft_print_header();
  ksft_set_plan(7);
  check(test_alloc_timeline, "test_alloc_timeline");
  check(test_alloc_fence, "test_alloc_fence");
  check(test_alloc_fence_negative, "test_alloc_fence_negative");
  check(test_fence_one_timeline_wait, "test_fence_one_timeline_wait");
  check(test_fence_one_timeline_merge, "test_fence_one_timeline_merge");
  check(test_fence_merge_same_fence, "test_fence_merge_same_fence");
  check(test_fence_multi_timeline_wait, "test_fence_multi_timeline_wait");
  ksft_finished();
}
`;

function totals(stdout: string): string {
  return stdout.match(/^# Totals: .*$/m)?.[0] ?? `(no totals line in)\n${stdout}`;
}

describe.skipIf(!source)(`kernel selftests from linux-source-6.12 ${why}`, () => {
  const modules: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    const src = source as KernelSource;
    const files = { inc: uapiIncludeTree(src), st: selftestTree(src) };
    const common = { files, includeDirs: ["inc"], defines: UAPI_DEFINES, cacheDir };
    modules.heap = await compileC({ ...common, sources: ["st/dmabuf-heaps/dmabuf-heap.c"] });
    modules.udmabuf = await compileC({ ...common, sources: ["st/drivers/dma-buf/udmabuf.c"] });
    modules.sync = await compileC({
      ...common,
      files: {
        ...files,
        st: { ...files.st, sync: { ...(files.st.sync as object), "runner.c": SYNC_RUNNER } },
      },
      includeDirs: ["inc", "st", "st/sync"],
      sources: [
        "sync.c",
        "sync_alloc.c",
        "sync_fence.c",
        "sync_merge.c",
        "sync_wait.c",
        "runner.c",
      ].map((f) => `st/sync/${f}`),
    });
  }, 600_000);

  // The default profile and the one of the kernel the tests come from.
  const profiles: (KernelVersion | undefined)[] = [undefined, "6.12"];

  it.each(profiles)(
    "dmabuf-heap.c passes on the system heap with vgem, no skip (profile %s)",
    (profile) => {
      const kernel = createKernel({ profile, plugins: [SystemHeap, Vgem] });
      const r = runWasm(kernel, modules.heap as Uint8Array, { argv0: "dmabuf-heap" });
      expect(totals(r.stdout)).toBe("# Totals: pass:11 fail:0 xfail:0 xpass:0 skip:0 error:0");
      expect(r.stdout).toContain("ok 1 Import buffer 0\n");
      expect(r.exitCode).toBe(0);
      // The selftest closes its GEM handle: nothing stays attached to vgem.
      expect(kernel.plugin(Vgem).imports()).toEqual([]);
    },
    300_000,
  );

  it("dmabuf-heap.c skips its import step without a DRM node, as on a kernel without vgem", () => {
    const kernel = createKernel({ plugins: [SystemHeap] });
    const r = runWasm(kernel, modules.heap as Uint8Array, { argv0: "dmabuf-heap" });
    expect(totals(r.stdout)).toBe("# Totals: pass:10 fail:0 xfail:0 xpass:0 skip:1 error:0");
    expect(r.stdout).toContain("ok 1 # SKIP Could not open vgem");
  }, 300_000);

  it("dmabuf-heap.c passes on the system and CMA heaps", () => {
    const kernel = createKernel({ cma: { size: "64MiB" }, plugins: [SystemHeap, CmaHeap] });
    const r = runWasm(kernel, modules.heap as Uint8Array, { argv0: "dmabuf-heap" });
    expect(r.stdout).toMatch(/# Testing heap: system\n/);
    expect(r.stdout).toMatch(/# Testing heap: default_cma_region\n/);
    expect(totals(r.stdout)).toMatch(
      /^# Totals: pass:\d+ fail:0 xfail:0 xpass:0 skip:\d+ error:0$/,
    );
    expect(r.exitCode).toBe(0);
  }, 600_000);

  it.each(profiles)(
    "udmabuf.c passes 6/6 with huge pages reserved (profile %s)",
    (profile) => {
      const kernel = createKernel({ profile, ram: "3GiB", hugepages: 1024 });
      const r = runWasm(kernel, modules.udmabuf as Uint8Array, { argv0: "udmabuf" });
      expect(totals(r.stdout)).toBe("# Totals: pass:6 fail:0 xfail:0 xpass:0 skip:0 error:0");
      expect(r.exitCode).toBe(0);
    },
    300_000,
  );

  it("udmabuf.c fails its huge-page test without reserved huge pages, as Linux does", () => {
    const kernel = createKernel({});
    const r = runWasm(kernel, modules.udmabuf as Uint8Array, { argv0: "udmabuf" });
    expect(r.stdout).toContain("ok 5 ");
    expect(r.stdout).not.toContain("ok 6 ");
    expect(r.exitCode).not.toBe(0);
  }, 300_000);

  it.each(profiles)(
    "the sync tests pass 7/7 (profile %s)",
    (profile) => {
      const kernel = createKernel({ profile });
      const r = runWasm(kernel, modules.sync as Uint8Array, { argv0: "sync_test" });
      expect(totals(r.stdout)).toBe("# Totals: pass:7 fail:0 xfail:0 xpass:0 skip:0 error:0");
      expect(r.exitCode).toBe(0);
    },
    300_000,
  );
});
