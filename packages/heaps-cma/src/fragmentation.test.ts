// Tests of the fragmentation tools: statistics, the debugfs file, and seeded patterns.

import { createKernel, errnoOf } from "@dmabuf/core";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import {
  CarveoutHeap,
  CmaHeap,
  FRAGMENTATION_DEBUGFS_DIR,
  fragmentationStats,
  seedFragmentation,
} from "./index.js";
import { alloc, KiB, MiB, PS } from "./test-fixtures.js";

function boot() {
  const kernel = createKernel({
    ram: "256MiB",
    cma: { size: "2MiB" },
    plugins: [
      SystemHeap,
      CmaHeap,
      {
        plugin: CarveoutHeap,
        config: { heaps: [{ name: "carve", size: "1MiB", minOrder: 2, allocator: "best-fit" }] },
      },
    ],
  });
  return { kernel, proc: kernel.spawn() };
}

describe("the fragmentation file", () => {
  it("exists for every contiguous heap and renders live state", () => {
    const { kernel, proc } = boot();
    expect(proc.readdir(FRAGMENTATION_DEBUGFS_DIR)).toEqual([
      "default_cma_region",
      "reserved",
      "carve",
    ]);
    const base = kernel.defaultCmaArea?.basePfn as number;
    const path = `${FRAGMENTATION_DEBUGFS_DIR}/reserved/fragmentation`;
    expect(proc.readFile(path)).toBe(
      [
        "heap: reserved",
        "region: reserved (cma)",
        `base_pfn: ${base}`,
        "pages: 512",
        "granule_pages: 1",
        "free_pages: 512",
        "used_pages: 0",
        "largest_free_run: 512",
        "free_runs: 1",
        "alloc_failures: 0",
        "free runs by size (pages):",
        "  [1, 2): 0",
        "  [2, 4): 0",
        "  [4, 8): 0",
        "  [8, 16): 0",
        "  [16, 32): 0",
        "  [32, 64): 0",
        "  [64, 128): 0",
        "  [128, 256): 0",
        "  [256, 512): 0",
        "  [512, 1024): 1",
        "",
      ].join("\n"),
    );
    seedFragmentation(kernel, "reserved", "#...#", { offset: 3 });
    const text = proc.readFile(path);
    expect(text).toContain(
      "\nfree_pages: 510\nused_pages: 2\nlargest_free_run: 504\nfree_runs: 3\n",
    );
    expect(text).toContain("\n  [2, 4): 2\n  [4, 8): 0\n");
    expect(text.endsWith("\n  [256, 512): 1\n")).toBe(true);
  });

  it("shows carveout granules and failures", () => {
    const { kernel, proc } = boot();
    alloc(kernel, proc, "carve", PS);
    expect(errnoOf(() => alloc(kernel, proc, "carve", MiB))).toBe("ENOMEM");
    const text = proc.readFile(`${FRAGMENTATION_DEBUGFS_DIR}/carve/fragmentation`);
    expect(text).toMatch(/^heap: carve\nregion: carve \(carveout\)\n/);
    expect(text).toContain("\npages: 256\ngranule_pages: 4\nfree_pages: 252\nused_pages: 4\n");
    expect(text).toContain("\nalloc_failures: 1\n");
  });
});

describe("seedFragmentation", () => {
  it("pins pages of a CMA area as the pattern says, and gives them back", () => {
    const { kernel } = boot();
    const area = kernel.defaultCmaArea as NonNullable<typeof kernel.defaultCmaArea>;
    const seed = seedFragmentation(kernel, "default_cma_region", "##..#. x", { offset: 8 });
    expect(seed.runs).toEqual([
      [area.basePfn + 8, 2],
      [area.basePfn + 12, 1],
      [area.basePfn + 14, 1],
    ]);
    expect(seed.pinnedPages).toBe(4);
    expect(area.availableCount).toBe(508);
    for (let p = 0; p < 20; p++) {
      expect(area.isAllocated(area.basePfn + p), `page ${p}`).toBe([8, 9, 12, 14].includes(p));
    }
    expect(fragmentationStats(kernel, "reserved").allocFailures).toBe(0);
    seed.release();
    seed.release();
    expect(area.availableCount).toBe(512);
    expect(fragmentationStats(kernel, "reserved")).toMatchObject({
      freeRuns: 1,
      largestFreeRun: 512,
    });
  });

  it("repeats a pattern to the end of the region, around buffers already there", () => {
    const { kernel, proc } = boot();
    const area = kernel.defaultCmaArea as NonNullable<typeof kernel.defaultCmaArea>;
    const first = alloc(kernel, proc, "reserved", 16 * KiB);
    const seed = seedFragmentation(kernel, "reserved", "#...", { offset: 4, repeat: true });
    expect(seed.pinnedPages).toBe(127);
    expect(first.buf.priv.basePfn).toBe(area.basePfn);
    expect(fragmentationStats(kernel, "reserved")).toMatchObject({
      freePages: 512 - 4 - 127,
      largestFreeRun: 3,
      freeRuns: 127,
    });
    // 8 KiB fits (2 pages at an even frame), 12 KiB does not (3 pages at a 4-page boundary).
    expect(alloc(kernel, proc, "reserved", 8 * KiB).buf.priv.basePfn).toBe(area.basePfn + 6);
    expect(errnoOf(() => alloc(kernel, proc, "reserved", 12 * KiB))).toBe("ENOMEM");
    expect(errnoOf(() => alloc(kernel, proc, "reserved", 16 * KiB))).toBe("ENOMEM");
  });

  it("pins carveout granules", () => {
    const { kernel, proc } = boot();
    const seed = seedFragmentation(kernel, "carve", "#.#", { repeat: true });
    expect(seed.runs[0]?.[1]).toBe(4);
    expect(fragmentationStats(kernel, "carve")).toMatchObject({ largestFreeRun: 4 });
    expect(errnoOf(() => alloc(kernel, proc, "carve", 8 * PS))).toBe("ENOMEM");
    seed.release();
    expect(alloc(kernel, proc, "carve", MiB).buf.priv.pagecount).toBe(256);
  });

  it("refuses unknown heaps, other heaps, bad patterns, and pages in use (pinning nothing)", () => {
    const { kernel, proc } = boot();
    expect(errnoOf(() => seedFragmentation(kernel, "nope", "#"))).toBe("ENOENT");
    expect(errnoOf(() => seedFragmentation(kernel, "system", "#"))).toBe("EINVAL");
    expect(errnoOf(() => seedFragmentation(kernel, "reserved", ""))).toBe("EINVAL");
    expect(errnoOf(() => seedFragmentation(kernel, "reserved", "#-#"))).toBe("EINVAL");
    expect(errnoOf(() => seedFragmentation(kernel, "reserved", "#", { offset: 512 }))).toBe(
      "EINVAL",
    );
    alloc(kernel, proc, "reserved", PS);
    const area = kernel.defaultCmaArea as NonNullable<typeof kernel.defaultCmaArea>;
    // Page 0 holds the buffer: pinning it fails, and page 2 is not pinned either.
    expect(errnoOf(() => seedFragmentation(kernel, "reserved", "#.#"))).toBe("EBUSY");
    expect(area.availableCount).toBe(511);
    expect(area.isAllocated(area.basePfn + 2)).toBe(false);
  });
});
