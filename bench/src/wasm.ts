// The cost of exact interception: the kernel's dmabuf-heap.c selftest compiled to wasm, with
// every access to mapped memory served by the model, against the same module whose hooks return
// at once (what the instrumentation's calls alone cost).

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createKernel } from "@dmabuf/core";
import { Vgem } from "@dmabuf/devices";
import { SystemHeap } from "@dmabuf/heaps-system";
import {
  compileC,
  obtainKernelSource,
  runWasm,
  selftestTree,
  UAPI_DEFINES,
  uapiIncludeTree,
} from "@dmabuf/wasm";
import type { Row } from "./table.js";

const cacheDir = join(dirname(fileURLToPath(import.meta.url)), "../../.cache");

/** The row, when Debian's linux-source-6.12 is installed (else none, said on stderr). */
export function wasmRows(): Row[] {
  const source = obtainKernelSource("6.12", join(cacheDir, "linux-source"));
  if ("missing" in source) {
    process.stderr.write(`  (wasm row skipped: ${source.missing})\n`);
    return [];
  }
  return [
    {
      name: "dmabuf-heap.c (kernel selftest) in wasm, exact interception",
      baseline: "the same module with no-op access hooks",
      unit: "s",
      goal: 2,
      rounds: 5,
      warmup: false,
      async prepare() {
        const wasm = await compileC({
          files: { inc: uapiIncludeTree(source), st: selftestTree(source) },
          sources: ["st/dmabuf-heaps/dmabuf-heap.c"],
          includeDirs: ["inc"],
          defines: UAPI_DEFINES,
          cacheDir,
        });
        const module = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
        // Both must do the same work: the program passes all its tests either way (the no-op
        // run's windows read as zeroed memory, so its zero checks run to the end too).
        let expected: string | undefined;
        const run = (accessHooks: "exact" | "noop") => () => {
          const kernel = createKernel({ plugins: [SystemHeap, Vgem] });
          const t0 = performance.now();
          const r = runWasm(kernel, module, { argv0: "dmabuf-heap", accessHooks });
          const seconds = (performance.now() - t0) / 1000;
          expected ??= r.stdout;
          if (r.exitCode !== 0 || r.stdout !== expected) {
            throw new Error(`dmabuf-heap (${accessHooks}) did not pass as the other run did`);
          }
          return seconds;
        };
        return { ours: run("exact"), base: run("noop") };
      },
    },
  ];
}
