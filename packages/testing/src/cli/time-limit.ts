// Runs a synchronous case under a time limit that V8 enforces: a case stuck in a loop is stopped where it is.

import { type Context, createContext, Script } from "node:vm";

/** The function the script calls; set for the length of one call. */
const slot: { run: () => unknown } = { run: () => undefined };
let context: Context | undefined;
let script: Script | undefined;

/** The largest limit the V8 watchdog takes (a uint32 of milliseconds). */
const MAX_LIMIT_MS = 2 ** 32 - 1;

/**
 * Calls `fn` and returns what it returns, or `{ timedOut: true }` when it had not returned
 * after `limitMs` milliseconds: V8 then terminates it (no `catch` or `finally` of it runs) and
 * the caller goes on. `fn` must be synchronous; what it throws propagates.
 */
export function withinTimeLimit<T>(
  limitMs: number,
  fn: () => T,
): { readonly timedOut: false; readonly value: T } | { readonly timedOut: true } {
  context ??= createContext({ slot });
  script ??= new Script("slot.run()", { filename: "dmabuf-conformance-case" });
  let value: T | undefined;
  slot.run = () => {
    value = fn();
  };
  try {
    script.runInContext(context, {
      timeout: Math.min(MAX_LIMIT_MS, Math.max(1, Math.ceil(limitMs))),
    });
  } catch (e) {
    if ((e as { code?: unknown }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT")
      return { timedOut: true };
    throw e;
  } finally {
    slot.run = () => undefined;
  }
  return { timedOut: false, value: value as T };
}
