// Tests for the sparse simulated physical memory.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { PhysicalMemory } from "./physical-memory.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

function pattern(length: number, seed = 1): Uint8Array {
  const a = new Uint8Array(length);
  for (let i = 0; i < length; i++) a[i] = (i * 31 + seed) & 0xff || 1;
  return a;
}

/** Byte equality without the per-element cost of a deep `toEqual` on large arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function isZero(a: Uint8Array): boolean {
  return a.every((x) => x === 0);
}

describe("PhysicalMemory construction", () => {
  it("derives page and section geometry", () => {
    const mem = new PhysicalMemory({ bytes: 64 * GiB, pageSize: 4 * KiB });
    expect(mem.bytes).toBe(64 * GiB);
    expect(mem.pageSize).toBe(4 * KiB);
    expect(mem.pageCount).toBe(16 * 1024 * 1024);
    expect(mem.sectionBytes).toBe(2 * MiB);
    expect(mem.sectionCount).toBe(32768);
    expect(mem.backedSections()).toBe(0);
    expect(mem.backedBytes()).toBe(0);
  });

  it("rejects sizes that are not page multiples", () => {
    expect(() => new PhysicalMemory({ bytes: 4097, pageSize: 4096 })).toThrow(RangeError);
    expect(() => new PhysicalMemory({ bytes: 0, pageSize: 4096 })).toThrow(RangeError);
    expect(() => new PhysicalMemory({ bytes: 4096, pageSize: 3000 })).toThrow(RangeError);
  });

  it("requires sectionBytes to be a power-of-two multiple of pageSize", () => {
    expect(
      () => new PhysicalMemory({ bytes: 1 * MiB, pageSize: 4096, sectionBytes: 3 * 4096 }),
    ).toThrow(RangeError);
    expect(
      () => new PhysicalMemory({ bytes: 1 * MiB, pageSize: 4096, sectionBytes: 2048 }),
    ).toThrow(RangeError);
    const mem = new PhysicalMemory({ bytes: 1 * MiB, pageSize: 4096, sectionBytes: 64 * KiB });
    expect(mem.sectionCount).toBe(16);
  });

  it("clamps the section size to small RAM and supports a short last section", () => {
    const small = new PhysicalMemory({ bytes: 3 * 4096, pageSize: 4096 });
    expect(small.sectionBytes).toBe(3 * 4096);
    expect(small.sectionCount).toBe(1);
    small.write(3 * 4096 - 1, new Uint8Array([7]));
    expect(small.backedBytes()).toBe(4096);
    small.write(0, new Uint8Array([1]));
    expect(small.backedBytes()).toBe(3 * 4096);

    const odd = new PhysicalMemory({ bytes: 5 * 4096, pageSize: 4096, sectionBytes: 8192 });
    expect(odd.sectionCount).toBe(3);
    odd.write(4 * 4096, new Uint8Array([1]));
    expect(odd.backedBytes()).toBe(4096);
    expect(odd.read(4 * 4096, 2)).toEqual(new Uint8Array([1, 0]));
  });
});

describe("PhysicalMemory sparse backing", () => {
  it("backs one page per byte written once per 2 MiB, then whole sections once half is written", () => {
    const mem = new PhysicalMemory({ bytes: 4 * GiB, pageSize: 4 * KiB });
    for (let at = 0; at < 4 * GiB; at += 2 * MiB) mem.write(at + 5000, new Uint8Array([7]));
    expect(mem.backedSections()).toBe(2048);
    expect(mem.backedBytes()).toBe(2048 * 4 * KiB);
    expect(mem.isPageBacked(4096)).toBe(true);
    expect(mem.isPageBacked(0)).toBe(false);
    expect(mem.isBacked(0)).toBe(true);
    expect(mem.read(2 * MiB + 4999, 3)).toEqual(new Uint8Array([0, 7, 0]));
    // Zeroing the page gives its backing back.
    mem.zero(4096, 4096);
    expect(mem.backedSections()).toBe(2047);
    // A run over half a section backs the section whole, keeping the page written before.
    mem.write(2 * MiB + 1 * MiB, pattern(1 * MiB));
    expect(mem.backedBytes()).toBe(2046 * 4 * KiB + 2 * MiB);
    expect(mem.read(2 * MiB + 5000, 1)).toEqual(new Uint8Array([7]));
  });

  it("backs only the section a 1 MiB write touches in a 64 GiB machine", () => {
    const mem = new PhysicalMemory({ bytes: 64 * GiB, pageSize: 4 * KiB });
    const data = pattern(1 * MiB);
    const at = 10 * GiB;
    mem.write(at, data);
    expect(mem.backedSections()).toBe(1);
    expect(mem.backedBytes()).toBe(2 * MiB);
    expect(mem.isBacked(at)).toBe(true);
    expect(mem.isBacked(at + 2 * MiB)).toBe(false);
    expect(sameBytes(mem.read(at, 1 * MiB), data)).toBe(true);
    // The rest of the backed section reads as zero.
    expect(isZero(mem.read(at + 1 * MiB, 1 * MiB))).toBe(true);
  });

  it("reads untouched memory as zeros without backing it", () => {
    const mem = new PhysicalMemory({ bytes: 64 * GiB, pageSize: 4 * KiB });
    const out = mem.read(64 * GiB - 3 * MiB, 3 * MiB);
    expect(out.length).toBe(3 * MiB);
    expect(isZero(out)).toBe(true);
    expect(mem.backedSections()).toBe(0);
    expect(mem.isBacked(0)).toBe(false);
  });

  it("backs both sections for a write that straddles a boundary", () => {
    const mem = new PhysicalMemory({ bytes: 8 * MiB, pageSize: 4096 });
    const data = pattern(8192);
    mem.write(2 * MiB - 4096, data);
    expect(mem.backedSections()).toBe(2);
    expect(sameBytes(mem.read(2 * MiB - 4096, 8192), data)).toBe(true);
  });

  it("reads into a caller buffer, zeroing unbacked parts and returning the written view", () => {
    const mem = new PhysicalMemory({ bytes: 8 * MiB, pageSize: 4096 });
    mem.write(2 * MiB, new Uint8Array([1, 2, 3, 4]));
    const dst = new Uint8Array(16).fill(0xee);
    const view = mem.read(2 * MiB - 4, 8, dst, 4);
    expect(Array.from(dst)).toEqual([
      0xee, 0xee, 0xee, 0xee, 0, 0, 0, 0, 1, 2, 3, 4, 0xee, 0xee, 0xee, 0xee,
    ]);
    expect(view.buffer).toBe(dst.buffer);
    expect(view.byteOffset).toBe(4);
    expect(Array.from(view)).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    expect(() => mem.read(0, 8, dst, 9)).toThrow(RangeError);
    expect(mem.backedSections()).toBe(1);
  });

  it("drops a section's backing when all of it is zeroed, but not for a partial zero", () => {
    const mem = new PhysicalMemory({ bytes: 8 * MiB, pageSize: 4096 });
    mem.fill(0, 4 * MiB, 0xab);
    expect(mem.backedSections()).toBe(2);
    mem.zero(4096, 2 * MiB - 4096);
    expect(mem.backedSections()).toBe(2);
    expect(mem.read(0, 4097)[4096]).toBe(0);
    expect(mem.read(0, 1)[0]).toBe(0xab);
    // Zeroing [1 MiB, 4 MiB) covers section 1 entirely but section 0 only partially.
    mem.zero(1 * MiB, 3 * MiB);
    expect(mem.backedSections()).toBe(1);
    expect(mem.isBacked(2 * MiB)).toBe(false);
    mem.zero(0, 2 * MiB);
    expect(mem.backedSections()).toBe(0);
    expect(mem.backedBytes()).toBe(0);
    expect(isZero(mem.read(0, 4 * MiB))).toBe(true);
  });

  it("treats a zero fill of unbacked memory as a no-op and masks fill values to a byte", () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB, pageSize: 4096 });
    mem.fill(100, 5000, 0);
    mem.fill(100, 5000, 0x100);
    expect(mem.backedSections()).toBe(0);
    mem.fill(100, 3, 0x1ff);
    expect(Array.from(mem.read(99, 5))).toEqual([0, 0xff, 0xff, 0xff, 0]);
  });
});

describe("PhysicalMemory copy", () => {
  it("copies between sections and leaves unbacked-to-unbacked copies unbacked", () => {
    const mem = new PhysicalMemory({ bytes: 8 * MiB, pageSize: 4096 });
    const data = pattern(3 * MiB);
    mem.write(0, data);
    mem.copy(5 * MiB, 0, 3 * MiB);
    expect(sameBytes(mem.read(5 * MiB, 3 * MiB), data)).toBe(true);

    const fresh = new PhysicalMemory({ bytes: 8 * MiB, pageSize: 4096 });
    fresh.copy(4 * MiB, 0, 2 * MiB);
    expect(fresh.backedSections()).toBe(0);
  });

  it("copies zeros from an unbacked source over backed data", () => {
    const mem = new PhysicalMemory({ bytes: 8 * MiB, pageSize: 4096 });
    mem.fill(4 * MiB, 2 * MiB, 9);
    mem.copy(4 * MiB + 10, 0, 100);
    const out = mem.read(4 * MiB, 120);
    expect(out[9]).toBe(9);
    expect(isZero(out.subarray(10, 110))).toBe(true);
    expect(out[110]).toBe(9);
    // A whole-section copy from unbacked memory releases the destination section.
    mem.copy(4 * MiB, 0, 2 * MiB);
    expect(mem.backedSections()).toBe(0);
  });

  it("behaves like memmove for overlapping ranges in both directions", () => {
    const mem = new PhysicalMemory({ bytes: 64 * KiB, pageSize: 1024, sectionBytes: 4096 });
    const ref = pattern(64 * KiB, 5);
    mem.write(0, ref);
    // Forward overlap across sections.
    mem.copy(1000, 3000, 10000);
    ref.copyWithin(1000, 3000, 13000);
    expect(sameBytes(mem.read(0, 64 * KiB), ref)).toBe(true);
    // Backward overlap across sections.
    mem.copy(7000, 5000, 20000);
    ref.copyWithin(7000, 5000, 25000);
    expect(sameBytes(mem.read(0, 64 * KiB), ref)).toBe(true);
  });

  test.prop(
    [
      fc.array(
        fc.oneof(
          fc.record({
            op: fc.constant("write" as const),
            at: fc.nat(16383),
            len: fc.nat(3000),
            seed: fc.nat(255),
          }),
          fc.record({
            op: fc.constant("fill" as const),
            at: fc.nat(16383),
            len: fc.nat(5000),
            value: fc.oneof(fc.constant(0), fc.nat(255)),
          }),
          fc.record({
            op: fc.constant("copy" as const),
            dst: fc.nat(16383),
            src: fc.nat(16383),
            len: fc.nat(6000),
          }),
        ),
        { maxLength: 40 },
      ),
    ],
    { numRuns: 150 },
  )("matches a flat reference buffer under random writes, fills and copies", (ops) => {
    const size = 16 * KiB;
    const mem = new PhysicalMemory({ bytes: size, pageSize: 256, sectionBytes: 2048 });
    const ref = new Uint8Array(size);
    for (const o of ops) {
      if (o.op === "write") {
        const len = Math.min(o.len, size - o.at);
        const data = pattern(len, o.seed);
        mem.write(o.at, data);
        ref.set(data, o.at);
      } else if (o.op === "fill") {
        const len = Math.min(o.len, size - o.at);
        mem.fill(o.at, len, o.value);
        ref.fill(o.value, o.at, o.at + len);
      } else {
        const len = Math.min(o.len, size - o.dst, size - o.src);
        mem.copy(o.dst, o.src, len);
        ref.copyWithin(o.dst, o.src, o.src + len);
      }
    }
    expect(sameBytes(mem.read(0, size), ref)).toBe(true);
    // Backing accounting agrees with isBacked page by page: a section is backed page by page
    // while less than half of it is, whole otherwise.
    let sections = 0;
    let bytes = 0;
    for (let s = 0; s < mem.sectionCount; s++) {
      let pages = 0;
      for (let p = 0; p < mem.sectionBytes; p += mem.pageSize) {
        if (mem.isPageBacked(s * mem.sectionBytes + p)) pages++;
      }
      if (pages > 0) sections++;
      expect(mem.isBacked(s * mem.sectionBytes)).toBe(pages > 0);
      bytes +=
        pages * 2 > mem.sectionBytes / mem.pageSize ? mem.sectionBytes : pages * mem.pageSize;
    }
    expect(mem.backedSections()).toBe(sections);
    expect(mem.backedBytes()).toBe(bytes);
  });
});

describe("PhysicalMemory bounds", () => {
  const mem = new PhysicalMemory({ bytes: 1 * MiB, pageSize: 4096 });

  it("rejects out-of-range and non-integer accesses with RangeError", () => {
    expect(() => mem.read(-1, 1)).toThrow(RangeError);
    expect(() => mem.read(1 * MiB - 1, 2)).toThrow(RangeError);
    expect(() => mem.read(0.5, 1)).toThrow(RangeError);
    expect(() => mem.read(0, -1)).toThrow(RangeError);
    expect(() => mem.write(1 * MiB, new Uint8Array(1))).toThrow(RangeError);
    expect(() => mem.fill(0, 1 * MiB + 1, 1)).toThrow(RangeError);
    expect(() => mem.zero(Number.NaN, 1)).toThrow(RangeError);
    expect(() => mem.copy(0, 1 * MiB - 10, 11)).toThrow(RangeError);
    expect(() => mem.copy(1 * MiB - 10, 0, 11)).toThrow(RangeError);
    expect(() => mem.isBacked(1 * MiB)).toThrow(RangeError);
    expect(mem.backedSections()).toBe(0);
  });

  it("accepts empty accesses at the very end", () => {
    expect(mem.read(1 * MiB, 0).length).toBe(0);
    mem.write(1 * MiB, new Uint8Array(0));
    mem.copy(1 * MiB, 0, 0);
    expect(mem.backedSections()).toBe(0);
  });
});

describe("PhysicalMemory page backing for direct access", () => {
  it("gives a view of a backed page that reads and writes the page's bytes", () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB, pageSize: 4096 });
    mem.write(3 * 4096 + 10, new Uint8Array([5, 6]));
    const view = mem.pageBacking(3, false);
    expect(view.length).toBe(4096);
    expect([view[10], view[11]]).toEqual([5, 6]);
    view[12] = 7;
    expect(mem.read(3 * 4096 + 10, 3)).toEqual(new Uint8Array([5, 6, 7]));
    mem.write(3 * 4096, new Uint8Array([9]));
    expect(view[0]).toBe(9);
  });

  it("gives a shared zero page for an unbacked page unless asked to back it", () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB, pageSize: 4096 });
    const zero = mem.pageBacking(7, false);
    expect(isZero(zero)).toBe(true);
    expect(mem.pageBacking(8, false)).toBe(zero);
    expect(mem.backedBytes()).toBe(0);
    const layout = mem.layout;
    const page = mem.pageBacking(7, true);
    expect(page).not.toBe(zero);
    expect(mem.isPageBacked(7 * 4096)).toBe(true);
    expect(mem.backedBytes()).toBe(4096);
    expect(mem.layout).not.toBe(layout);
    page[1] = 3;
    expect(mem.read(7 * 4096, 2)).toEqual(new Uint8Array([0, 3]));
  });

  it("changes its layout count when backing is created, made dense or released, not on plain writes", () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB, pageSize: 4096, sectionBytes: 64 * KiB });
    mem.write(0, new Uint8Array([1]));
    const before = mem.layout;
    const old = mem.pageBacking(0, false);
    mem.write(1, new Uint8Array([2]));
    mem.read(0, 64 * KiB);
    expect(mem.layout).toBe(before);
    // Half the section written: it is backed whole and the old page array is no longer RAM.
    mem.write(4096, new Uint8Array(7 * 4096).fill(1));
    expect(mem.layout).not.toBe(before);
    expect(mem.pageBacking(0, false)).not.toBe(old);
    expect(mem.pageBacking(0, false)[1]).toBe(2);
    const dense = mem.layout;
    mem.zero(0, 64 * KiB);
    expect(mem.layout).not.toBe(dense);
    expect(mem.backedBytes()).toBe(0);
  });

  it("backs a page whole with its section once half the section would be backed", () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB, pageSize: 4096, sectionBytes: 16 * KiB });
    mem.pageBacking(0, true)[0] = 1;
    expect(mem.backedBytes()).toBe(4096);
    mem.pageBacking(1, true)[0] = 2;
    expect(mem.backedBytes()).toBe(16 * KiB);
    expect(mem.read(0, 4097)[4096]).toBe(2);
    expect(mem.read(0, 1)[0]).toBe(1);
    expect(() => mem.pageBacking(1024, false)).toThrow(RangeError);
  });
});
