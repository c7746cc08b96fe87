// DMA-API debugging (CONFIG_DMA_API_DEBUG): misuse of the mapping API, reported with a code.

import type { BugCode } from "../errors/catalog.js";
import type { KernelBug } from "../errors/kernel-bug.js";
import type { KernelLog } from "../kernel-log.js";
import type { DmaBufferLabel } from "./bus.js";
import type { Device } from "./device.js";

/** The codes DMA-API debugging reports. */
export const DMA_DEBUG_CODES = [
  "DMA_API_UNMAP_NOT_MAPPED",
  "DMA_API_DOUBLE_UNMAP",
  "DMA_API_UNMAP_WRONG_DEV",
  "DMA_API_UNMAP_WRONG_DIR",
  "DMA_API_SYNC_NOT_MAPPED",
  "DMA_API_SYNC_WRONG_DIR",
  "DMA_API_DETACH_MAPPED",
  "DMA_API_SEGMENT_TOO_LONG",
] as const satisfies readonly BugCode[];

/** A code DMA-API debugging reports. */
export type DmaDebugCode = (typeof DMA_DEBUG_CODES)[number];

/** One report of DMA-API debugging. */
export interface DmaDebugReport {
  /** What was broken. */
  readonly code: DmaDebugCode;
  /** dev_name() of the device concerned. */
  readonly device: string;
  /** What happened, in words. */
  readonly detail: string;
  /** Virtual time of the report (ns). */
  readonly time: number;
  /** The dma-buf being worked on when it happened (inode, name, exporter), if known. */
  readonly buffer: DmaBufferLabel | null;
  /**
   * Who was calling, innermost first, e.g. `["system begin_cpu_access",
   * "DMA_BUF_IOCTL_SYNC from pid 3"]`; empty for a driver's own call outside the dma-buf core.
   */
  readonly chain: readonly string[];
  /** The line printed to the kernel log. */
  readonly line: string;
}

/**
 * DMA-API debugging of one kernel (CONFIG_DMA_API_DEBUG). Like Linux, it prints each misuse
 * as a warning (`DMA-API: <dev>: <what> [buffer <ino> "<name>" (<exporter>)] in <call
 * chain>`) and carries on: every report is kept in {@link DmaDebug.reports}, and the call
 * that caused it returns as it would without debugging. A report is thrown, as a
 * {@link KernelBug} with its code, only when a test asks for it by putting the code in
 * {@link DmaDebug.fatal} (or calling `setAllFatal(true)`); devices in
 * {@link DmaDebug.tolerated} never throw.
 *
 * The dma-buf core tells debugging what it is doing ({@link DmaDebug.enter} /
 * {@link DmaDebug.leave}): which buffer, which exporter op, for which ioctl of which process.
 * That is the call chain a report names, as a Linux WARN's backtrace would.
 */
export class DmaDebug {
  /** Whether checks run at all. */
  enabled = true;
  /** Codes that throw instead of only being reported; empty by default, as in Linux. */
  readonly fatal = new Set<DmaDebugCode>();
  /** Every report, oldest first. */
  readonly reports: DmaDebugReport[] = [];
  /**
   * Devices whose reports are logged and recorded but never thrown, even when fatal: kernel
   * drivers whose DMA-API misuse user space cannot avoid. The udmabuf misc device is one:
   * like Linux's udmabuf it maps its CPU-access table in the direction of the first SYNC
   * START, syncs it in whatever direction later SYNCs ask for, and unmaps it as
   * DMA_BIDIRECTIONAL.
   */
  readonly tolerated = new WeakSet<Device>();

  // The call chain, outermost first, as parallel stacks (no allocation per frame).
  readonly #ops: string[] = [];
  readonly #bufs: (DmaBufferLabel | undefined)[] = [];
  readonly #pids: number[] = [];

  /**
   * @param log - where reports are printed (dmesg)
   * @param now - the virtual clock
   */
  constructor(
    private readonly log: KernelLog | undefined,
    private readonly now: () => number = () => 0,
  ) {}

  /** Makes every check fatal (`true`) or none (`false`, the default). */
  setAllFatal(fatal: boolean): void {
    this.fatal.clear();
    if (fatal) for (const c of DMA_DEBUG_CODES) this.fatal.add(c);
  }

  /**
   * Pushes a frame of the call chain: `op` (an exporter op such as `begin_cpu_access`, or
   * an ioctl name) on `buffer`, on behalf of process `pid` (-1: none). Called by the dma-buf
   * core around exporter ops; pair every call with {@link DmaDebug.leave}.
   */
  enter(op: string, buffer?: DmaBufferLabel, pid = -1): void {
    this.#ops.push(op);
    this.#bufs.push(buffer);
    this.#pids.push(pid);
  }

  /** Pops the frame {@link DmaDebug.enter} pushed last. */
  leave(): void {
    this.#ops.pop();
    this.#bufs.pop();
    this.#pids.pop();
  }

  /**
   * The buffer of the innermost frame running `op` (e.g. `begin_cpu_access`), or undefined
   * when no such frame is on the chain.
   */
  within(op: string): DmaBufferLabel | undefined {
    for (let i = this.#ops.length - 1; i >= 0; i--) {
      if (this.#ops[i] === op) return this.#bufs[i];
    }
    return undefined;
  }

  /** The current call chain, innermost first (see {@link DmaDebugReport.chain}). */
  chain(): string[] {
    const out: string[] = [];
    for (let i = this.#ops.length - 1; i >= 0; i--) {
      const b = this.#bufs[i];
      const pid = this.#pids[i] as number;
      const op = this.#ops[i] as string;
      out.push(`${b ? `${b.expName} ${op}` : op}${pid >= 0 ? ` from pid ${pid}` : ""}`);
    }
    return out;
  }

  /**
   * Reports `bug` (its code must be a {@link DmaDebugCode}) for `dev`: logs a warning naming
   * the device, the buffer and the call chain, records it, and throws it only when its code
   * is in {@link DmaDebug.fatal} (and `dev` is not tolerated). Does nothing when checks are
   * disabled.
   * @throws KernelBug `bug` itself when fatal
   */
  report(dev: Device, bug: KernelBug, detail: string): void {
    if (!this.enabled) return;
    const code = bug.code as DmaDebugCode;
    let buffer: DmaBufferLabel | null = null;
    for (let i = this.#bufs.length - 1; i >= 0 && !buffer; i--) buffer = this.#bufs[i] ?? null;
    const chain = this.chain();
    const label = buffer
      ? ` [buffer ${buffer.ino} ${buffer.name !== null ? `"${buffer.name}"` : "(unnamed)"} (${buffer.expName})]`
      : "";
    const line = `DMA-API: ${dev.name}: ${detail}${label}${chain.length > 0 ? ` in ${chain.join(" for ")}` : ""}`;
    const snapshot = buffer
      ? { ino: buffer.ino, name: buffer.name, expName: buffer.expName }
      : null;
    this.reports.push({
      code,
      device: dev.name,
      detail,
      time: this.now(),
      buffer: snapshot,
      chain,
      line,
    });
    this.log?.log("warn", line);
    if (this.fatal.has(code) && !this.tolerated.has(dev)) throw bug;
  }
}
