// The kernel's sg-table allocation (sg_alloc_table, sg_alloc_table_from_pages, dup_sg_table), where faults are injected.

import { KernelError } from "../errors/kernel-error.js";
import { SgTable } from "./sg-table.js";

/**
 * Allocates scatter-gather tables for heaps, exporters and the kernel's own helpers, as
 * `sg_alloc_table` and `sg_alloc_table_from_pages` (lib/scatterlist.c) do: the table's
 * entries come from the slab allocator, which can fail. Every table a plugin hands to the
 * core (a heap's buffer table, an attachment's copy, a mapping) should come from here
 * (`host.sg`), so {@link FaultInjection} (`kernel.faults.failNth("sg", n)`) can fail the Nth
 * one and the conformance suites can check the plugin gives the error back and frees what it
 * took. A bare `new SgTable()` still works but is invisible to fault injection.
 *
 * A failure throws KernelError ENOMEM, as the Linux functions return `-ENOMEM`; nothing is
 * allocated then. Tables are garbage-collected objects: there is no free.
 *
 * @example
 * ```ts
 * attach(buf, attachment) {
 *   // dup_sg_table: throws ENOMEM when kernel.faults fails this sg-table allocation
 *   buf.priv.attachments.attach(attachment, host.sg.dup(buf.priv.table));
 * }
 * ```
 */
export class SgTableAllocator {
  /**
   * @param pageSize - the kernel's page size
   * @param faults - the kernel's fault injection (`kernel.faults`)
   */
  constructor(
    private readonly pageSize: number,
    private readonly faults: { shouldFail(point: "sg"): boolean },
  ) {}

  /**
   * An empty table with room for `nents` entries (`sg_alloc_table`); fill it with
   * {@link SgTable.append}.
   * @param nents - entries to reserve room for
   * @throws KernelError ENOMEM when the allocation fails (fault injection).
   */
  alloc(nents: number): SgTable {
    this.#check("sg_alloc_table");
    return new SgTable(nents);
  }

  /**
   * A table over one page frame per element of `pfns`, physically consecutive pages merged
   * into entries of at most `maxSegment` bytes (`sg_alloc_table_from_pages_segment`).
   * @param pfns - the buffer's pages, in buffer order
   * @param maxSegment - largest entry in bytes (default `0xffffffff`; a device's
   * `maxSegmentSize`)
   * @throws KernelError ENOMEM when the allocation fails (fault injection).
   * @throws RangeError when `maxSegment` is smaller than a page.
   */
  fromPages(pfns: ArrayLike<number>, maxSegment?: number): SgTable {
    this.#check("sg_alloc_table_from_pages");
    return SgTable.fromPfnRuns(this.pageSize, pfns, maxSegment);
  }

  /**
   * A new, unmapped copy of `table`'s CPU entries, as the system and CMA heaps'
   * `dup_sg_table` makes one per attachment (`sg_alloc_table` + copy).
   * @throws KernelError ENOMEM when the allocation fails (fault injection).
   */
  dup(table: SgTable): SgTable {
    this.#check("sg_alloc_table");
    return table.clone();
  }

  #check(fn: string): void {
    if (this.faults.shouldFail("sg")) {
      throw new KernelError("ENOMEM", fn, "sg-table allocation failed (fault injection)");
    }
  }
}
