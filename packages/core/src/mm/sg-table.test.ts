// Tests for the struct-of-arrays scatter-gather table.

import { describe, expect, it } from "vitest";
import { SgTable } from "./sg-table.js";

const PAGE = 4096;

function entries(sg: SgTable): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < sg.entryCount; i++) {
    out.push([sg.pfn[i] as number, sg.offset[i] as number, sg.length[i] as number]);
  }
  return out;
}

describe("SgTable.fromPfnRuns", () => {
  it("coalesces physically consecutive pages into one entry", () => {
    const sg = SgTable.fromPfnRuns(PAGE, [10, 11, 12, 20, 21, 5, 4]);
    expect(entries(sg)).toEqual([
      [10, 0, 3 * PAGE],
      [20, 0, 2 * PAGE],
      [5, 0, PAGE],
      [4, 0, PAGE],
    ]);
    expect(sg.origNents).toBe(4);
    expect(sg.entryCount).toBe(4);
    expect(sg.nents).toBe(0);
    expect(sg.totalLength()).toBe(7 * PAGE);
  });

  it("splits runs at maxSegment, rounded down to a page", () => {
    const pfns = Array.from({ length: 10 }, (_, i) => 100 + i);
    const expected = [
      [100, 0, 3 * PAGE],
      [103, 0, 3 * PAGE],
      [106, 0, 3 * PAGE],
      [109, 0, PAGE],
    ];
    expect(entries(SgTable.fromPfnRuns(PAGE, pfns, 3 * PAGE))).toEqual(expected);
    expect(entries(SgTable.fromPfnRuns(PAGE, pfns, 3 * PAGE + 100))).toEqual(expected);
    expect(() => SgTable.fromPfnRuns(PAGE, pfns, PAGE - 1)).toThrow(RangeError);
    expect(() => SgTable.fromPfnRuns(3000, pfns)).toThrow(RangeError);
  });

  it("caps entries at 0xffffffff rounded down to a page by default", () => {
    const pages = 0x100000 + 1; // one page more than fits in 4 GiB - 4 KiB, plus one
    const pfns = new Int32Array(pages);
    for (let i = 0; i < pages; i++) pfns[i] = i;
    const sg = SgTable.fromPfnRuns(PAGE, pfns);
    expect(entries(sg)).toEqual([
      [0, 0, 0xfffff000],
      [0xfffff, 0, 2 * PAGE],
    ]);
    expect(sg.totalLength()).toBe(pages * PAGE);
  });

  it("builds an empty table from no pages", () => {
    const sg = SgTable.fromPfnRuns(PAGE, []);
    expect(sg.entryCount).toBe(0);
    expect(sg.totalLength()).toBe(0);
    expect(sg.isContiguous(PAGE)).toBe(false);
  });
});

