// The physical memory map a report draws: page states along RAM, buddy free areas, CMA bitmaps.

import type { BuddyAllocator } from "../mm/buddy.js";
import type { CmaArea } from "../mm/cma.js";
import type { ReservedRegion } from "../mm/reserve.js";

/** One cell of the RAM strip: a run of pages and how much of it is free. */
export interface MemoryCell {
  /** First page frame. */
  readonly pfn: number;
  /** Pages covered. */
  readonly pages: number;
  /** Fraction of sampled pages that are free (0…1). */
  readonly free: number;
  /** The reserved region the cell lies in, if any. */
  readonly region?: string;
}

/** A CMA area: its bitmap as runs of used and free bits. */
export interface CmaMap {
  /** Area name. */
  readonly name: string;
  /** First page frame. */
  readonly basePfn: number;
  /** Pages. */
  readonly count: number;
  /** Pages one bit covers, as log2. */
  readonly orderPerBit: number;
  /** Pages handed out. */
  readonly usedPages: number;
  /** Largest run of free pages. */
  readonly largestFreeRun: number;
  /** Free runs. */
  readonly freeRuns: number;
  /** Failed allocations since boot. */
  readonly allocFailures: number;
  /** Bitmap as alternating runs: `[used, firstBit, bits]`. */
  readonly runs: readonly (readonly [boolean, number, number])[];
  /** Bits in the bitmap. */
  readonly bits: number;
}

/** What a report shows of physical memory. */
export interface MemoryMap {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Pages managed by the page allocator. */
  readonly totalPages: number;
  /** Free pages. */
  readonly freePages: number;
  /** Allocated pages. */
  readonly allocatedPages: number;
  /** Pages reserved at boot (CMA, carveouts, huge pages taken out). */
  readonly reservedPages: number;
  /** Free blocks per order (/proc/buddyinfo). */
  readonly freeBlocks: readonly number[];
  /**
   * Unusable free space index per order (debugfs extfrag/unusable_index): the fraction of
   * free memory in blocks too small for an allocation of that order.
   */
  readonly unusableIndex: readonly number[];
  /** RAM along its physical addresses. */
  readonly cells: readonly MemoryCell[];
  /** Reserved regions that are not CMA areas (carveouts). */
  readonly carveouts: readonly ReservedRegion[];
  /** CMA areas. */
  readonly cma: readonly CmaMap[];
}

/** Samples per cell when measuring how free it is. */
const SAMPLES = 32;

/**
 * Reads the memory map off the page allocator, the reservations and the CMA areas. Costs
 * `cells × 32` free-list lookups plus one pass over each CMA bitmap.
 */
export function readMemoryMap(
  buddy: BuddyAllocator,
  pageSize: number,
  reservations: readonly ReservedRegion[],
  cmaAreas: readonly CmaArea[],
  cellCount = 256,
): MemoryMap {
  const freeBlocks = buddy.freeBlocksByOrder();
  const free = buddy.freePageCount();
  const unusableIndex = freeBlocks.map((_, j) => {
    if (free === 0) return 0;
    let usable = 0;
    for (let k = j; k < freeBlocks.length; k++) usable += (freeBlocks[k] as number) * 2 ** k;
    return (free - usable) / free;
  });
  const total = buddy.endPfn - buddy.startPfn;
  const cells: MemoryCell[] = [];
  const per = Math.max(1, Math.ceil(total / cellCount));
  for (let pfn = buddy.startPfn; pfn < buddy.endPfn; pfn += per) {
    const pages = Math.min(per, buddy.endPfn - pfn);
    const step = Math.max(1, Math.floor(pages / SAMPLES));
    let sampled = 0;
    let freeSeen = 0;
    for (let p = pfn; p < pfn + pages; p += step) {
      sampled++;
      if (buddy.isFree(p)) freeSeen++;
    }
    const region = reservations.find((r) => pfn >= r.basePfn && pfn < r.basePfn + r.pageCount);
    cells.push({
      pfn,
      pages,
      free: freeSeen / sampled,
      ...(region ? { region: region.name } : {}),
    });
  }
  const cmaNames = new Set(cmaAreas.map((a) => `${a.basePfn}:${a.count}`));
  return {
    pageSize,
    totalPages: total,
    freePages: free,
    allocatedPages: buddy.allocatedPageCount(),
    reservedPages: buddy.reservedPageCount(),
    freeBlocks,
    unusableIndex,
    cells,
    carveouts: reservations.filter((r) => !cmaNames.has(`${r.basePfn}:${r.pageCount}`)),
    cma: cmaAreas.map(cmaMap),
  };
}

function cmaMap(area: CmaArea): CmaMap {
  const words = area.bitmapWords();
  const bits = Math.ceil(area.count / 2 ** area.orderPerBit);
  const runs: [boolean, number, number][] = [];
  for (let b = 0; b < bits; b++) {
    const used = (((words[b >>> 5] as number) >>> (b & 31)) & 1) === 1;
    const last = runs[runs.length - 1];
    if (last && last[0] === used) last[2]++;
    else runs.push([used, b, 1]);
  }
  const stats = area.freeRunStats();
  return {
    name: area.name,
    basePfn: area.basePfn,
    count: area.count,
    orderPerBit: area.orderPerBit,
    usedPages: area.usedPages,
    largestFreeRun: stats.largestFreeRun,
    freeRuns: stats.freeRuns,
    allocFailures: stats.allocFailures,
    runs,
    bits,
  };
}
