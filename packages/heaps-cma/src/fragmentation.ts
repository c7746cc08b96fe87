// Fragmentation made visible: free-run statistics per heap, a debugfs file, and seeded patterns.

import { type FreeRunStats, type HeapHost, type Kernel, KernelError, textFile } from "@dmabuf/core";
import { ContiguousRegion, type PfnRun } from "./region.js";

/** Where the per-heap fragmentation file lives: `<dir>/<heap>/fragmentation`. */
export const FRAGMENTATION_DEBUGFS_DIR = "/sys/kernel/debug/dma_heap";

/** Free-run statistics of the memory behind one contiguous heap. */
export interface HeapFragmentation extends FreeRunStats {
  /** The heap's name. */
  readonly heap: string;
  /** Where the memory comes from. */
  readonly kind: "cma" | "carveout";
  /** The CMA area's or carveout's name. */
  readonly region: string;
  /** First page frame of the region. */
  readonly basePfn: number;
  /** Pages in the region. */
  readonly pages: number;
  /** Pages per allocation granule. */
  readonly granulePages: number;
}

/**
 * The region behind a contiguous heap.
 * @throws KernelError ENOENT when no heap of that name exists; EINVAL when it is not a CMA or
 * carveout heap.
 */
export function regionOf(kernel: Kernel, heapName: string): ContiguousRegion {
  const heap = kernel.heaps.find(heapName);
  if (!heap) throw new KernelError("ENOENT", "dma_heap", `no heap named ${heapName}`);
  if (!(heap.priv instanceof ContiguousRegion)) {
    throw new KernelError("EINVAL", "dma_heap", `${heapName} is not a contiguous heap`);
  }
  return heap.priv;
}

/**
 * Free-run statistics of a CMA or carveout heap's memory: free pages, the largest free run,
 * the number of free runs, a histogram of free runs by size (index k counts runs of
 * [2^k, 2^(k+1)) pages) and the allocation failures so far.
 * @throws KernelError ENOENT (no such heap), EINVAL (not a contiguous heap).
 */
export function fragmentationStats(kernel: Kernel, heapName: string): HeapFragmentation {
  return describe(heapName, regionOf(kernel, heapName));
}

function describe(heap: string, r: ContiguousRegion): HeapFragmentation {
  return {
    heap,
    kind: r.kind,
    region: r.name,
    basePfn: r.basePfn,
    pages: r.count,
    granulePages: r.granulePages,
    ...r.freeRunStats(),
  };
}

/** Renders the text of `/sys/kernel/debug/dma_heap/<heap>/fragmentation`. */
export function renderFragmentation(f: HeapFragmentation): string {
  const lines = [
    `heap: ${f.heap}`,
    `region: ${f.region} (${f.kind})`,
    `base_pfn: ${f.basePfn}`,
    `pages: ${f.pages}`,
    `granule_pages: ${f.granulePages}`,
    `free_pages: ${f.freePages}`,
    `used_pages: ${f.pages - f.freePages}`,
    `largest_free_run: ${f.largestFreeRun}`,
    `free_runs: ${f.freeRuns}`,
    `alloc_failures: ${f.allocFailures}`,
    "free runs by size (pages):",
  ];
  f.histogram.forEach((runs, k) => {
    const lo = 2 ** k;
    lines.push(`  [${lo}, ${2 * lo}): ${runs}`);
  });
  return `${lines.join("\n")}\n`;
}

/** Installs the fragmentation file of one heap (rendered from live state on every read). */
export function installFragmentationFile(
  host: Pick<HeapHost, "installFile">,
  heapName: string,
  region: ContiguousRegion,
): void {
  host.installFile(
    `${FRAGMENTATION_DEBUGFS_DIR}/${heapName}/fragmentation`,
    textFile(() => renderFragmentation(describe(heapName, region))),
  );
}

/** Options of {@link seedFragmentation}. */
export interface SeedOptions {
  /** Where the pattern starts, in granules from the start of the region; default 0. */
  offset?: number;
  /** Repeat the pattern to the end of the region; default false. */
  repeat?: boolean;
}

/** Pages pinned by {@link seedFragmentation}. */
export interface FragmentationSeed {
  /** The heap whose memory was pinned. */
  readonly heap: string;
  /** The pinned runs, `[firstPfn, pages]`, ascending. */
  readonly runs: readonly PfnRun[];
  /** Total pinned pages. */
  readonly pinnedPages: number;
  /** Gives every pinned page back (once; later calls do nothing). */
  release(): void;
}

/**
 * Seeds a fragmented state: pins pages of a CMA or carveout heap's memory as `pattern` says,
 * so tests can make an allocation fail for want of a contiguous (or aligned) free run.
 *
 * `pattern` has one character per allocation granule (a page for CMA, `2^minOrder` pages for
 * a carveout), from `offset`: `#` or `x` pins the granule, `.` leaves it as it is; whitespace
 * is ignored. With `repeat` the pattern is tiled to the end of the region.
 *
 * @example
 * ```ts
 * // Every other page of the first 64 pinned: no free run longer than 1 page there.
 * const seed = seedFragmentation(kernel, "reserved", "#.".repeat(32));
 * seed.release();
 * ```
 * @returns the pins, with a `release` to give them back
 * @throws KernelError ENOENT (no such heap); EINVAL (not a contiguous heap, a pattern that is
 * empty, has other characters or runs past the region); EBUSY (a granule to pin is in use —
 * nothing is pinned then).
 */
export function seedFragmentation(
  kernel: Kernel,
  heapName: string,
  pattern: string,
  options: SeedOptions = {},
): FragmentationSeed {
  const region = regionOf(kernel, heapName);
  const cells = pattern.replace(/\s+/g, "");
  if (cells.length === 0 || /[^#x.]/.test(cells)) {
    throw new KernelError("EINVAL", "seed_fragmentation", "pattern must be made of #, x and .");
  }
  const gp = region.granulePages;
  const granules = region.count / gp;
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new KernelError("EINVAL", "seed_fragmentation", "offset must be a granule index");
  }
  const length = options.repeat ? granules - offset : cells.length;
  if (length <= 0 || offset + length > granules) {
    throw new KernelError("EINVAL", "seed_fragmentation", "pattern runs past the region");
  }
  const runs: [number, number][] = [];
  for (let i = 0; i < length; i++) {
    if (cells[i % cells.length] === ".") continue;
    const pfn = region.basePfn + (offset + i) * gp;
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === pfn) last[1] += gp;
    else runs.push([pfn, gp]);
  }
  region.pinRuns(runs);
  let released = false;
  return {
    heap: heapName,
    runs,
    pinnedPages: runs.reduce((n, [, pages]) => n + pages, 0),
    release() {
      if (released) return;
      released = true;
      for (const [pfn, pages] of runs) region.releasePages(pfn, pages);
    },
  };
}
