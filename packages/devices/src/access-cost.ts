// What the realistic cache model charges for a CPU access, by line, hit, miss or uncached.

/**
 * Virtual nanoseconds the realistic cache model charges per cache line a CPU access spans
 * ({@link CacheStats.accessNs}). The figures are Peter Norvig's "approximate timing for
 * various operations on a typical PC" (<https://norvig.com/21-days.html#answers>): a fetch
 * from L1 cache takes 0.5 ns, a fetch from main memory 100 ns — a ratio of 200.
 *
 * - `hit`: a line already in the cache (L1 fetch, 0.5 ns).
 * - `miss`: a line the cache fetches from RAM first (a main-memory fetch, 100 ns).
 * - `uncached`: a line reached through an uncached or write-combine mapping, which goes to RAM
 *   on every access (a main-memory fetch, 100 ns). A write-combine store is charged the same
 *   per line: the combining buffer merges the stores to one line into one burst, and nothing
 *   is kept for the next access.
 *
 * The costs are a counter, not time: they never advance the kernel's clock.
 */
export const CPU_ACCESS_COST_NS = { hit: 0.5, miss: 100, uncached: 100 } as const;
