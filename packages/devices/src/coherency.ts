// The coherency checker: missing cache syncs between the CPU and devices, as coded reports.

import { type DmaBufferLabel, KernelBug, type KernelLog } from "@dmabuf/core";

/**
 * What went wrong between the CPU's cache and a non-coherent device:
 * - `device-read-cpu-dirty`: a device read memory while the CPU still held newer data for it
 *   in dirty cache lines, so the device read stale memory;
 * - `device-write-cpu-dirty`: a device wrote memory the CPU held dirty, so a later write-back
 *   of those lines will overwrite the device's data;
 * - `cpu-read-device-written`: the CPU read lines a device wrote since their last invalidate,
 *   so it may see stale cache contents;
 * - `cpu-write-device-written`: the CPU wrote part of such a line, merging with possibly
 *   stale cache contents (lines written whole just replace the device's data);
 * - `cpu-dirty-discarded`: a sync for the CPU (invalidate) dropped lines the CPU held dirty,
 *   so the CPU's writes were lost;
 * - `device-write-during-sync-start`: the CPU accessed lines a device wrote while
 *   DMA_BUF_IOCTL_SYNC START was waiting for the buffer's fences: `dma_buf_begin_cpu_access`
 *   runs the exporter's cache maintenance (the invalidate) before it waits, so the write
 *   landed after the invalidate and a speculatively prefetched line can be stale. The SYNC
 *   was there; it came too early (wait for POLLIN, or the fence, first);
 * - `uncached-read-cpu-dirty`: the CPU read memory through an uncached or write-combine
 *   mapping while it held the same lines dirty through a cached mapping (an alias of other
 *   memory type), so the read saw stale memory.
 */
export type CoherencyViolationKind =
  | "device-read-cpu-dirty"
  | "device-write-cpu-dirty"
  | "cpu-read-device-written"
  | "cpu-write-device-written"
  | "cpu-dirty-discarded"
  | "device-write-during-sync-start"
  | "uncached-read-cpu-dirty";

/** The buffer a violation concerns, as reports show it. */
export interface ViolationBuffer {
  /** Inode number (bufinfo's `ino`, fdinfo's inode). */
  readonly ino: number;
  /** User-set name, or null. */
  readonly name: string | null;
  /** Exporter name. */
  readonly expName: string;
}

/** The missing call, in words, for each kind. */
const MISSING: Readonly<Record<CoherencyViolationKind, string>> = {
  "device-read-cpu-dirty":
    "no DMA_BUF_IOCTL_SYNC END|WRITE (dma_buf_end_cpu_access) between the CPU write and the device read",
  "device-write-cpu-dirty":
    "no DMA_BUF_IOCTL_SYNC END|WRITE (dma_buf_end_cpu_access) between the CPU write and the device write",
  "cpu-read-device-written":
    "no DMA_BUF_IOCTL_SYNC START|READ (dma_buf_begin_cpu_access) between the device write and the CPU read",
  "cpu-write-device-written":
    "no DMA_BUF_IOCTL_SYNC START (dma_buf_begin_cpu_access) between the device write and the CPU write",
  "cpu-dirty-discarded":
    "no DMA_BUF_IOCTL_SYNC END|WRITE (dma_buf_end_cpu_access) between the CPU write and the invalidate",
  "device-write-during-sync-start":
    "no wait for POLLIN on the dma-buf fd (or for the device's fence) before DMA_BUF_IOCTL_SYNC START",
  "uncached-read-cpu-dirty":
    "no DMA_BUF_IOCTL_SYNC END|WRITE (dma_buf_end_cpu_access) to write the cached mapping's stores back before the uncached or write-combine read",
};

/**
 * One missing sync, found deterministically: which buffer (inode and name), where in it, who
 * wrote, who then accessed without seeing the write, and the call that was missing.
 */
export class CoherencyViolation {
  /**
   * @param kind - what went wrong
   * @param buffer - the buffer, or null when no live buffer covers the memory
   * @param offset - byte offset in the buffer of the first cache line concerned (the
   *   physical address when `buffer` is null)
   * @param length - bytes of the cache lines concerned (whole lines)
   * @param phys - physical address of the first line concerned
   * @param writer - who wrote the data that was missed: `"CPU"` or a device name
   * @param reader - who accessed without seeing it: a device name or `"CPU"`; for
   *   `cpu-dirty-discarded`, the device whose sync for the CPU discarded the lines
   * @param time - virtual time (ns)
   */
  constructor(
    readonly kind: CoherencyViolationKind,
    readonly buffer: ViolationBuffer | null,
    readonly offset: number,
    readonly length: number,
    readonly phys: number,
    readonly writer: string,
    readonly reader: string,
    readonly time: number,
  ) {}

  /** The missing call, in words. */
  get missing(): string {
    return MISSING[this.kind];
  }

