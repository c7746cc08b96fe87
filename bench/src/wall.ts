// Whole-process wall time: the conformance CLI on the example heap and, on request, the unit tests.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Row } from "./table.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function wallMs(cmd: string, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: "ignore" });
  if (r.error) throw r.error;
  return performance.now() - t0;
}

/** The wall-time rows; the test-suite row only with `suite` (it takes minutes). */
export function wallRows(suite: boolean): Row[] {
  const node = process.execPath;
  const bare = () => wallMs(node, ["-e", ""]);
  const rows: Row[] = [
    {
      name: "conformance CLI certifying the example heap",
      baseline: 'node -e ""',
      unit: "ms",
      goal: 2.5,
      rounds: 5,
      prepare: () => ({
        ours: () =>
          wallMs(node, ["packages/testing/dist/cli.js", "docs/examples/acme-heap/dist/index.js"]),
        base: bare,
      }),
    },
    {
      // The same start without running a case: loading the module graph and preparing the
      // suites, apart from what the cases cost.
      name: "conformance CLI listing the example heap's cases (--list)",
      baseline: 'node -e ""',
      unit: "ms",
      goal: null,
      rounds: 5,
      prepare: () => ({
        ours: () =>
          wallMs(node, [
            "packages/testing/dist/cli.js",
            "--list",
            "docs/examples/acme-heap/dist/index.js",
          ]),
        base: bare,
      }),
    },
  ];
  if (suite) {
    rows.push({
      name: "pnpm unit (vitest run)",
      baseline: 'node -e ""',
      unit: "ms",
      goal: null,
      rounds: 1,
      warmup: false,
      prepare: () => ({
        ours: () => wallMs(node, ["node_modules/vitest/vitest.mjs", "run"]),
        base: bare,
      }),
    });
  }
  return rows;
}
