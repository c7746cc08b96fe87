// memblock-style reservations: carve physically contiguous regions out of RAM for CMA/carveouts.

import { KernelError } from "../errors/kernel-error.js";
import type { BuddyAllocator } from "./buddy.js";

/** A region taken out of the page allocator. */
export interface ReservedRegion {
  /** Who it is for, e.g. "reserved" (the cma= area) or a carveout's name. */
  readonly name: string;
  /** First page frame. */
  readonly basePfn: number;
  /** Number of pages. */
  readonly pageCount: number;
}

/** What {@link MemoryReservations.reserve} accepts. */
export interface ReserveRequest {
  /** Name of the region. */
  name: string;
  /** Size in bytes; a multiple of `alignBytes`. */
  size: number;
  /** Fixed physical base in bytes; placed top-down below `limit` when absent. */
  base?: number;
  /** Alignment of base and size in bytes (a multiple of the page size). */
  alignBytes: number;
  /** Highest physical address (exclusive) a placed region may reach; default: end of RAM. */
  limit?: number;
}

/**
 * The regions reserved out of RAM. A region's pages leave the page allocator for good (like
 * memblock reservations and CMA areas, whose pages the model does not lend back to movable
 * allocations).
 */
export class MemoryReservations {
  readonly #regions: ReservedRegion[] = [];

  /**
   * @param buddy - the page allocator the pages come from
   * @param pageSize - page size in bytes
   */
  constructor(
    private readonly buddy: BuddyAllocator,
    private readonly pageSize: number,
  ) {}

  /** Every reserved region, in reservation order. */
  list(): readonly ReservedRegion[] {
    return this.#regions;
  }

  /**
   * Reserves a region: at `base` if given, else the highest aligned free range below `limit`.
   * @throws KernelError EINVAL (size or base unaligned, zero, or outside RAM); EBUSY (a fixed
   * base overlaps another region or allocated pages); ENOMEM (no room).
   */
  reserve(req: ReserveRequest): ReservedRegion {
    const ps = this.pageSize;
    const align = req.alignBytes;
    if (!(req.size > 0) || req.size % align !== 0 || align % ps !== 0) {
      throw new KernelError(
        "EINVAL",
        "reserve_mem",
        `${req.name}: size must be a multiple of ${align}`,
      );
    }
    const count = req.size / ps;
    const ramPages = this.buddy.endPfn;
    if (req.base !== undefined) {
      if (req.base % align !== 0 || req.base / ps + count > ramPages) {
        throw new KernelError(
          "EINVAL",
          "reserve_mem",
          `${req.name}: base unaligned or outside RAM`,
        );
      }
      const basePfn = req.base / ps;
      if (this.#overlaps(basePfn, count) || !this.buddy.reserveRange(basePfn, count)) {
        throw new KernelError("EBUSY", "reserve_mem", `${req.name}: range in use`);
      }
      return this.#add(req.name, basePfn, count);
    }
    const limitPfn = Math.min(ramPages, Math.floor((req.limit ?? ramPages * ps) / ps));
    const alignPages = align / ps;
    let end = Math.floor(limitPfn / alignPages) * alignPages;
    while (end - count >= 0) {
      const start = Math.floor((end - count) / alignPages) * alignPages;
      const hit = this.#regions.find(
        (r) => start < r.basePfn + r.pageCount && r.basePfn < start + count,
      );
      if (hit) {
        end = Math.floor(hit.basePfn / alignPages) * alignPages;
        continue;
      }
      if (this.buddy.reserveRange(start, count)) return this.#add(req.name, start, count);
      end = start;
    }
    throw new KernelError("ENOMEM", "reserve_mem", `${req.name}: no room for ${req.size} bytes`);
  }

  #overlaps(pfn: number, count: number): boolean {
    return this.#regions.some((r) => pfn < r.basePfn + r.pageCount && r.basePfn < pfn + count);
  }

  #add(name: string, basePfn: number, pageCount: number): ReservedRegion {
    const r = { name, basePfn, pageCount };
    this.#regions.push(r);
    return r;
  }
}