describe("SgTable entries", () => {
  it("grows past its initial capacity without losing entries", () => {
    const sg = new SgTable(1);
    for (let i = 0; i < 100; i++) sg.append(i * 2, PAGE + i, i % 7);
    expect(sg.entryCount).toBe(100);
    expect(sg.pfn.length).toBeGreaterThanOrEqual(100);
    for (let i = 0; i < 100; i++) {
      expect([sg.pfn[i], sg.length[i], sg.offset[i]]).toEqual([i * 2, PAGE + i, i % 7]);
    }
    expect(sg.totalLength()).toBe(100 * PAGE + (99 * 100) / 2);
  });

  it("validates appended entries", () => {
    const sg = new SgTable();
    expect(() => sg.append(-1, PAGE)).toThrow(RangeError);
    expect(() => sg.append(0, 0)).toThrow(RangeError);
    expect(() => sg.append(0, PAGE, -1)).toThrow(RangeError);
    expect(() => sg.append(0.5, PAGE)).toThrow(RangeError);
    expect(sg.entryCount).toBe(0);
  });

  it("detects physical contiguity across entries, including sub-page offsets", () => {
    expect(SgTable.fromPfnRuns(PAGE, [7, 8, 9], PAGE).isContiguous(PAGE)).toBe(true);
    expect(SgTable.fromPfnRuns(PAGE, [7, 9]).isContiguous(PAGE)).toBe(false);
    const sg = new SgTable();
    sg.append(5, 96, 4000);
    sg.append(6, 50);
    sg.append(6, 10, 50);
    expect(sg.isContiguous(PAGE)).toBe(true);
    sg.append(6, 10, 61);
    expect(sg.isContiguous(PAGE)).toBe(false);
  });

  it("walks ranges with their physical address and table offset", () => {
    const sg = new SgTable();
    sg.append(10, 2 * PAGE);
    sg.append(3, 100, 8);
    const seen: number[][] = [];
    sg.forEachRange(PAGE, (phys, length, at) => seen.push([phys, length, at]));
    expect(seen).toEqual([
      [10 * PAGE, 2 * PAGE, 0],
      [3 * PAGE + 8, 100, 2 * PAGE],
    ]);
  });

  it("maps byte offsets to physical addresses", () => {
    const sg = new SgTable();
    sg.append(10, 2 * PAGE);
    sg.append(3, PAGE);
    sg.append(7, 100, 50);
    expect(sg.physAt(0, PAGE)).toBe(10 * PAGE);
    expect(sg.physAt(2 * PAGE - 1, PAGE)).toBe(12 * PAGE - 1);
    expect(sg.physAt(2 * PAGE, PAGE)).toBe(3 * PAGE);
    expect(sg.physAt(3 * PAGE, PAGE)).toBe(7 * PAGE + 50);
    expect(sg.physAt(3 * PAGE + 99, PAGE)).toBe(7 * PAGE + 149);
    expect(() => sg.physAt(3 * PAGE + 100, PAGE)).toThrow(RangeError);
    expect(() => sg.physAt(-1, PAGE)).toThrow(RangeError);
    // Appending after a lookup extends the cached prefix sums.
    sg.append(40, PAGE);
    expect(sg.totalLength()).toBe(4 * PAGE + 100);
    expect(sg.physAt(3 * PAGE + 100, PAGE)).toBe(40 * PAGE);
    expect(sg.physAt(0, PAGE)).toBe(10 * PAGE);
  });

  it("agrees with a linear walk for every page of a fragmented table", () => {
    const pfns = Array.from({ length: 200 }, (_, i) => (i * 37) % 211);
    const sg = SgTable.fromPfnRuns(PAGE, pfns);
    for (let i = 0; i < pfns.length; i++) {
      expect(sg.physAt(i * PAGE + 123, PAGE)).toBe((pfns[i] as number) * PAGE + 123);
    }
  });
});

describe("SgTable DMA state and cloning", () => {
  it("records DMA segments and the mapped entry count", () => {
    const sg = SgTable.fromPfnRuns(PAGE, [1, 2, 8]);
    sg.setDma(0, 0x1000_0000, 2 * PAGE);
    sg.setDma(1, 0x2000_0000, PAGE);
    sg.setNents(2);
    expect(sg.nents).toBe(2);
    expect(sg.origNents).toBe(2);
    expect([sg.dmaAddress[0], sg.dmaLength[0], sg.dmaAddress[1]]).toEqual([
      0x1000_0000,
      2 * PAGE,
      0x2000_0000,
    ]);
    expect(() => sg.setDma(2, 0, PAGE)).toThrow(RangeError);
    expect(() => sg.setDma(0, -1, PAGE)).toThrow(RangeError);
    expect(() => sg.setNents(3)).toThrow(RangeError);
    sg.setNents(0);
    expect(sg.nents).toBe(0);
  });

  it("clones CPU entries only, into independent storage", () => {
    const sg = SgTable.fromPfnRuns(PAGE, [1, 2, 8]);
    sg.setDma(0, 0xabc000, 2 * PAGE);
    sg.setNents(1);
    const copy = sg.clone();
    expect(entries(copy)).toEqual(entries(sg));
    expect(copy.nents).toBe(0);
    expect(copy.dmaAddress[0]).toBe(0);
    copy.append(50, PAGE);
    copy.setDma(0, 0x5000, PAGE);
    expect(sg.entryCount).toBe(2);
    expect(sg.totalLength()).toBe(3 * PAGE);
    expect(sg.dmaAddress[0]).toBe(0xabc000);
    expect(copy.totalLength()).toBe(4 * PAGE);
    expect(copy.pfn).not.toBe(sg.pfn);
  });
});
