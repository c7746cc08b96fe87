// The long fuzz campaign (`pnpm fuzz [sequences] [--seconds N]`): one worker thread per core,
// each checking batches of random sequences with its own seeds; prints sequences run,
// executions (operations) per second and every finding with its seed, path and shrunk sequence.

import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import fc from "fast-check";
import { sequenceArb } from "./ops.js";
import { runSequence } from "./run.js";
import { crossKernelSendRefused, mmapBoundariesFixed } from "./world.js";

const BATCH = 200;

/** What a worker reports after each batch. */
interface BatchReport {
  sequences: number;
  steps: number;
  finding: { seed: number; path: string; message: string; shrunk: string } | null;
}

function workerLoop(first: number, stride: number): void {
  const port = parentPort;
  if (!port) return;
  let seed = first;
  const runBatch = () => {
    let steps = 0;
    let sequences = 0;
    let message = "";
    const out = fc.check(
      fc.property(sequenceArb, (ops) => {
        const r = runSequence(ops);
        steps += r.steps;
        sequences++;
        if (r.finding) {
          message = r.finding;
          return false;
        }
        return true;
      }),
      { numRuns: BATCH, seed },
    );
    const report: BatchReport = {
      sequences,
      steps,
      finding: out.failed
        ? {
            seed,
            path: out.counterexamplePath ?? "",
            message,
            shrunk: fc.stringify(out.counterexample),
          }
        : null,
    };
    seed += stride;
    port.postMessage(report);
  };
  port.on("message", (m: string) => (m === "more" ? runBatch() : process.exit(0)));
  runBatch();
}

function main(): void {
  const args = process.argv.slice(2);
  const sIdx = args.indexOf("--seconds");
  const seconds = sIdx >= 0 ? Number(args[sIdx + 1]) : Number.POSITIVE_INFINITY;
  const target = Number(
    args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== "--seconds") ?? 100_000,
  );
  const threads = availableParallelism();
  const base = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000_000);
  console.log(
    `fuzz: ${threads} workers, target ${target} sequences${Number.isFinite(seconds) ? ` or ${seconds} s` : ""}, base seed ${base}, cross-kernel fd passing ${crossKernelSendRefused() ? "fuzzed" : "NOT fuzzed (this build accepts it: issue 11 point 1)"}, mmap lengths ${mmapBoundariesFixed() ? "unbounded" : "0..16 MiB only (negative/huge lengths fail badly in this build: issue 11 point 5)"}`,
  );
  const start = performance.now();
  let sequences = 0;
  let steps = 0;
  let lastPrint = start;
  const findings: NonNullable<BatchReport["finding"]>[] = [];
  let live = threads;
  const file = fileURLToPath(import.meta.url);
  for (let t = 0; t < threads; t++) {
    const w = new Worker(file, { workerData: { first: base + t, stride: threads } });
    w.on("message", (r: BatchReport) => {
      sequences += r.sequences;
      steps += r.steps;
      if (r.finding) {
        findings.push(r.finding);
        console.log(
          `FINDING (replay: FUZZ_SEED=${r.finding.seed} FUZZ_PATH=${r.finding.path} pnpm exec vitest run packages/testing/src/fuzz)\n  ${r.finding.message}\n  shrunk: ${r.finding.shrunk}`,
        );
      }
      const now = performance.now();
      if (now - lastPrint > 10_000) {
        lastPrint = now;
        const s = (now - start) / 1000;
        console.log(
          `  ${sequences} sequences, ${steps} executions, ${Math.round(steps / s)} exec/s, ${findings.length} findings`,
        );
      }
      const done = sequences >= target || (now - start) / 1000 >= seconds;
      w.postMessage(done ? "stop" : "more");
    });
    w.on("exit", () => {
      if (--live > 0) return;
      const s = (performance.now() - start) / 1000;
      console.log(
        `fuzz: ${sequences} sequences, ${steps} executions in ${s.toFixed(1)} s (${Math.round(steps / s)} exec/s, ${Math.round(sequences / s)} sequences/s), ${findings.length} findings`,
      );
      process.exitCode = findings.length > 0 ? 1 : 0;
    });
  }
}

if (isMainThread) main();
else workerLoop((workerData as { first: number }).first, (workerData as { stride: number }).stride);
