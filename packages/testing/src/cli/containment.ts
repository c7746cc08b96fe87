// Keeps what a plugin does to the whole process inside the run: process.exit, killing its own process, stray async errors.

import { AsyncLocalStorage } from "node:async_hooks";
import { describeError } from "../conformance/assert.js";
import { EXIT_FAILED, EXIT_OK } from "./args.js";

/** How long the command waits, after its report, for what a plugin left running. */
export const AFTER_RUN_GRACE_MS = 1000;

/** How a plugin reached past its case. */
export type EscapeCode = "PROCESS_EXIT" | "ASYNC_ERROR";

/** One thing a plugin did to the process, and which case it came from. */
export interface Escape {
  /** `PROCESS_EXIT` (process.exit, or a signal to its own process) or `ASYNC_ERROR`. */
  readonly code: EscapeCode;
  /** What happened, naming the call or the error. */
  readonly message: string;
}

/** A case (or a phase outside the cases) that work can be traced back to. */
export interface CaseTag {
  /** How reports name it: `target: case id`, or a phase such as `preparing the suites`. */
  readonly label: string;
  /** Set when the case's result was reported: what comes from it later is late. */
  reported?: boolean;
}

/** What a plugin's `process.exit()` throws in its place while the CLI runs cases. */
export class ProcessExitRefused extends Error {
  override readonly name = "ProcessExitRefused";
}

type Listener = (...args: unknown[]) => void;
const EVENTS = ["uncaughtException", "unhandledRejection"] as const;

/**
 * While installed: `process.exit()` and `process.kill()` of the process itself are refused (the
 * call throws {@link ProcessExitRefused} and is recorded), and errors thrown asynchronously —
 * by a timer, callback or promise a plugin left behind — are caught instead of ending the
 * process. Each is recorded against the case whose work it came from (traced through the async
 * context the case ran in), or, when that case was reported already or it came from no case,
 * kept as a late escape for the run to report.
 */
export class Containment {
  readonly #context = new AsyncLocalStorage<CaseTag>();
  readonly #open = new Map<CaseTag, Escape[]>();
  readonly #late: { readonly tag: CaseTag | undefined; readonly what: Escape }[] = [];
  #window: CaseTag | undefined;
  #restore: (() => void) | undefined;

  /** Takes over process.exit, process.kill and the uncaught-error events until {@link uninstall}. */
  install(): void {
    if (this.#restore) return;
    const exit = process.exit;
    const kill = process.kill;
    const saved = EVENTS.map(
      (name) => [name, process.listeners(name as "uncaughtException") as Listener[]] as const,
    );
    const refuse = (call: string): never => {
      this.#record({
        code: "PROCESS_EXIT",
        message: `the plugin called ${call} (refused: the call threw into the plugin)`,
      });
      throw new ProcessExitRefused(`${call} is refused while dmabuf-conformance runs a case`);
    };
    process.exit = (code?: number | string | null) =>
      refuse(`process.exit(${code === undefined ? "" : JSON.stringify(code)})`);
    process.kill = (pid: number, signal?: string | number) => {
      const own = pid === process.pid || pid === 0 || pid === -process.pid;
      if (own && signal !== 0) {
        const who = pid === process.pid ? "process.pid" : String(pid);
        return refuse(
          `process.kill(${who}${signal === undefined ? "" : `, ${JSON.stringify(signal)}`})`,
        );
      }
      return kill.call(process, pid, signal);
    };
    const onError = (e: unknown) => {
      if (e instanceof ProcessExitRefused) return; // recorded when the call was made
      this.#record({
        code: "ASYNC_ERROR",
        message:
          "an error was thrown asynchronously, by a timer, callback or promise the plugin " +
          `left running: ${describeError(e)}`,
      });
    };
    for (const [name] of saved) {
      process.removeAllListeners(name);
      process.on(name, onError);
    }
    this.#restore = () => {
      process.exit = exit;
      process.kill = kill;
      for (const [name, listeners] of saved) {
        process.removeListener(name, onError);
        for (const l of listeners) process.on(name, l);
      }
    };
  }

  /** Gives process.exit, process.kill and the uncaught-error events back as they were. */
  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  /**
   * Runs `fn` as the work of `tag`: what it starts (timers, promises) is traced back to `tag`.
   * Escapes are collected for `tag` until {@link close}.
   */
  run<T>(tag: CaseTag, fn: () => T): T {
    this.#open.set(tag, []);
    this.#window = tag;
    return this.#context.run(tag, fn);
  }

  /** Runs `fn` as the work of `tag` whose escapes are late ones (a phase, not a case). */
  runOutsideCases<T>(tag: CaseTag, fn: () => T): T {
    return this.#context.run(tag, fn);
  }

  /** Lets what the last case queued (promise callbacks, ticks, immediates) run. */
  settle(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Ends the collection for `tag` and returns what it did; later escapes of it are late. */
  close(tag: CaseTag): readonly Escape[] {
    const escapes = this.#open.get(tag) ?? [];
    this.#open.delete(tag);
    tag.reported = true;
    if (this.#window === tag) this.#window = undefined;
    return escapes;
  }

  /** The late escapes recorded since the last call (each with the case or phase it came from). */
  takeLate(): { readonly tag: CaseTag | undefined; readonly what: Escape }[] {
    return this.#late.splice(0);
  }

  #record(what: Escape): void {
    // A callback of a queueMicrotask loses its async context: it belongs to the case whose
    // window is open (the one that just ran).
    const tag = this.#context.getStore() ?? this.#window;
    const open = tag && this.#open.get(tag);
    if (open) open.push(what);
    else this.#late.push({ tag, what });
  }
}

/**
 * The command's end, once the report is written: `exitCode` becomes the process's exit status;
 * an error that something a plugin left running throws afterwards is reported on `stderr` and
 * makes the status 1; and when what the plugin left keeps the process alive, it is ended
 * `graceMs` later with status 1. A process with nothing left exits at once.
 */
export function endRun(
  exitCode: number,
  stderr: (text: string) => void,
  graceMs: number = AFTER_RUN_GRACE_MS,
): void {
  process.exitCode = exitCode;
  const fail = () => {
    if (process.exitCode === EXIT_OK) process.exitCode = EXIT_FAILED;
  };
  const onError = (e: unknown) => {
    stderr(
      "dmabuf-conformance: after the run, an error was thrown asynchronously by a timer, " +
        `callback or promise a plugin left running: ${describeError(e)}\n`,
    );
    fail();
  };
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  setTimeout(() => {
    stderr(
      `dmabuf-conformance: ${graceMs} ms after the run, a plugin still keeps timers or ` +
        "handles running; ending the process\n",
    );
    fail();
    process.exit();
  }, graceMs).unref();
}
