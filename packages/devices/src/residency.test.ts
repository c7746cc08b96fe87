// Tests that finishing a long run in one step leaves the LRU tag store as touching every line would.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { SetAssociativeLru } from "./residency.js";

test.prop(
  [
    fc.constantFrom([4, 1], [8, 2], [16, 4], [12, 3]),
    fc.array(fc.nat(200), { maxLength: 40 }),
    fc.nat(100),
    fc.nat(60),
    fc.array(fc.nat(300), { maxLength: 60 }),
  ],
  { numRuns: 300 },
)(
  "a run finished in one step evicts and keeps what line-by-line touches do",
  ([lines, ways], before, l0, extra, after) => {
    const slow = new SetAssociativeLru(lines, ways);
    const fast = new SetAssociativeLru(lines, ways);
    for (const l of before) {
      slow.touch(l);
      fast.touch(l);
    }
    const cap = slow.sets * slow.ways;
    const l1 = l0 + cap + extra;
    const slowEvicted: number[] = [];
    const fastEvicted: number[] = [];
    for (let l = l0; l < l1; l++) {
      const ev = slow.touch(l);
      if (ev >= 0) slowEvicted.push(ev);
    }
    for (let l = l0; l < l0 + cap; l++) {
      const ev = fast.touch(l);
      if (ev >= 0) fastEvicted.push(ev);
    }
    fast.finishRun(l0, l1);
    for (let l = l0; l < l1 - cap; l++) fastEvicted.push(l);
    expect(fastEvicted.sort((a, b) => a - b)).toEqual(slowEvicted.sort((a, b) => a - b));
    // Same residency and recency: any later touches evict the same lines.
    for (const l of after) expect(fast.touch(l)).toBe(slow.touch(l));
  },
);
