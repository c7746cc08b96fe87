// The suites' assertions: each failure is a ConformanceFailure with a stable code.

import type { Kernel, KernelSnapshot } from "@dmabuf/core";
import type { FailureCode } from "./case.js";

/** A broken conformance rule. Assert its `code` (and the case id), never its message. */
export class ConformanceFailure extends Error {
  /** Stable code. */
  readonly code: FailureCode;
  /** The code of the error the plugin produced, when there was one. */
  readonly errorCode: string | undefined;

  /**
   * @param code - what kind of failure
   * @param message - what happened, in words
   * @param errorCode - the code of the error the plugin produced, if any
   */
  constructor(code: FailureCode, message: string, errorCode?: string) {
    super(message);
    this.name = "ConformanceFailure";
    this.code = code;
    this.errorCode = errorCode;
  }
}

/**
 * The stable `code` of an error, if it has one: `KernelError` (errno names), `KernelBug`,
 * `KernelSignal`, `BuddyError`. Read by property, so errors from another copy of
 * `@dmabuf/core` count too.
 */
export function errorCodeOf(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e) {
    const code = (e as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** Describes an error for a failure message. */
export function describeError(e: unknown): string {
  const code = errorCodeOf(e);
  const text = e instanceof Error ? e.message : String(e);
  return code && !text.startsWith(code) ? `${code}: ${text}` : text;
}

/**
 * Requires `condition`.
 * @throws ConformanceFailure EXPECTATION_FAILED with `message` otherwise.
 */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure("EXPECTATION_FAILED", message);
}

/**
 * Requires `actual` to equal `expected`: `Object.is`, or element by element for arrays and
 * typed arrays, or key by key for plain objects (such as kernel snapshots).
 * @throws ConformanceFailure EXPECTATION_FAILED naming `what`, both values shown.
 */
export function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (!sameValue(actual, expected)) {
    throw new ConformanceFailure(
      "EXPECTATION_FAILED",
      `${what}: expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/**
 * The fields of two snapshots that differ, as `name before → after`; a figure by holder (a
 * buffer's attachments per device, vmaps per buffer, fds per process, fence callbacks per
 * timeline) as `name holder before → after`; a plugin's private pool as
 * `pool <name> before → after`.
 */
export function snapshotDiff(before: KernelSnapshot, after: KernelSnapshot): string[] {
  const out: string[] = [];
  for (const k of Object.keys(before) as (keyof KernelSnapshot)[]) {
    const a = before[k];
    const b = after[k];
    if (typeof a === "number" || typeof b === "number") {
      if (a !== b) out.push(`${k} ${a} → ${b}`);
      continue;
    }
    const label = k === "pools" ? "pool" : k;
    const was = (a ?? {}) as Readonly<Record<string, number>>;
    const now = (b ?? {}) as Readonly<Record<string, number>>;
    for (const name of new Set([...Object.keys(was), ...Object.keys(now)])) {
      if (was[name] !== now[name])
        out.push(`${label} ${name} ${was[name] ?? 0} → ${now[name] ?? 0}`);
    }
  }
  return out;
}

/**
 * Who holds what a snapshot diff shows grew, in words: live buffers (inode, exporter, size),
 * the owners of pages in use (`12 pages owned by heap 'x' buffer inode 5 (released)`: the
 * heap ALLOC or exporter op that took them), devices with live DMA mappings or IOVA, CMA
 * areas with pages in use, attachments (buffer and device), vmaps (buffer) and armed fence
 * callbacks (timeline). Empty when `kernel` holds none of these.
 */
export function describeHolders(kernel: Kernel): string {
  const parts: string[] = [];
  const bufs = kernel.dmaBuf.list();
  if (bufs.length > 0) {
    parts.push(
      `live buffers: ${bufs.map((b) => `${b.ino} (${b.expName}, ${b.size} bytes, ${b.file.refCount} refs)`).join(", ")}`,
    );
  }
  const owned = kernel.pageOwners.held();
  if (owned.length > 0) {
    parts.push(
      `pages in use: ${owned.map((o) => `${o.pages} ${o.pages === 1 ? "page" : "pages"} owned by ${o.owner}`).join(", ")}`,
    );
  }
  const holders = [...kernel.dma.holders()];
  if (holders.length > 0) {
    parts.push(
      `DMA held by ${holders.map(([dev, h]) => `${dev} (${h.mappings} mappings, ${h.iovaBytes} IOVA bytes)`).join(", ")}`,
    );
  }
  const cma = kernel.cmaAreas.filter((a) => a.usedPages > 0);
  if (cma.length > 0) {
    parts.push(`CMA pages in use: ${cma.map((a) => `${a.name} ${a.usedPages}`).join(", ")}`);
  }
  const s = kernel.snapshot();
  const named = (
    label: string,
    counts: Readonly<Record<string, number>>,
    what: (k: string) => string,
  ) => {
    const entries = Object.entries(counts);
    if (entries.length > 0) {
      parts.push(
        `${label}: ${entries.map(([k, n]) => `${what(k)}${n > 1 ? ` ×${n}` : ""}`).join(", ")}`,
      );
    }
  };
  named("attachments", s.attachmentsByHolder, (k) => {
    const at = k.indexOf(":");
    return `buffer ${k.slice(0, at)} by ${k.slice(at + 1)}`;
  });
  named("vmaps", s.vmapsByBuffer, (k) => `buffer ${k}`);
  named("fence callbacks armed", s.fenceCallbacksByTimeline, (k) => k);
  return parts.join("; ");
}

/**
 * Requires the kernel's counts to equal `before` (nothing leaked by what ran since).
 * @throws ConformanceFailure LEAK naming `what` and the counts that changed.
 */
export function checkUnchanged(kernel: Kernel, before: KernelSnapshot, what: string): void {
  const diffs = snapshotDiff(before, kernel.snapshot());
  if (diffs.length > 0) {
    const held = describeHolders(kernel);
    throw new ConformanceFailure("LEAK", `${what}: ${diffs.join(", ")}${held ? ` (${held})` : ""}`);
  }
}

/**
 * Runs `fn`, which must throw an error whose code is `code` (or one of `code`).
 * @throws ConformanceFailure MISSING_ERROR when `fn` returns; WRONG_ERROR when it throws
 * something else (its code in `errorCode`).
 */
export function expectError(
  fn: () => unknown,
  code: string | readonly string[],
  what: string,
): void {
  const codes = typeof code === "string" ? [code] : code;
  try {
    fn();
  } catch (e) {
    const got = errorCodeOf(e);
    if (got !== undefined && codes.includes(got)) return;
    throw new ConformanceFailure(
      "WRONG_ERROR",
      `${what}: expected ${codes.join(" or ")}, got ${describeError(e)}`,
      got,
    );
  }
  throw new ConformanceFailure(
    "MISSING_ERROR",
    `${what}: expected ${codes.join(" or ")}, it succeeded`,
  );
}

/**
 * Runs `fn`, which must succeed.
 * @returns what `fn` returns
 * @throws ConformanceFailure UNEXPECTED_ERROR naming `what` when it throws.
 */
export function expectSuccess<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConformanceFailure) throw e;
    throw new ConformanceFailure(
      "UNEXPECTED_ERROR",
      `${what}: ${describeError(e)}`,
      errorCodeOf(e),
    );
  }
}

/** Turns anything a case threw into a failure. */
export function toFailure(e: unknown): ConformanceFailure {
  if (e instanceof ConformanceFailure) return e;
  return new ConformanceFailure("UNEXPECTED_ERROR", describeError(e), errorCodeOf(e));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  const seqA = asSequence(a);
  const seqB = asSequence(b);
  if (seqA || seqB) {
    if (!seqA || !seqB || seqA.length !== seqB.length) return false;
    for (let i = 0; i < seqA.length; i++) if (!sameValue(seqA[i], seqB[i])) return false;
    return true;
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function asSequence(v: unknown): ArrayLike<unknown> | undefined {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return v as unknown as ArrayLike<unknown>;
  return undefined;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  const seq = asSequence(v);
  if (seq) {
    const head = Array.from({ length: Math.min(seq.length, 16) }, (_, i) => show(seq[i]));
    return `[${head.join(", ")}${seq.length > 16 ? `, … (${seq.length} items)` : ""}]`;
  }
  if (typeof v === "object" && v !== null) {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}
