// Whole-process wall time: the conformance CLI on the example heap and, on request, the unit tests.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Row } from "./table.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function wallMs(cmd: string, args: readonly string[], cwd = root): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, stdio: "ignore" });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}`);
  return performance.now() - t0;
}

/** The conformance CLI as installed: the `dmabuf-conformance` bin of @dmabuf/testing. */
function conformanceBin(): string {
  const pkg = JSON.parse(readFileSync(`${root}packages/testing/package.json`, "utf8")) as {
    bin: Record<string, string>;
  };
  return `packages/testing/${pkg.bin["dmabuf-conformance"]}`;
}

/** The wall-time rows; the test-suite row only with `suite` (it takes minutes). */
export function wallRows(suite: boolean): Row[] {
  const node = process.execPath;
  const bare = () => wallMs(node, ["-e", ""]);
  const cli = conformanceBin();
  const rows: Row[] = [
    {
      // What every user of the library pays first: resolving and loading the package's entry
      // (from a package that depends on it, as a user's project does).
      name: "import('@dmabuf/core') in a fresh node",
      baseline: 'node -e ""',
      unit: "ms",
      goal: null,
      rounds: 7,
      prepare: () => ({
        ours: () =>
          wallMs(
            node,
            ["--input-type=module", "-e", 'await import("@dmabuf/core")'],
            `${root}packages/testing`,
          ),
        base: bare,
      }),
    },
    {
      name: "conformance CLI certifying the example heap",
      baseline: 'node -e ""',
      unit: "ms",
      goal: 2.5,
      rounds: 5,
      prepare: () => ({
        ours: () => wallMs(node, [cli, "docs/examples/acme-heap/dist/index.js"]),
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
        ours: () => wallMs(node, [cli, "--list", "docs/examples/acme-heap/dist/index.js"]),
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
