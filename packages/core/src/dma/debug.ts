// DMA-API debugging (CONFIG_DMA_API_DEBUG): misuse of the mapping API, reported with a code.

import type { BugCode } from "../errors/catalog.js";
import type { KernelBug } from "../errors/kernel-bug.js";
import type { KernelLog } from "../kernel-log.js";
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
}

/**
 * DMA-API debugging of one kernel. Linux prints such misuse (`DMA-API: <dev>: …`) and carries
 * on; the model logs the same line, keeps every report in {@link DmaDebug.reports}, and throws
 * the report as a {@link KernelBug} when its code is in {@link DmaDebug.fatal}.
 *
 * By default every check is fatal except two the kernel itself tolerates:
 * `DMA_API_DETACH_MAPPED` (the dma-buf core only warns when an importer detaches with live
 * mappings) and `DMA_API_SEGMENT_TOO_LONG` (heaps hand out chunks longer than some devices'
 * segment limit). `@dmabuf/devices` makes the detach report fatal too when it installs its
 * cache model.
 */
export class DmaDebug {
  /** Whether checks run at all. */
  enabled = true;
  /** Codes that throw instead of only being reported. */
  readonly fatal = new Set<DmaDebugCode>(
    DMA_DEBUG_CODES.filter(
      (c) => c !== "DMA_API_DETACH_MAPPED" && c !== "DMA_API_SEGMENT_TOO_LONG",
    ),
  );
  /** Every report, oldest first. */
  readonly reports: DmaDebugReport[] = [];
  /**
   * Devices whose reports are logged and recorded but never thrown: kernel drivers whose
   * DMA-API misuse user space cannot avoid. The udmabuf misc device is one: like Linux's
   * udmabuf it maps its CPU-access table in the direction of the first SYNC START, syncs it in
   * whatever direction later SYNCs ask for, and unmaps it as DMA_BIDIRECTIONAL.
   */
  readonly tolerated = new WeakSet<Device>();

  /**
   * @param log - where reports are printed (dmesg)
   * @param now - the virtual clock
   */
  constructor(
    private readonly log: KernelLog | undefined,
    private readonly now: () => number = () => 0,
  ) {}

  /** Makes every check fatal (`true`) or none (`false`). */
  setAllFatal(fatal: boolean): void {
    this.fatal.clear();
    if (fatal) for (const c of DMA_DEBUG_CODES) this.fatal.add(c);
  }

  /**
   * Reports `bug` (its code must be a {@link DmaDebugCode}) for `dev`: logs it, records it and
   * throws it when its code is fatal (unless `dev` is tolerated). Does nothing when checks are
   * disabled.
   * @throws KernelBug `bug` itself when fatal
   */
  report(dev: Device, bug: KernelBug, detail: string): void {
    if (!this.enabled) return;
    const code = bug.code as DmaDebugCode;
    this.reports.push({ code, device: dev.name, detail, time: this.now() });
    this.log?.log("err", `DMA-API: ${dev.name}: ${detail}`);
    if (this.fatal.has(code) && !this.tolerated.has(dev)) throw bug;
  }
}
