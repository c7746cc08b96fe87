// Model-based fuzzing, bounded: random sequences over two kernels must keep every invariant.
// A failure prints the seed, the path and the shrunk sequence; replay with FUZZ_SEED/FUZZ_PATH.

import type { Process } from "@dmabuf/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEmpty, checkWorld } from "./invariants.js";
import { sequenceArb } from "./ops.js";
import { runSequence } from "./run.js";
import { apply, crossKernelSendRefused, type KernelState, makeWorld, teardown } from "./world.js";

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const path = process.env.FUZZ_PATH;

describe("model-based fuzzing (bounded)", () => {
  it("random syscall, import and device sequences keep every invariant", () => {
    fc.assert(
      fc.property(sequenceArb, (ops) => {
        const r = runSequence(ops);
        if (r.finding) throw new Error(r.finding);
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 300),
        ...(seed !== undefined ? { seed } : {}),
        ...(path ? { path } : {}),
      },
    );
  }, 60_000);

  it("the checks are not vacuous: a leaked reference and a foreign fd are caught", () => {
    expect(
      runSequence([{ t: "alloc", k: 0, p: 0, heap: 0, len: 4096, fdFlags: 2 }]).finding,
    ).toBeNull();
    const w = makeWorld();
    const ks = w.kernels[0] as KernelState;
    expect(apply(w, { t: "alloc", k: 0, p: 0, heap: 0, len: 8192, fdFlags: 2 })).toBeNull();
    const root = ks.procs[0] as Process;
    const fd = root.fds()[0] as number;
    expect(checkWorld(w)).toEqual([]);
    const leaked = ks.kernel.dmaBuf.get(root, fd);
    expect(checkWorld(w)).toEqual([`kernel 0: buffer ${leaked.ino} has 2 references, 1 accounted`]);
    teardown(w);
    expect(checkEmpty(w).join()).toContain("2 pages leaked");
    // An fd of kernel 0 installed in kernel 1 (what a cross-kernel sendFd must never do).
    const w2 = makeWorld();
    apply(w2, { t: "alloc", k: 0, p: 0, heap: 0, len: 4096, fdFlags: 2 });
    const src = (w2.kernels[0] as KernelState).procs[0] as Process;
    const dst = (w2.kernels[1] as KernelState).procs[0] as Process;
    dst.installFd(src.fileOf(src.fds()[0] as number).get(), 0);
    expect(checkWorld(w2).join()).toContain("kernel 1: pid 1 fd 0 is a dma-buf of kernel 0");
    expect(typeof crossKernelSendRefused()).toBe("boolean");
  });
});
