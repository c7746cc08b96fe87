// Tests that a realistic cache handles long CPU accesses in bulk exactly as one line at a time.

import { createKernel, Device } from "@dmabuf/core";
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { CacheModel, type CacheModelConfigInput } from "./cache-model.js";

const LS = 64;
/** The window the operations work in: 96 lines, from 1 MiB on. */
const BASE = 1024 * 1024;
const WINDOW = 96 * LS;

type Op =
  | { op: "fill"; at: number; len: number; v: number }
  | { op: "write"; at: number; len: number; v: number }
  | { op: "read"; at: number; len: number }
  | { op: "clean" | "flush" | "invalidate"; at: number; len: number }
  | { op: "devWrite" | "devRead" | "snoopWrite"; at: number; len: number; v: number };

function boot(config: CacheModelConfigInput) {
  const kernel = createKernel({ ram: "4MiB", plugins: [{ plugin: CacheModel, config }] });
  return {
    kernel,
    cache: kernel.plugin(CacheModel),
    dev: new Device({ name: "dev0", coherent: false }),
    snoop: new Device({ name: "dev1", coherent: true }),
  };
}

type Booted = ReturnType<typeof boot>;

function bytes(len: number, v: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (v + i * 7) & 0xff;
  return out;
}

/** Splits [at, at+len) at line boundaries: the pieces a line-by-line CPU access makes. */
function* perLine(at: number, len: number): Generator<[number, number]> {
  for (let p = at; p < at + len; ) {
    const q = Math.min(at + len, (Math.floor(p / LS) + 1) * LS);
    yield [p, q - p];
    p = q;
  }
}

/** Runs `op`; CPU accesses in one call, or split into lines with `lineByLine`. */
function run(k: Booted, o: Op, lineByLine: boolean): Uint8Array | undefined {
  const c = k.cache;
  const phys = BASE + o.at;
  const pieces = lineByLine ? [...perLine(phys, o.len)] : [[phys, o.len] as [number, number]];
  switch (o.op) {
    case "fill":
      for (const [p, n] of pieces) c.fill(p, n, o.v);
      return;
    case "write": {
      const src = bytes(o.len, o.v);
      for (const [p, n] of pieces) c.write(p, src.subarray(p - phys, p - phys + n));
      return;
    }
    case "read": {
      const out = new Uint8Array(o.len);
      for (const [p, n] of pieces) c.read(p, n, out, p - phys);
      return out;
    }
    case "clean":
      c.clean(phys, o.len);
      return;
    case "flush":
      c.flush(phys, o.len);
      return;
    case "invalidate":
      c.invalidate(phys, o.len, k.dev);
      return;
    case "devWrite":
      c.bus.fill(k.dev, phys, o.len, o.v, undefined, 0);
      return;
    case "snoopWrite":
      c.bus.fill(k.snoop, phys, o.len, o.v, undefined, 0);
      return;
    case "devRead": {
      const out = new Uint8Array(o.len);
      c.bus.read(k.dev, phys, o.len, out, 0, undefined, 0);
      return out;
    }
  }
}

/** Everything observable about the cache and RAM in the window. */
function state(k: Booted) {
  const lines: string[] = [];
  for (let p = BASE; p < BASE + WINDOW; p += LS) {
    const c = k.cache;
    lines.push(`${+c.isCached(p)}${+c.isDirty(p)}${+c.isDeviceWritten(p)}`);
  }
  return {
    lines: lines.join(" "),
    stats: { ...k.cache.stats },
    cached: k.cache.cachedLines,
    dirty: k.cache.dirtyLines,
    ram: Buffer.from(k.kernel.memory.read(BASE, WINDOW)).toString("hex"),
    violations: k.cache.checker.violations.map(
      (v) => `${v.kind} ${v.phys - BASE}+${v.length} ${v.writer}→${v.reader}`,
    ),
  };
}

const range = fc
  .tuple(fc.nat(WINDOW - 1), fc.nat(WINDOW))
  .map(([at, n]) => ({ at, len: Math.max(1, Math.min(n, WINDOW - at)) }));
const opArb: fc.Arbitrary<Op> = fc
  .oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant("fill" as const), v: fc.nat(255) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("write" as const), v: fc.nat(255) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("read" as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constantFrom("clean" as const, "flush" as const, "invalidate" as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constantFrom("devWrite" as const, "devRead" as const, "snoopWrite" as const),
        v: fc.nat(255),
      }),
    },
  )
  .chain((o) => range.map((r) => ({ ...o, ...r }) as Op));

test.prop(
  [
    fc.constantFrom(
      { capacity: 256, associativity: 4 },
      { capacity: 512, associativity: 2 },
      { capacity: 768, associativity: 3 },
      { capacity: 1024, associativity: 4 },
      { capacity: 2048, associativity: 1 },
      { capacity: 4096, associativity: 8 },
    ),
    fc.array(opArb, { minLength: 1, maxLength: 25 }),
  ],
  { numRuns: 200 },
)(
  "long CPU accesses leave the cache, RAM, statistics and findings as line-by-line ones do",
  (geometry, ops) => {
    const config = { mode: "realistic", lineSize: LS, ...geometry } as const;
    const bulk = boot(config);
    const ref = boot(config);
    for (const o of ops) {
      const got = run(bulk, o, false);
      const want = run(ref, o, true);
      expect(got && Buffer.from(got).toString("hex")).toBe(
        want && Buffer.from(want).toString("hex"),
      );
      expect(state(bulk)).toEqual(state(ref));
    }
  },
  60_000,
);
