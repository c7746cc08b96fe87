// Runs a synchronous case under a time limit that V8 enforces: a case stuck in a loop is stopped where it is.

import { Script } from "node:vm";

/** Where the script finds the function to call (set for the length of one call). */
const SLOT = Symbol.for("dmabuf-conformance.case");
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
  script ??= new Script(`globalThis[Symbol.for(${JSON.stringify(SLOT.description)})]()`, {
    filename: "dmabuf-conformance-case",
  });
  const global = globalThis as unknown as Record<symbol, (() => void) | undefined>;
  let value: T | undefined;
  global[SLOT] = () => {
    value = fn();
  };
  try {
    // In this context: a new one would cost a V8 context per run.
    script.runInThisContext({ timeout: Math.min(MAX_LIMIT_MS, Math.max(1, Math.ceil(limitMs))) });
  } catch (e) {
    if ((e as { code?: unknown }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT")
      return { timedOut: true };
    throw e;
  } finally {
    delete global[SLOT];
  }
  return { timedOut: false, value: value as T };
}
