// Tests of the carveout allocator: placement, granules, merging, claims, and a bitmap model.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { GenPool, type GenPoolAlgorithm } from "./gen-pool.js";

/**
 * A crafted sequence on 16 pages: A=2 (0-1), B=4 (2-5), C=1 (6), D=3 (7-9), E=2 (10-11);
 * freeing B and D leaves free runs of 4 at 2, 3 at 7 and 4 at 12.
 */
function crafted(algorithm: GenPoolAlgorithm): GenPool {
  const pool = new GenPool("p", 0, 16, algorithm);
  expect([2, 4, 1, 3, 2].map((n) => pool.alloc(n))).toEqual([0, 2, 6, 7, 10]);
  expect(pool.free(2, 4)).toBe(true);
  expect(pool.free(7, 3)).toBe(true);
  expect(pool.freeRuns()).toEqual([
    [2, 4],
    [7, 3],
    [12, 4],
  ]);
  return pool;
}

describe("GenPool placement", () => {
  it("first fit takes the lowest run that is large enough", () => {
    const pool = crafted("first-fit");
    expect(pool.alloc(3)).toBe(2);
    expect(pool.alloc(1)).toBe(5);
    expect(pool.alloc(4)).toBe(12);
    expect(pool.alloc(2)).toBe(7);
  });

  it("best fit takes the smallest run that is large enough, the lowest of equals", () => {
    const pool = crafted("best-fit");
    expect(pool.alloc(3)).toBe(7);
    expect(pool.alloc(1)).toBe(2);
    expect(pool.alloc(4)).toBe(12);
    expect(pool.alloc(3)).toBe(3);
  });

  it("allocates in granules of 2^minOrder pages from a granule-aligned base", () => {
    const pool = new GenPool("g", 64, 32, "first-fit", 2);
    expect(pool.granulePages).toBe(4);
    expect(pool.alloc(1)).toBe(64);
    expect(pool.availableCount).toBe(28);
    expect(pool.alloc(5)).toBe(68);
    expect(pool.alloc(4)).toBe(76);
    expect(pool.free(68, 5)).toBe(true);
    expect(pool.freeRunStats()).toMatchObject({ freePages: 24, largestFreeRun: 16, freeRuns: 2 });
    expect(() => new GenPool("bad", 2, 32, "first-fit", 2)).toThrow(RangeError);
    expect(() => new GenPool("bad", 0, 30, "first-fit", 2)).toThrow(RangeError);
  });

  it("fails with -1 and counts the failure when no run is large enough", () => {
    const pool = crafted("first-fit");
    expect(pool.alloc(5)).toBe(-1);
    expect(pool.alloc(12)).toBe(-1);
    expect(pool.alloc(0)).toBe(-1);
    expect(pool.freeRunStats()).toEqual({
      freePages: 11,
      largestFreeRun: 4,
      freeRuns: 3,
      histogram: [0, 1, 2],
      allocFailures: 2,
    });
  });
});

describe("GenPool free and claim", () => {
  it("merges with both neighbours", () => {
    const pool = new GenPool("p", 100, 12);
    const [a, b, c] = [pool.alloc(4), pool.alloc(4), pool.alloc(4)];
    pool.free(a, 4);
    pool.free(c, 4);
    expect(pool.freeRuns()).toEqual([
      [100, 4],
      [108, 4],
    ]);
    pool.free(b, 4);
    expect(pool.freeRuns()).toEqual([[100, 12]]);
    expect(pool.availableCount).toBe(12);
  });

  it("refuses double frees, ranges outside the pool and unaligned ranges, changing nothing", () => {
    const pool = new GenPool("p", 0, 16, "first-fit", 1);
    const a = pool.alloc(4);
    const runs = pool.freeRuns();
    expect(pool.free(a + 4, 2)).toBe(false);
    expect(pool.free(14, 4)).toBe(false);
    expect(pool.free(1, 2)).toBe(false);
    expect(pool.free(-2, 2)).toBe(false);
    expect(pool.free(a, 2)).toBe(true);
    expect(pool.free(a, 2)).toBe(false);
    expect(pool.freeRuns()).toEqual([[0, 2], ...runs]);
  });

  it("claims a fixed range anywhere in a free run, and only a free one", () => {
    const pool = new GenPool("p", 0, 16);
    expect(pool.claim(5, 2)).toBe(true);
    expect(pool.claim(0, 1)).toBe(true);
    expect(pool.claim(15, 1)).toBe(true);
    expect(pool.freeRuns()).toEqual([
      [1, 4],
      [7, 8],
    ]);
    expect(pool.claim(4, 2)).toBe(false);
    expect(pool.claim(15, 2)).toBe(false);
    expect([0, 4, 5, 6, 7, 15].map((p) => pool.isAllocated(p))).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
    ]);
    expect(pool.availableCount).toBe(12);
  });
});

/** The obvious model: one flag per granule, searched naively. */
class BitmapModel {
  readonly used: boolean[];
  constructor(
    readonly granules: number,
    readonly algorithm: GenPoolAlgorithm,
  ) {
    this.used = new Array<boolean>(granules).fill(false);
  }
  runs(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.granules; ) {
      if (this.used[i]) {
        i++;
        continue;
      }
      let j = i;
      while (j < this.granules && !this.used[j]) j++;
      out.push([i, j - i]);
      i = j;
    }
    return out;
  }
  alloc(n: number): number {
    const fits = this.runs().filter(([, l]) => l >= n);
    if (fits.length === 0) return -1;
    const pick =
      this.algorithm === "first-fit"
        ? fits[0]
        : fits.reduce((best, r) => (r[1] < best[1] ? r : best));
    const start = (pick as [number, number])[0];
    for (let i = start; i < start + n; i++) this.used[i] = true;
    return start;
  }
  free(start: number, n: number): void {
    for (let i = start; i < start + n; i++) this.used[i] = false;
  }
}

describe("GenPool against a bitmap model", () => {
  test.prop([
    fc.constantFrom<GenPoolAlgorithm>("first-fit", "best-fit"),
    fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 24 }), fc.nat()), {
      maxLength: 200,
    }),
  ])("places and frees exactly as the model does", (algorithm, ops) => {
    const granules = 64;
    const pool = new GenPool("p", 1024, granules * 2, algorithm, 1);
    const model = new BitmapModel(granules, algorithm);
    const live: [number, number][] = [];
    for (const [allocate, size, pick] of ops) {
      if (allocate || live.length === 0) {
        const pfn = pool.alloc(size * 2);
        const g = model.alloc(size);
        expect(pfn).toBe(g < 0 ? -1 : 1024 + g * 2);
        if (g >= 0) live.push([pfn, size * 2]);
      } else {
        const [pfn, pages] = live.splice(pick % live.length, 1)[0] as [number, number];
        expect(pool.free(pfn, pages)).toBe(true);
        model.free((pfn - 1024) / 2, pages / 2);
      }
      expect(pool.freeRuns()).toEqual(model.runs().map(([s, l]) => [1024 + s * 2, l * 2]));
    }
  });
});
