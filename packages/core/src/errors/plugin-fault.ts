// A misbehaving plugin op (a driver bug): reported as a finding, user space gets EIO.

import type { KernelLog } from "../kernel-log.js";
import { KernelBug, KernelSignal } from "./kernel-bug.js";
import { KernelError } from "./kernel-error.js";

/**
 * Turns what a plugin op threw into what the in-kernel caller passes on. A KernelError (the
 * plugin's errno), KernelBug or KernelSignal passes unchanged. Anything else is a bug of the
 * plugin — in Linux an oops — and the model reports it as a PLUGIN_OP_FAILED finding naming
 * the plugin and op, and fails the call with EIO.
 * @param log - where the finding goes
 * @param plugin - the plugin, e.g. `heap system` or `exporter page-exporter`
 * @param op - the op that threw, e.g. `allocate`
 * @param syscall - the failing syscall or kernel function
 * @returns the error to throw
 */
export function pluginFault(
  log: KernelLog,
  e: unknown,
  plugin: string,
  op: string,
  syscall: string,
): Error {
  if (e instanceof KernelError || e instanceof KernelBug || e instanceof KernelSignal) return e;
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const detail = `${plugin}: ${op} threw ${what}`;
  log.bug("PLUGIN_OP_FAILED", detail);
  const err = new KernelError("EIO", syscall, detail);
  err.cause = e;
  return err;
}

/**
 * Reports a plugin op that returned a value of the wrong kind as a PLUGIN_BAD_RETURN finding.
 * @returns the EIO KernelError to throw at the caller
 */
export function pluginBadReturn(
  log: KernelLog,
  plugin: string,
  op: string,
  syscall: string,
  got: unknown,
): KernelError {
  const detail = `${plugin}: ${op} returned ${describeValue(got)}`;
  log.bug("PLUGIN_BAD_RETURN", detail);
  return new KernelError("EIO", syscall, detail);
}

function describeValue(v: unknown): string {
  if (v === null || typeof v !== "object") return String(v);
  const name = (v as object).constructor?.name;
  return name && name !== "Object" ? `a ${name} of another kind` : "a plain object";
}
