// Fault injection (fail_page_alloc, failslab, fail-nth): fail the Nth allocation at a point, or kill the caller after N pages.

import type { SgTableAllocator } from "../mm/sg-alloc.js";

/**
 * An allocation point faults can be injected at:
 * - `page`: a page allocation — the page allocator (`alloc_pages`) and CMA areas
 *   (`cma_alloc`), like `fail_page_alloc`;
 * - `iova`: an IOVA range for a mapping behind an IOMMU (`alloc_iova`);
 * - `sg`: a scatter-gather table (`sg_alloc_table`, `sg_alloc_table_from_pages`, a heap's
 *   `dup_sg_table`), through the kernel's {@link SgTableAllocator}, like `failslab` for the
 *   table's slab allocation.
 */
export type FaultPoint = "page" | "iova" | "sg";

/** The points, in a fixed order. */
export const FAULT_POINTS: readonly FaultPoint[] = ["page", "iova", "sg"];

/**
 * One kernel's fault injection (`kernel.faults`), as Linux's fault-injection framework
 * (`fail_page_alloc`, `failslab`, and `/proc/<pid>/fail-nth`: "fail the Nth call from now") gives tests:
 * make the Nth allocation at a point fail as if memory ran out, or deliver a fatal signal to
 * the running process once N page allocations have been made — so a test can walk N over
 * every allocation one call makes and require each failure to give Linux's errno and leave
 * `kernel.snapshot()` as it was.
 *
 * Allocation points call {@link FaultInjection.shouldFail}; a failed page allocation returns
 * no page (the caller reports ENOMEM), a failed IOVA allocation makes the mapping fail with
 * ENOMEM, a failed sg-table allocation throws KernelError ENOMEM from
 * {@link SgTableAllocator} (the heap or exporter passes it on, as its Linux counterpart
 * returns `-ENOMEM`). Nothing is injected until a test arms it; arming costs one counter per allocation.
 *
 * @example
 * ```ts
 * kernel.faults.failNth("page", 3); // the third page allocation from now fails
 * expect(() => allocFromHeap(proc, "system", 3 << 20)).toThrow(...ENOMEM...);
 * kernel.faults.reset();
 * ```
 */
export class FaultInjection {
  readonly #failAt: Record<FaultPoint, number> = { page: 0, iova: 0, sg: 0 };
  readonly #seen: Record<FaultPoint, number> = { page: 0, iova: 0, sg: 0 };
  #killAfter = 0;
  #armed = false;

  /** @param current - the process running now, whose fatal signal is set (the kernel's) */
  constructor(private readonly current: () => { kill(): void } | undefined) {}

  /**
   * Makes the `n`th allocation at `point` from now fail (1: the next one); counting starts
   * over for that point.
   * @throws RangeError when `n` is not a positive integer.
   */
  failNth(point: FaultPoint, n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError("n must be a positive integer");
    this.#failAt[point] = n;
    this.#seen[point] = 0;
    this.#armed = true;
  }

  /**
   * Delivers a fatal signal to the process running when the `n`th page allocation from now
   * is made (that allocation succeeds; the signal is pending after it), as if it were
   * killed mid-allocation.
   * @throws RangeError when `n` is not a positive integer.
   */
  fatalSignalAfterPages(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError("n must be a positive integer");
    this.#killAfter = n;
    this.#seen.page = 0;
    this.#armed = true;
  }

  /** Allocations seen at `point` since it was last armed or reset. */
  count(point: FaultPoint): number {
    return this.#seen[point];
  }

  /** Disarms every point and clears the counts. */
  reset(): void {
    for (const p of FAULT_POINTS) {
      this.#failAt[p] = 0;
      this.#seen[p] = 0;
    }
    this.#killAfter = 0;
    this.#armed = false;
  }

  /**
   * Called by an allocation point before it allocates: counts the allocation and says
   * whether it must fail. Delivers an armed fatal signal.
   */
  shouldFail(point: FaultPoint): boolean {
    if (!this.#armed) return false;
    const n = ++this.#seen[point];
    if (point === "page" && this.#killAfter > 0 && n === this.#killAfter) {
      this.#killAfter = 0;
      this.current()?.kill();
    }
    if (this.#failAt[point] > 0 && n === this.#failAt[point]) {
      this.#failAt[point] = 0;
      return true;
    }
    return false;
  }
}
