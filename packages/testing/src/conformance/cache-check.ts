// The checking cache model the data-path cases run under, and how they read its findings.

import type { Kernel } from "@dmabuf/core";
import { type CacheModel, cacheModelOf, installCacheModel } from "@dmabuf/devices";
import { ConformanceFailure } from "./assert.js";

/**
 * The kernel's cache model: the one the kernel was booted with (a user who lists
 * `CacheModel` in the kernel configuration keeps theirs, realistic mode included), else a
 * checking one installed now. Checking mode never evicts a line, so every missing,
 * partial, swapped or wrong-direction sync is seen the same way on every run.
 */
export function checkingCache(kernel: Kernel): CacheModel {
  return (
    cacheModelOf(kernel) ??
    installCacheModel(kernel, { mode: "checking", fatal: false, dmaDebugFatal: false })
  );
}

/** A mark in a cache model's violations, and the check that nothing was found since. */
export interface CoherencyMark {
  /**
   * Requires no coherency violation since the mark (or the last check).
   * @throws ConformanceFailure EXPECTATION_FAILED naming `what` and the first violation.
   */
  expectNone(what: string): void;
}

/** Marks `cache`'s violations now. */
export function markViolations(cache: CacheModel): CoherencyMark {
  let seen = cache.checker.violations.length;
  return {
    expectNone(what) {
      const found = cache.checker.violations.slice(seen);
      seen = cache.checker.violations.length;
      const first = found[0];
      if (first) {
        throw new ConformanceFailure(
          "EXPECTATION_FAILED",
          `${what}: coherency ${first.kind}: ${first.message}`,
        );
      }
    },
  };
}
