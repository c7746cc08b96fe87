// The per-case time limit: a synchronous loop is stopped, values and errors pass through.

import { describe, expect, it } from "vitest";
import { withinTimeLimit } from "./time-limit.js";

describe("withinTimeLimit", () => {
  it("stops a function that never returns, and the next call runs normally", () => {
    let spins = 0;
    const t0 = performance.now();
    const stuck = withinTimeLimit(100, () => {
      for (;;) {
        try {
          spins++;
        } finally {
          // A finally block in the stopped code does not keep it running.
        }
      }
    });
    expect(stuck).toEqual({ timedOut: true });
    expect(spins).toBeGreaterThan(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(withinTimeLimit(100, () => 42)).toEqual({ timedOut: false, value: 42 });
  });

  it("returns what the function returns and lets what it throws through", () => {
    expect(withinTimeLimit(10_000, () => "done")).toEqual({ timedOut: false, value: "done" });
    expect(() =>
      withinTimeLimit(1000, () => {
        throw new RangeError("out of range");
      }),
    ).toThrow(RangeError);
  });
});
