// The kernel's dmabuf-heap.c selftest compiled to wasm: exact interception (every access to
// mapped memory served by the model) against the same module whose hooks return at once, and
// against the same selftest re-expressed in TypeScript.

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
import { runDmabufHeapSelftestTs } from "./dmabuf-heap-ts.js";
import type { Row } from "./table.js";

const cacheDir = join(dirname(fileURLToPath(import.meta.url)), "../../.cache");

/** The rows, when Debian's linux-source-6.12 is installed (else none, said on stderr). */
export function wasmRows(): Row[] {
  const source = obtainKernelSource("6.12", join(cacheDir, "linux-source"));
  if ("missing" in source) {
    process.stderr.write(`  (wasm rows skipped: ${source.missing})\n`);
    return [];
  }
  let compiled: Promise<WebAssembly.Module> | undefined;
  const selftest = () => {
    compiled ??= compileC({
      files: { inc: uapiIncludeTree(source), st: selftestTree(source) },
      sources: ["st/dmabuf-heaps/dmabuf-heap.c"],
      includeDirs: ["inc"],
      defines: UAPI_DEFINES,
      cacheDir,
    }).then((wasm) => new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>));
    return compiled;
  };
  const boot = () => createKernel({ plugins: [SystemHeap, Vgem] });
  return [
    {
      name: "dmabuf-heap.c (kernel selftest) in wasm, exact interception",
      baseline: "the same module with no-op access hooks",
      unit: "s",
      goal: 2,
      rounds: 5,
      warmup: false,
      async prepare() {
        const module = await selftest();
        // Both must do the same work: the program passes all its tests either way (the no-op
        // run's windows read as zeroed memory, so its zero checks run to the end too).
        let expected: string | undefined;
        const run = (accessHooks: "exact" | "noop") => () => {
          const kernel = boot();
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
    {
      name: "dmabuf-heap.c in wasm (exact) vs its TS re-expression",
      baseline: "the same steps in TypeScript (dmabuf-heap-ts.ts)",
      unit: "s",
      goal: null,
      rounds: 3,
      warmup: false,
      async prepare() {
        const module = await selftest();
        let cResult = "";
        let tsResult = "";
        return {
          ours: () => {
            const kernel = boot();
            const t0 = performance.now();
            const r = runWasm(kernel, module, { argv0: "dmabuf-heap" });
            const s = (performance.now() - t0) / 1000;
            cResult =
              /Totals: pass:(\d+) fail:(\d+)/.exec(r.stdout)?.slice(1, 3).join("/") ??
              `exit ${r.exitCode}`;
            return s;
          },
          base: () => {
            const kernel = boot();
            const t0 = performance.now();
            const t = runDmabufHeapSelftestTs(kernel);
            const s = (performance.now() - t0) / 1000;
            tsResult = `${t.pass}/${t.fail}`;
            return s;
          },
          note: () => `pass/fail: C ${cResult}, TS ${tsResult}`,
        };
      },
    },
  ];
}
