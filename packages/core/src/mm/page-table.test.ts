// Tests that a page table maps contiguous runs across leaves as page-by-page mapping does,
// and that its leaves, sized to the table, keep every page of a copied or grown table.

import { fc, test } from "@fast-check/vitest";
import { expect, it } from "vitest";
import { PageTable } from "./page-table.js";

test.prop([fc.array(fc.tuple(fc.nat(1500), fc.nat(100_000), fc.nat(1100)), { maxLength: 6 })], {
  numRuns: 60,
})("setRun maps the same frames as set page by page", (runs) => {
  const bulk = new PageTable(2600);
  const byPage = new PageTable(2600);
  for (const [page, pfn, count] of runs) {
    bulk.setRun(page, pfn, count);
    for (let i = 0; i < count; i++) byPage.set(page + i, pfn + i);
  }
  const frames = (t: PageTable) => Array.from({ length: 2600 }, (_, p) => t.get(p));
  expect(frames(bulk)).toEqual(frames(byPage));
  expect([...bulk.populated()].sort((a, b) => a[0] - b[0])).toEqual(
    [...byPage.populated()].sort((a, b) => a[0] - b[0]),
  );
});

it("leaves hold only the table's pages: a grown copy maps its new pages, the range is checked", () => {
  const small = new PageTable(3);
  small.setRun(0, 100, 3);
  expect(() => small.set(3, 7)).toThrow(RangeError);
  expect(() => small.setRun(2, 7, 2)).toThrow(RangeError);
  expect(small.get(3)).toBe(-1);
  const grown = new PageTable(600);
  grown.copyFrom(small, 3);
  grown.set(5, 9);
  grown.set(513, 11);
  expect([0, 1, 2, 3, 5, 513].map((p) => grown.get(p))).toEqual([100, 101, 102, -1, 9, 11]);
  const shrunk = new PageTable(2);
  shrunk.copyFrom(grown, 2);
  expect([...shrunk.populated()]).toEqual([
    [0, 100],
    [1, 101],
  ]);
  grown.clearRange(512, 600);
  expect(grown.get(513)).toBe(-1);
  expect([...grown.populated()].length).toBe(4);
});
