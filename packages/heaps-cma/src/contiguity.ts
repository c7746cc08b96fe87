// Test helpers for heap authors: is an sg table one physically contiguous run?

import { AssertionError } from "node:assert";
import type { SgTable } from "@dmabuf/core";

/**
 * Whether the CPU entries of `sgt`, in order, form one physically contiguous run (what a
 * contiguous heap must hand every importer, whatever its segment limit splits the run into).
 * @param sgt - the table, e.g. from `kernel.dmaBuf.mapAttachment`
 * @param pageSize - page size in bytes; default 4096
 * @returns false for an empty table
 */
export function isPhysicallyContiguous(sgt: SgTable, pageSize = 4096): boolean {
  return sgt.isContiguous(pageSize);
}

/** The run an sg table covers. */
export interface ContiguousRun {
  /** First physical address. */
  readonly phys: number;
  /** Length in bytes. */
  readonly length: number;
}

/**
 * Asserts that `sgt` is one physically contiguous run and returns that run. Works in any
 * test runner: the failure is a `node:assert` AssertionError listing the entries.
 *
 * @example
 * ```ts
 * const sgt = kernel.dmaBuf.mapAttachment(attachment, DMA_BIDIRECTIONAL);
 * expect(expectContiguous(sgt, kernel.pageSize).length).toBe(buf.size);
 * ```
 * @throws AssertionError when the table is empty or has a gap or a jump between entries.
 */
export function expectContiguous(sgt: SgTable, pageSize: number): ContiguousRun {
  const entries: string[] = [];
  let phys = -1;
  sgt.forEachRange(pageSize, (start, length) => {
    if (phys < 0) phys = start;
    entries.push(`0x${start.toString(16)}+0x${length.toString(16)}`);
  });
  if (!sgt.isContiguous(pageSize)) {
    throw new AssertionError({
      message: `sg table is not one physically contiguous run: [${entries.join(", ") || "empty"}]`,
      actual: entries,
      expected: "one contiguous run",
      operator: "expectContiguous",
    });
  }
  return { phys, length: sgt.totalLength() };
}
