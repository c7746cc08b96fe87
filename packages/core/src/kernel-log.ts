// The kernel log buffer (dmesg): warnings and messages the model emits, readable by tests.

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

/**
 * The kernel's log buffer. Library code never writes to the console; it logs here, and tests
 * and tools read it (`kernel.log.records`, or `/dev/kmsg`-like text via {@link KernelLog.text}).
 */
export class KernelLog {
  /** Every record, oldest first. */
  readonly records: LogRecord[] = [];

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
