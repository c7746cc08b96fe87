// Host memory per touched page: one byte written per 2 MiB of a 64 GiB kernel, in a fresh process.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Row } from "./table.js";

const probe = fileURLToPath(new URL("./memory-probe.js", import.meta.url));

/** The host-memory row: each round is a fresh process, so freed memory of others is not reused. */
export function memoryRows(): Row[] {
  return [
    {
      name: "host memory, one byte written per 2 MiB of a 64 GiB kernel (RSS growth)",
      baseline: "the pages touched",
      unit: "B/page",
      goal: 2,
      rounds: 3,
      warmup: false,
      prepare() {
        let pageSize = 0;
        return {
          ours: () => {
            const out = JSON.parse(
              execFileSync(process.execPath, [probe], { encoding: "utf8" }),
            ) as {
              perPage: number;
              pageSize: number;
            };
            pageSize = out.pageSize;
            return out.perPage;
          },
          base: () => pageSize,
        };
      },
    },
  ];
}
