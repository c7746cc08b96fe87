// The context exporter cases run in, and size helpers that respect a declared maximum.

import type { ExporterCapabilities } from "../capabilities.js";
import type { ConformanceCase } from "../case.js";
import type { ExporterSession } from "../session.js";

/** What an exporter case receives. */
export interface ExporterCaseContext {
  /** The exporter's capabilities. */
  readonly capabilities: ExporterCapabilities;
  /** Boots a fresh kernel with the exporter (followed by the after-case checks). */
  boot(): ExporterSession;
}

/** A case of the exporter suite. */
export type ExporterCase = ConformanceCase<ExporterCaseContext, ExporterCapabilities>;

/** `bytes` rounded up to pages, then capped at the declared maximum allocation (≥ 1 page). */
export function fitSize(caps: ExporterCapabilities, pageSize: number, bytes: number): number {
  const want = Math.ceil(bytes / pageSize) * pageSize;
  if (caps.maxAllocation === undefined) return want;
  return Math.max(pageSize, Math.min(want, Math.floor(caps.maxAllocation / pageSize) * pageSize));
}

/** Distinct sizes from `bytes`, each passed through {@link fitSize}. */
export function fitSizes(
  caps: ExporterCapabilities,
  pageSize: number,
  bytes: readonly number[],
): number[] {
  return [...new Set(bytes.map((b) => fitSize(caps, pageSize, b)))];
}

/**
 * Sizes for buffers that live at the same time, `copies` times over: each passed through
 * {@link fitSize}, then the largest dropped until they all fit in the declared maximum
 * allocation (a heap with a small pool can hold them all at once). At least one size stays.
 * Largest first, so that a pool with aligned placement fits them.
 */
export function fitBudget(
  caps: ExporterCapabilities,
  pageSize: number,
  bytes: readonly number[],
  copies = 1,
): number[] {
  const sizes = fitSizes(caps, pageSize, bytes);
  const max = caps.maxAllocation;
  if (max === undefined) return sizes;
  const total = () => sizes.reduce((a, b) => a + b, 0) * copies;
  while (sizes.length > 1 && total() > max) sizes.splice(sizes.indexOf(Math.max(...sizes)), 1);
  return sizes.sort((a, b) => b - a);
}

/** 1 KiB. */
export const KiB = 1024;
/** 1 MiB. */
export const MiB = 1024 * 1024;
