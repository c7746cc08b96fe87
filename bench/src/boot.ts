// Boot cost: createKernel with the system heap at 64 MiB, 1 GiB and 64 GiB of simulated RAM.

import { createKernel } from "@dmabuf/core";
import { SystemHeap } from "@dmabuf/heaps-system";
import { lcgOp, nsPerOp, nsPerOpFor, type Row } from "./table.js";

/** Milliseconds each round boots kernels for. */
const ROUND_MS = 60;

function bootUs(ram: string): number {
  return nsPerOpFor(() => createKernel({ ram, plugins: [SystemHeap] }), ROUND_MS) / 1000;
}

/** The boot-cost rows. */
export function bootRows(): Row[] {
  const vs64 = (ram: string): Row => ({
    name: `createKernel ${ram} (system heap)`,
    baseline: "createKernel 64MiB",
    unit: "µs",
    goal: 1.5,
    rounds: 9,
    prepare: () => ({ ours: () => bootUs(ram), base: () => bootUs("64MiB") }),
  });
  return [
    {
      name: "createKernel 64MiB (system heap)",
      baseline: "2,000 LCG steps (plain JS)",
      unit: "µs",
      goal: null,
      prepare: () => ({
        ours: () => bootUs("64MiB"),
        base: () => nsPerOp(lcgOp, 1000) / 1000,
      }),
    },
    vs64("1GiB"),
    vs64("64GiB"),
  ];
}
