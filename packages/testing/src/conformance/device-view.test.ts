// The suites' byte helpers: the page pattern by its definition, first-difference scans, scratch.

import { describe, expect, it } from "vitest";
import { firstDifference, firstNonZero, pagePattern } from "./device-view.js";
import { Scratch } from "./scratch.js";

/** The pattern byte by byte, as its documentation defines it. */
function definedPattern(size: number, pageSize: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const p = Math.floor(i / pageSize);
    const j = i - p * pageSize;
    const head = [p & 0xff, (p >>> 8) & 0xff, (p >>> 16) & 0xff, (p >>> 24) & 0xff, seed & 0xff];
    out[i] = j < head.length ? (head[j] as number) : (p * 131 + j * 7 + seed * 29 + 1) & 0xff;
  }
  return out;
}

describe("pagePattern", () => {
  it.each([
    [3 * 4096 + 77, 4096, 11],
    [40 * 4096 + 5, 4096, 255],
    [70_000, 16_384, 3],
    [65_536 * 2 + 1, 65_536, 200],
    [3, 4096, 9],
    [1000, 300, 7],
  ])("%i bytes of %i-byte pages, seed %i, match the definition", (size, ps, seed) => {
    const got = pagePattern(size, ps, seed);
    const want = definedPattern(size, ps, seed);
    expect(firstDifference(got, want)).toBe(-1);
    expect(Array.from(got.subarray(0, 600))).toEqual(Array.from(want.subarray(0, 600)));
  });
});

describe("pagePattern into a caller's array", () => {
  it("writes the same bytes over whatever the array held and returns the view written", () => {
    const into = new Uint8Array(3 * 4096).fill(0xee);
    const got = pagePattern(2 * 4096 + 9, 4096, 21, into);
    expect(got.buffer).toBe(into.buffer);
    expect(got.length).toBe(2 * 4096 + 9);
    expect(firstDifference(got, pagePattern(2 * 4096 + 9, 4096, 21))).toBe(-1);
    expect(into[2 * 4096 + 9]).toBe(0xee);
    expect(() => pagePattern(4097, 4096, 1, new Uint8Array(4096))).toThrow(RangeError);
  });
});

describe("Scratch", () => {
  it("hands out one array again, grown when asked for more, fresh past 4 MiB", () => {
    const s = new Scratch();
    const a = s.take(100);
    expect(s.take(50).buffer).toBe(a.buffer);
    expect(s.take(50).length).toBe(50);
    expect(s.take(200).buffer).toBe(a.buffer);
    const b = s.take(201);
    expect(b.buffer).not.toBe(a.buffer);
    expect(s.take(10).buffer).toBe(b.buffer);
    const big = s.take(4 * 1024 * 1024 + 1);
    expect(big.length).toBe(4 * 1024 * 1024 + 1);
    expect(s.take(10).buffer).toBe(b.buffer);
  });
});

describe("firstDifference and firstNonZero", () => {
  it("find the first differing / non-zero byte at every position, aligned or not", () => {
    const a = new Uint8Array(1030);
    for (const at of [0, 1, 3, 4, 5, 511, 1024, 1027, 1029]) {
      for (const offset of [0, 1, 4]) {
        const x = a.subarray(offset);
        const y = new Uint8Array(x.length);
        expect(firstDifference(x, y)).toBe(-1);
        expect(firstNonZero(x)).toBe(-1);
        if (at >= x.length) continue;
        y[at] = 1;
        expect(firstDifference(x, y)).toBe(at);
        expect(firstDifference(y, x)).toBe(at);
        expect(firstNonZero(y)).toBe(at);
        if (at > 2) y[at - 2] = 9;
        expect(firstNonZero(y)).toBe(at > 2 ? at - 2 : at);
      }
    }
  });

  it("a shorter array differs where it ends", () => {
    expect(firstDifference(new Uint8Array(8), new Uint8Array(13))).toBe(8);
    expect(firstDifference(new Uint8Array(0), new Uint8Array(0))).toBe(-1);
  });
});
