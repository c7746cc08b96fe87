// dmabuf-heap.c compiled to wasm (exact interception) against the same selftest re-expressed in
// TypeScript: what running a C program against the model costs over writing the test in TS.

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

/** The row, when Debian's linux-source-6.12 is installed (else none, said on stderr). */
export function wasmSelftestRows(): Row[] {
  const source = obtainKernelSource("6.12", join(cacheDir, "linux-source"));
  if ("missing" in source) {
    process.stderr.write(`  (wasm-vs-TS row skipped: ${source.missing})\n`);
    return [];
  }
  return [
    {
      name: "dmabuf-heap.c in wasm (exact) vs its TS re-expression",
      baseline: "the same steps in TypeScript (dmabuf-heap-ts.ts)",
      unit: "s",
      goal: null,
      rounds: 3,
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
        const boot = () => createKernel({ plugins: [SystemHeap, Vgem] });
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
