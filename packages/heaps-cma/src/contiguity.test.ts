// Tests of the contiguity helpers heap authors use on their sg tables.

import { AssertionError } from "node:assert";
import { SgTable } from "@dmabuf/core";
import { describe, expect, it } from "vitest";
import { expectContiguous, isPhysicallyContiguous } from "./index.js";

const PS = 4096;

function table(entries: [pfn: number, length: number, offset?: number][]): SgTable {
  const t = new SgTable();
  for (const [pfn, length, offset] of entries) t.append(pfn, length, offset);
  return t;
}

describe("isPhysicallyContiguous / expectContiguous", () => {
  it("accept one run, also when split into several entries", () => {
    const one = table([[16, 8 * PS]]);
    const split = table([
      [16, 2 * PS],
      [18, PS],
      [19, 5 * PS],
    ]);
    expect(isPhysicallyContiguous(one)).toBe(true);
    expect(isPhysicallyContiguous(split, PS)).toBe(true);
    expect(expectContiguous(split, PS)).toEqual({ phys: 16 * PS, length: 8 * PS });
    expect(expectContiguous(SgTable.fromPfnRuns(PS, [3, 4, 5], 2 * PS), PS)).toEqual({
      phys: 3 * PS,
      length: 3 * PS,
    });
  });

  it("reject a gap, a jump back, and an empty table, naming the entries", () => {
    const gap = table([
      [16, PS],
      [18, PS],
    ]);
    const back = table([
      [16, PS],
      [15, PS],
    ]);
    for (const t of [gap, back, new SgTable()]) {
      expect(isPhysicallyContiguous(t, PS)).toBe(false);
      expect(() => expectContiguous(t, PS)).toThrow(AssertionError);
    }
    expect(() => expectContiguous(gap, PS)).toThrow(
      "sg table is not one physically contiguous run: [0x10000+0x1000, 0x12000+0x1000]",
    );
    expect(() => expectContiguous(new SgTable(), PS)).toThrow("[empty]");
  });

  it("honour in-page offsets", () => {
    const t = table([
      [16, PS - 100, 100],
      [17, PS],
    ]);
    expect(expectContiguous(t, PS)).toEqual({ phys: 16 * PS + 100, length: 2 * PS - 100 });
    expect(
      isPhysicallyContiguous(
        table([
          [16, 100],
          [17, PS],
        ]),
        PS,
      ),
    ).toBe(false);
  });
});
