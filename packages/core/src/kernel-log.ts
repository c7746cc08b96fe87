// The kernel log buffer (dmesg): warnings and messages the model emits, readable by tests.

import type { BugCode } from "./errors/catalog.js";
import type { TraceRecorder } from "./trace/recorder.js";

/** Message levels, as printk uses them. */
export type LogLevel = "err" | "warn" | "info" | "debug";

/** One kernel log record. */
export interface LogRecord {
  /** Virtual time in nanoseconds. */
  readonly time: number;
  /** Severity. */
  readonly level: LogLevel;
  /** The message text, without a trailing newline. */
  readonly text: string;
}

/** A broken contract the kernel survived (a BUG/WARN it reports and carries on from). */
export interface Finding {
  /** The broken rule. */
  readonly code: BugCode;
  /** What happened, naming the plugin, op and buffer. */
  readonly detail: string;
  /** Virtual time in nanoseconds. */
  readonly time: number;
}

/**
 * The kernel's log buffer. Library code never writes to the console; it logs here, and tests
 * and tools read it (`kernel.log.records`, or `/dev/kmsg`-like text via {@link KernelLog.text}).
 */
export class KernelLog {
  /** Every record, oldest first. */
  readonly records: LogRecord[] = [];
  /** Every finding ({@link KernelLog.bug}), oldest first. */
  readonly findings: Finding[] = [];

  /**
   * @param now - the virtual clock
   * @param trace - the kernel's event trace: warn and err records become findings in it
   */
  constructor(
    private readonly now: () => number,
    private readonly trace?: TraceRecorder,
  ) {}

  /** Appends a record. */
  log(level: LogLevel, text: string): void {
    this.records.push({ time: this.now(), level, text });
    if (this.trace?.on && (level === "warn" || level === "err")) {
      this.trace.emit("finding", { level, text });
    }
  }
  /** A WARN: a broken rule the kernel survives. */
  warn(text: string): void {
    this.log("warn", text);
  }
  /**
   * Reports a broken contract the kernel survives: an `err` line `BUG: <code>: <detail>` and
   * a {@link Finding}.
   */
  bug(code: BugCode, detail: string): void {
    const time = this.now();
    this.records.push({ time, level: "err", text: `BUG: ${code}: ${detail}` });
    this.findings.push({ code, detail, time });
  }
  /** An informational message. */
  info(text: string): void {
    this.log("info", text);
  }
  /** The log as dmesg prints it: `[seconds] text` per line. */
  text(): string {
    return this.records
      .map((r) => `[${(r.time / 1e9).toFixed(6).padStart(12)}] ${r.text}\n`)
      .join("");
  }
}
