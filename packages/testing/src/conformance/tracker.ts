// The checks after every case: every process exits, then the kernel must be as it booted.

import type { Kernel, KernelSnapshot } from "@dmabuf/core";
import {
  ConformanceFailure,
  describeError,
  describeHolders,
  errorCodeOf,
  snapshotDiff,
} from "./assert.js";

/** Prefix of the WARNs the dma-buf core logs when an importer or exporter breaks a rule. */
const DMA_BUF_WARNING = /^dma_buf_/;
/** Prefix of the lines a coherency checker (a cache model of `@dmabuf/devices`) logs. */
const COHERENCY = /^coherency: /;

interface Tracked {
  readonly kernel: Kernel;
  readonly baseline: KernelSnapshot;
  readonly logMark: number;
  readonly debugMark: number;
}

/**
 * Follows the kernels one case boots. After the case, {@link KernelTracker.verify} makes
 * every process exit and then requires each kernel to be back to its boot snapshot (no leaked
 * pages, files, buffers, references, attachments, mappings or fds), with no WARN from the
 * dma-buf core in its log, no coherency violation logged by a cache model, and no report of
 * DMA-API debugging.
 */
export class KernelTracker {
  readonly #tracked: Tracked[] = [];

  /** Starts following `kernel`; call right after boot, before anything runs in it. */
  track(kernel: Kernel): Kernel {
    this.#tracked.push({
      kernel,
      baseline: kernel.snapshot(),
      logMark: kernel.log.records.length,
      debugMark: kernel.dma.debug.reports.length,
    });
    return kernel;
  }

  /** The kernels followed so far, in boot order. */
  get kernels(): readonly Kernel[] {
    return this.#tracked.map((t) => t.kernel);
  }

  /**
   * Exits every process of every followed kernel, then checks for leaks and WARNs.
   * @throws ConformanceFailure LEAK (state not back to the boot snapshot, or an exit failed),
   * KERNEL_WARNING (the dma-buf core logged a WARN, or DMA-API debugging reported misuse,
   * during the case).
   */
  verify(): void {
    for (const [i, t] of this.#tracked.entries()) {
      const label = this.#tracked.length > 1 ? `kernel #${i + 1}: ` : "";
      for (const proc of [...t.kernel.processes().values()]) {
        try {
          proc.exit();
        } catch (e) {
          throw new ConformanceFailure(
            "LEAK",
            `${label}process ${proc.pid} (${proc.name}) could not exit cleanly: ${describeError(e)}`,
            errorCodeOf(e),
          );
        }
      }
      const diffs = snapshotDiff(t.baseline, t.kernel.snapshot());
      if (diffs.length > 0) {
        const held = describeHolders(t.kernel);
        throw new ConformanceFailure(
          "LEAK",
          `${label}after every process exited the kernel is not as it booted: ${diffs.join(", ")}${held ? ` (${held})` : ""}`,
        );
      }
      const warnings = t.kernel.log.records
        .slice(t.logMark)
        .filter(
          (r) => (r.level === "warn" && DMA_BUF_WARNING.test(r.text)) || COHERENCY.test(r.text),
        );
      if (warnings.length > 0) {
        throw new ConformanceFailure(
          "KERNEL_WARNING",
          `${label}the kernel warned: ${warnings.map((w) => w.text).join("; ")}`,
        );
      }
      const misuse = t.kernel.dma.debug.reports.slice(t.debugMark);
      if (misuse.length > 0) {
        throw new ConformanceFailure(
          "KERNEL_WARNING",
          `${label}DMA-API debugging warned: ${misuse.map((r) => `${r.code}: ${r.line}`).join("; ")}`,
          misuse[0]?.code,
        );
      }
    }
  }
}
