// Tests that a page table maps contiguous runs across leaves as page-by-page mapping does.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
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
