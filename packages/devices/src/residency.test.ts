// Tests that touching a run in one step leaves the LRU tag store as touching every line would.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { SetAssociativeLru } from "./residency.js";

test.prop(
  [
    fc.constantFrom([4, 1], [8, 2], [16, 4], [12, 3], [8, 8]),
    fc.array(fc.nat(200), { maxLength: 40 }),
    fc.nat(100),
    fc.nat(60),
    fc.array(fc.nat(300), { maxLength: 60 }),
  ],
  { numRuns: 500 },
)(
  "a run touched in one step evicts and keeps what line-by-line touches do",
  ([lines, ways], before, l0, length, after) => {
    const slow = new SetAssociativeLru(lines, ways);
    const fast = new SetAssociativeLru(lines, ways);
    for (const l of before) {
      slow.touch(l);
      fast.touch(l);
    }
    const l1 = l0 + length;
    const slowEvicted: number[] = [];
    for (let l = l0; l < l1; l++) {
      const ev = slow.touch(l);
      if (ev >= 0) slowEvicted.push(ev);
    }
    const fastEvicted: number[] = [];
    const keep = fast.touchRun(l0, l1, (l) => fastEvicted.push(l));
    // Lines reported are evicted before their turn: none of them was touched by the run yet.
    for (let l = l0; l < keep; l++) fastEvicted.push(l);
    expect(fastEvicted.sort((a, b) => a - b)).toEqual(slowEvicted.sort((a, b) => a - b));
    expect(keep).toBe(Math.max(l0, l1 - fast.sets * fast.ways));
    // Same residency and recency: any later touches evict the same lines.
    for (const l of after) expect(fast.touch(l)).toBe(slow.touch(l));
  },
);
