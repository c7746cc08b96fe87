// Runs one fuzz sequence on a fresh world, checking the invariants after every step; the
// result names the first violation, with the step that caused it.

import { KernelError } from "@dmabuf/core";
import { checkEmpty, checkWorld, snapshotDiff, snapshots } from "./invariants.js";
import type { Op } from "./ops.js";
import { apply, makeWorld, teardown } from "./world.js";

/** Operations that are one syscall or one in-kernel call: a failure must change nothing. */
const ATOMIC = new Set<Op["t"]>([
  "alloc",
  "close",
  "dup",
  "send",
  "mmap",
  "munmap",
  "sync",
  "setName",
  "ioctl",
  "exportSync",
  "read",
  "import",
  "vmap",
  "memfd",
]);

/** What one sequence did. */
export interface RunResult {
  /** Operations executed. */
  readonly steps: number;
  /** The first violation, or null. */
  readonly finding: string | null;
}

/** Runs `ops` on a fresh world. Never throws: every failure is a finding. */
export function runSequence(ops: readonly Op[]): RunResult {
  const w = makeWorld();
  let steps = 0;
  for (const op of ops) {
    steps++;
    const before = ATOMIC.has(op.t) ? snapshots(w) : null;
    let err: unknown;
    try {
      err = apply(w, op);
    } catch (e) {
      return { steps, finding: `step ${steps} ${JSON.stringify(op)}: threw ${describe(e)}` };
    }
    if (err instanceof KernelError && before) {
      const diff = snapshotDiff(before, snapshots(w));
      if (diff.length > 0) {
        return {
          steps,
          finding: `step ${steps} ${JSON.stringify(op)} failed with ${err.code} but changed ${diff.join("; ")}`,
        };
      }
    }
    const bad = checkWorld(w);
    if (bad.length > 0)
      return { steps, finding: `after step ${steps} ${JSON.stringify(op)}: ${bad.join("; ")}` };
  }
  try {
    teardown(w);
  } catch (e) {
    return { steps, finding: `teardown threw ${describe(e)}` };
  }
  const bad = checkEmpty(w);
  return { steps, finding: bad.length > 0 ? `after teardown: ${bad.join("; ")}` : null };
}

function describe(e: unknown): string {
  if (e instanceof Error)
    return `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split("\n").slice(1, 4).join("\n")}` : ""}`;
  return String(e);
}
