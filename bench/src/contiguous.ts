// Contiguous allocators (carveout pool, CMA area) replaying one alloc/free trace vs @thi.ng/malloc.

import { CmaArea } from "@dmabuf/core";
import { cmaHeapAlignOrder, GenPool, type GenPoolAlgorithm } from "@dmabuf/heaps-cma";
import { MemPool } from "@thi.ng/malloc";
import type { Row } from "./table.js";

const PAGE = 4096;
/** The managed region: 64 MiB, as a `cma=64M` area. */
const REGION_PAGES = 16384;
/** Live data stays below this share of the region, so no allocator runs out. */
const LIVE_CAP = 0.4;
/** Allocations in the trace; every one is freed again by its end. */
const ALLOCS = 10000;

/** mulberry32: a small seeded PRNG, so every run replays the same trace. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A recorded trace: `op[i] >= 0` allocates `op[i]` pages as allocation number `id[i]`;
 * `op[i] < 0` frees allocation number `id[i]`.
 */
interface Trace {
  readonly op: Int32Array;
  readonly id: Int32Array;
  readonly allocs: number;
}

/**
 * Records a deterministic mixed trace: sizes 4 KiB–1 MiB (log-uniform page counts 1–256),
 * frees interleaved at random (more often as the live set nears its cap), everything freed at
 * the end in random order.
 */
function recordTrace(seed: number): Trace {
  const rnd = prng(seed);
  const op: number[] = [];
  const id: number[] = [];
  const live: number[] = [];
  const pagesOf: number[] = [];
  let livePages = 0;
  const freeOne = () => {
    const k = Math.floor(rnd() * live.length);
    const a = live[k] as number;
    live[k] = live[live.length - 1] as number;
    live.pop();
    livePages -= pagesOf[a] as number;
    op.push(-1);
    id.push(a);
  };
  for (let a = 0; a < ALLOCS; a++) {
    const pages = Math.max(1, Math.min(256, Math.round(2 ** (rnd() * 8))));
    while (live.length > 0 && (livePages + pages > REGION_PAGES * LIVE_CAP || rnd() < 0.45)) {
      freeOne();
    }
    pagesOf.push(pages);
    live.push(a);
    livePages += pages;
    op.push(pages);
    id.push(a);
  }
  while (live.length > 0) freeOne();
  return { op: Int32Array.from(op), id: Int32Array.from(id), allocs: ALLOCS };
}

/** Replays the trace; `alloc` returns a handle (negative or 0 for failure, per `failed`). */
function replay(
  t: Trace,
  handles: Float64Array,
  alloc: (pages: number) => number,
  free: (handle: number, pages: number) => void,
  failed: (handle: number) => boolean,
): number {
  let failures = 0;
  const pagesOf = new Int32Array(t.allocs);
  for (let i = 0; i < t.op.length; i++) {
    const o = t.op[i] as number;
    const a = t.id[i] as number;
    if (o >= 0) {
      const h = alloc(o);
      handles[a] = h;
      pagesOf[a] = o;
      if (failed(h)) failures++;
    } else {
      const h = handles[a] as number;
      if (!failed(h)) free(h, pagesOf[a] as number);
    }
  }
  return failures;
}

function ms(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** The contiguous-allocator rows: each replays the trace against the baseline in alternation. */
export function contiguousRows(): Row[] {
  const trace = recordTrace(0x5eed);
  const handles = new Float64Array(trace.allocs);

  // The baseline: a general-purpose first-fit free-list allocator over an ArrayBuffer, page
  // aligned. Each block carries an 8-byte header, which page alignment rounds up to a whole
  // extra page, so it gets twice the region to hold the same live set.
  const pool = new MemPool({ size: 2 * REGION_PAGES * PAGE + 2 * PAGE, align: 4096 });
  let baseFailures = 0;
  const baseline = () =>
    ms(() => {
      baseFailures = replay(
        trace,
        handles,
        (pages) => pool.malloc(pages * PAGE),
        (ptr) => {
          pool.free(ptr);
        },
        (ptr) => ptr === 0,
      );
    });

  const cases: [name: string, make: () => () => number][] = [];
  for (const algorithm of ["first-fit", "best-fit"] as GenPoolAlgorithm[]) {
    cases.push([
      `carveout ${algorithm} (GenPool)`,
      () => {
        const gp = new GenPool("carveout", REGION_PAGES, REGION_PAGES, algorithm);
        return () =>
          replay(
            trace,
            handles,
            (pages) => gp.alloc(pages),
            (pfn, pages) => gp.free(pfn, pages),
            (pfn) => pfn < 0,
          );
      },
    ]);
  }
  cases.push([
    "CmaArea (CMA heap alignment)",
    () => {
      const area = new CmaArea("reserved", REGION_PAGES, REGION_PAGES);
      return () =>
        replay(
          trace,
          handles,
          (pages) => area.alloc(pages, cmaHeapAlignOrder(pages * PAGE, PAGE)),
          (pfn, pages) => area.release(pfn, pages),
          (pfn) => pfn < 0,
        );
    },
  ]);

  // Ratios are only fair when both sides placed every allocation of the trace.
  return cases.map(
    ([name, make]): Row => ({
      name: `${name}, ${trace.op.length} ops of a 4 KiB–1 MiB trace`,
      baseline: "@thi.ng/malloc MemPool",
      unit: "ms",
      goal: 1.0,
      rounds: 5,
      prepare() {
        const run = make();
        let failed = 0;
        return {
          ours: () => ms(() => (failed = run())),
          base: baseline,
          note: () =>
            failed === 0 && baseFailures === 0 ? "" : `UNFAIR: ${failed}/${baseFailures} failed`,
        };
      },
    }),
  );
}