  /** One line describing the violation. */
  get message(): string {
    const b = this.buffer;
    const where = b
      ? `buffer ${b.ino} ${b.name !== null ? `"${b.name}"` : "(unnamed)"} [${b.expName}] at offset 0x${this.offset.toString(16)}, ${this.length} bytes`
      : `physical 0x${this.phys.toString(16)}, ${this.length} bytes (no live buffer)`;
    const what: Record<CoherencyViolationKind, string> = {
      "device-read-cpu-dirty": `${this.reader} read ${where} while the ${this.writer} held it dirty in cache: the device read stale memory`,
      "device-write-cpu-dirty": `${this.reader} wrote ${where} while the ${this.writer} held it dirty in cache: a write-back will overwrite the device's data`,
      "cpu-read-device-written": `the ${this.reader} read ${where} that ${this.writer} wrote since the last invalidate: the CPU may see stale cache lines`,
      "cpu-write-device-written": `the ${this.reader} wrote ${where} that ${this.writer} wrote since the last invalidate: the CPU may merge into stale cache lines`,
      "cpu-dirty-discarded": `a sync for the CPU by ${this.reader} invalidated ${where} that the ${this.writer} held dirty: the CPU's writes were lost`,
      "uncached-read-cpu-dirty": `the ${this.reader} read ${where} through an uncached or write-combine mapping while the ${this.writer} held it dirty in cache through a cached mapping: the read saw stale memory`,
      "device-write-during-sync-start": `${this.writer} wrote ${where} while DMA_BUF_IOCTL_SYNC START was still waiting for its fence, after the exporter's invalidate had run (dma_buf_begin_cpu_access does the cache maintenance before it waits): the ${this.reader}'s next access may see lines prefetched before the write landed`,
    };
    return `${what[this.kind]}; ${this.missing}`;
  }

  /** {@inheritDoc CoherencyViolation.message} */
  toString(): string {
    return this.message;
  }

  /** This violation extended by `other`, if `other` continues it (same parties, next bytes). */
  extendedBy(other: CoherencyViolation): CoherencyViolation | undefined {
    if (
      other.kind !== this.kind ||
      other.writer !== this.writer ||
      other.reader !== this.reader ||
      (other.buffer?.ino ?? -1) !== (this.buffer?.ino ?? -1) ||
      other.offset !== this.offset + this.length
    ) {
      return undefined;
    }
    return new CoherencyViolation(
      this.kind,
      this.buffer,
      this.offset,
      this.length + other.length,
      this.phys,
      this.writer,
      this.reader,
      this.time,
    );
  }
}

/** A {@link KernelBug} `DMA_COHERENCY_VIOLATION` thrown by a fatal checker, with its report. */
export type CoherencyError = KernelBug & { readonly violation: CoherencyViolation };

/** Whether `e` is the error a fatal {@link CoherencyChecker} throws. */
export function isCoherencyError(e: unknown): e is CoherencyError {
  return e instanceof KernelBug && e.code === "DMA_COHERENCY_VIOLATION" && "violation" in e;
}

/** Builds the label a violation shows from any buffer-like value. */
export function violationBuffer(b: DmaBufferLabel): ViolationBuffer {
  return { ino: b.ino, name: b.name, expName: b.expName };
}

/**
 * Collects the coherency violations of one kernel. Each is also printed to the kernel log
 * (`coherency: …`, error level) when first seen. Consecutive violations that continue each other (a loop of
 * small accesses over one missed region) are merged into one report. With
 * {@link CoherencyChecker.fatal} set, the first violation is thrown instead, as a
 * {@link KernelBug} `DMA_COHERENCY_VIOLATION` carrying it, before the access changes anything.
 */
export class CoherencyChecker {
  /** Whether violations are looked for at all. */
  enabled = true;
  /** Throw on the first violation instead of only collecting it. */
  fatal = false;
  readonly #violations: CoherencyViolation[] = [];
  /** Index in the log's records of the line of the last violation, or -1. */
  #logged = -1;

  /** @param log - the kernel log */
  constructor(private readonly log?: KernelLog) {}

  /** Every violation so far, oldest first. */
  get violations(): readonly CoherencyViolation[] {
    return this.#violations;
  }

  /** Forgets every violation. */
  clear(): void {
    this.#violations.length = 0;
  }

  /**
   * Records a violation (or throws it when fatal).
   * @throws CoherencyError when {@link CoherencyChecker.fatal} is set
   */
  record(v: CoherencyViolation): void {
    if (this.fatal) {
      throw Object.assign(new KernelBug("DMA_COHERENCY_VIOLATION", v.message), { violation: v });
    }
    const last = this.#violations[this.#violations.length - 1];
    const merged = last?.extendedBy(v);
    if (merged) {
      this.#violations[this.#violations.length - 1] = merged;
      // The logged line grows with the report, so the two always give the same size.
      const rec = this.#logged >= 0 ? this.log?.records[this.#logged] : undefined;
      if (rec && this.log) {
        this.log.records[this.#logged] = { ...rec, text: `coherency: ${merged.message}` };
      }
      return;
    }
    this.#violations.push(v);
    if (this.log) {
      this.log.log("err", `coherency: ${v.message}`);
      this.#logged = this.log.records.length - 1;
    }
  }

  /** The violations as text, one per line; says so when there are none. */
  report(): string {
    if (this.#violations.length === 0) return "no coherency violations\n";
    return this.#violations
      .map((v, i) => `#${i + 1} [${(v.time / 1e9).toFixed(6)}] ${v.kind}: ${v.message}\n`)
      .join("");
  }
}
