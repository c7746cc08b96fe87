// LineSet and LineTags against a plain model, across word and chunk boundaries.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineSet, LineTags } from "./line-set.js";

const LINES = 3 * 32768 + 100;

function runsOf(set: LineSet, l0: number, l1: number): [number, number][] {
  const out: [number, number][] = [];
  set.forEachRun(l0, l1, (a, b) => out.push([a, b]));
  return out;
}

function modelRuns(model: Uint8Array, l0: number, l1: number): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = l0; i <= l1; i++) {
    const on = i < l1 && model[i] === 1;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

const range = fc
  .tuple(fc.integer({ min: 0, max: LINES }), fc.integer({ min: 0, max: 70000 }))
  .map(([a, n]) => [a, Math.min(LINES, a + n)] as const);

describe("LineSet", () => {
  it("matches a byte-per-line model under random adds and removes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), range), { maxLength: 12 }),
        range,
        (ops, [q0, q1]) => {
          const set = new LineSet(LINES);
          const model = new Uint8Array(LINES);
          for (const [add, [a, b]] of ops) {
            const before = model.subarray(a, b).reduce((s, x) => s + x, 0);
            const changed = add ? set.addRange(a, b) : set.removeRange(a, b);
            model.fill(add ? 1 : 0, a, b);
            expect(changed).toBe(add ? b - a - before : before);
          }
          expect(set.size).toBe(model.reduce((s, x) => s + x, 0));
          expect(runsOf(set, q0, q1)).toEqual(modelRuns(model, q0, q1));
          expect(set.any(q0, q1)).toBe(model.subarray(q0, q1).includes(1));
          const gaps: [number, number][] = [];
          set.forEachGap(q0, q1, (a, b) => gaps.push([a, b]));
          const inverse = model.map((x) => 1 - x);
          expect(gaps).toEqual(modelRuns(inverse, q0, q1));
          for (const l of [q0, q1 - 1, 32767, 32768]) {
            if (l >= 0 && l < LINES) expect(set.has(l)).toBe(model[l] === 1);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("runs continue across words and chunks", () => {
    const set = new LineSet(LINES);
    set.addRange(30, 32768 + 40);
    set.addRange(2 * 32768, 3 * 32768);
    expect(runsOf(set, 0, LINES)).toEqual([
      [30, 32768 + 40],
      [2 * 32768, 3 * 32768],
    ]);
    expect(runsOf(set, 40, 50)).toEqual([[40, 50]]);
    expect(set.removeRange(0, LINES)).toBe(32768 + 10 + 32768);
    expect(set.size).toBe(0);
    expect(set.any(0, LINES)).toBe(false);
  });
});

describe("LineTags", () => {
  it("stores a tag per line, 0 where never set", () => {
    const tags = new LineTags(LINES);
    expect(tags.get(5)).toBe(0);
    tags.setRange(32760, 32780, 7);
    tags.setRange(32770, 32771, 9);
    expect([tags.get(32759), tags.get(32760), tags.get(32770), tags.get(32779)]).toEqual([
      0, 7, 9, 7,
    ]);
  });
});
