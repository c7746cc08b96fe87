// Tests for the buddy page allocator.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { BuddyAllocator, BuddyError, MAX_ORDER } from "./buddy.js";
import { PageFrames, PG_BUDDY, PG_HEAD, PG_RESERVED } from "./page-frames.js";
import { PhysicalMemory } from "./physical-memory.js";

const PAGE = 4096;
const MiB = 1024 * 1024;

function setup(bytes: number, range?: { startPfn?: number; endPfn?: number }) {
  const memory = new PhysicalMemory({ bytes, pageSize: PAGE });
  const frames = new PageFrames(memory.pageCount);
  const buddy = new BuddyAllocator(memory, frames, range);
  return { memory, frames, buddy };
}

/** Per-order free block counts: the given orders set, all others zero. */
function counts(entries: Record<number, number>): number[] {
  const out = new Array<number>(MAX_ORDER + 1).fill(0);
  for (const [order, n] of Object.entries(entries)) out[Number(order)] = n;
  return out;
}

function expectBuddyError(fn: () => void, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(BuddyError);
  expect(caught).toBeInstanceOf(Error);
  expect((caught as BuddyError).name).toBe("BuddyError");
  expect((caught as BuddyError).code).toBe(code);
}

describe("BuddyAllocator initial state", () => {
  it("holds a fresh 4 MiB range as one order-10 block", () => {
    const { buddy, frames } = setup(4 * MiB);
    expect(MAX_ORDER).toBe(10);
    expect(buddy.totalPages).toBe(1024);
    expect(buddy.freePageCount()).toBe(1024);
    expect(buddy.allocatedPageCount()).toBe(0);
    expect(buddy.freeBlocksByOrder()).toEqual(counts({ 10: 1 }));
    expect(buddy.freeBlockCount(10)).toBe(1);
    // An untouched max-order block is free without being recorded in the frame table.
    expect(buddy.isFree(0)).toBe(true);
    expect(frames.flags(0)).toBe(0);
    expect(frames.sectionsInUse()).toBe(0);
    buddy.assertConsistent();
  });

  it("a small machine's metadata sections are one max-order block; at most 512 sections", () => {
    expect(new PageFrames(16384).sectionShift).toBe(10);
    expect(new PageFrames(512 * 1024).sectionShift).toBe(10);
    expect(new PageFrames(512 * 1024 + 1).sectionShift).toBe(11);
    expect(new PageFrames(16 * 1024 * 1024).sectionShift).toBe(15);
    expect(new PageFrames(0x7fffffff).sectionShift).toBe(15);
    const { buddy, frames } = setup(64 * MiB);
    const a = buddy.allocPages(0);
    expect(frames.sectionsInUse()).toBe(1);
    // A second max-order block gets metadata of its own; the other 14 still have none.
    const b = buddy.allocPages(MAX_ORDER);
    expect(b >>> 10).not.toBe(a >>> 10);
    buddy.freePages(a, 0);
    expect(frames.sectionsInUse()).toBe(2);
    buddy.assertConsistent();
  });

  it("records nothing per page for a 64 GiB range until blocks are split", () => {
    const { buddy, frames } = setup(64 * 1024 * MiB);
    expect(buddy.freeBlockCount(10)).toBe(16384);
    expect(frames.sectionsInUse()).toBe(0);
    const pfn = buddy.allocPages(0);
    expect(pfn).toBe(0);
    expect(frames.sectionsInUse()).toBe(1);
    expect(buddy.freeBlocksByOrder()).toEqual(
      counts({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 16383 }),
    );
    // Reserving a range in the middle of the untouched blocks splits their run.
    expect(buddy.reserveRange(8 * 1024 * 256, 3 * 1024)).toBe(true);
    expect(buddy.freeBlockCount(10)).toBe(16380);
    expect(buddy.isFree(8 * 1024 * 256 - 1)).toBe(true);
    expect(buddy.isFree(8 * 1024 * 256)).toBe(false);
    expect(buddy.isFree(8 * 1024 * 256 + 3 * 1024)).toBe(true);
    buddy.assertConsistent();
    buddy.freePages(pfn, 0);
    buddy.unreserveRange(8 * 1024 * 256, 3 * 1024);
    expect(buddy.freeBlockCount(10)).toBe(16384);
    expect(buddy.freePageCount()).toBe(16 * 1024 * 1024);
    // Blocks freed back are recorded and taken first (LIFO), before the untouched ones.
    expect(buddy.allocPages(10)).toBe(8 * 1024 * 256 + 2 * 1024);
  });

  it("covers an unaligned range with the largest naturally aligned blocks", () => {
    const { buddy } = setup(8 * MiB, { startPfn: 3, endPfn: 1029 });
    // 3 | 4-7 | 8-15 | 16-31 | 32-63 | 64-127 | 128-255 | 256-511 | 512-1023 | 1024-1027 | 1028
    expect(buddy.freeBlocksByOrder()).toEqual(
      counts({ 0: 2, 2: 2, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1 }),
    );
    expect(buddy.totalPages).toBe(1026);
    expect(buddy.isFree(2)).toBe(false);
    expect(buddy.isFree(3)).toBe(true);
    expect(buddy.isFree(1028)).toBe(true);
    expect(buddy.isFree(1029)).toBe(false);
    buddy.assertConsistent();
  });

  it("builds a 64 GiB / 4 KiB-page allocator from max-order blocks", () => {
    const { buddy, memory } = setup(64 * 1024 * MiB);
    expect(buddy.totalPages).toBe(16 * 1024 * 1024);
    expect(buddy.freeBlocksByOrder()).toEqual(counts({ 10: 16384 }));
    const pfn = buddy.allocPages(0, { zero: true });
    expect(pfn).toBe(0);
    expect(memory.backedSections()).toBe(0);
    buddy.freePages(pfn, 0);
    expect(buddy.freeBlocksByOrder()).toEqual(counts({ 10: 16384 }));
    const last = buddy.allocPages(10);
    expect(last).toBe(0);
    expect(buddy.isFree(16 * 1024 * 1024 - 1)).toBe(true);
  });

  it("rejects ranges outside memory or frames", () => {
    const memory = new PhysicalMemory({ bytes: 1 * MiB, pageSize: PAGE });
    const frames = new PageFrames(memory.pageCount);
    expect(() => new BuddyAllocator(memory, frames, { endPfn: 257 })).toThrow(RangeError);
    expect(() => new BuddyAllocator(memory, frames, { startPfn: 10, endPfn: 5 })).toThrow(
      RangeError,
    );
    expect(() => new BuddyAllocator(memory, new PageFrames(100))).toThrow(RangeError);
    const empty = new BuddyAllocator(memory, frames, { startPfn: 7, endPfn: 7 });
    expect(empty.allocPages(0)).toBe(-1);
  });
});

describe("BuddyAllocator split and merge", () => {
  it("splits exactly as predicted and merges back on free", () => {
    const { buddy, frames } = setup(4 * MiB);
    const pfn = buddy.allocPages(0, { owner: 42 });
    expect(pfn).toBe(0);
    // Upper halves 512, 256, …, 1 remain, one per order 0–9.
    expect(buddy.freeBlocksByOrder()).toEqual(
      counts({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1 }),
    );
    expect(buddy.freePageCount()).toBe(1023);
    expect(buddy.allocatedPageCount()).toBe(1);
    expect(frames.flags(0)).toBe(PG_HEAD);
    expect(frames.order(0)).toBe(0);
    expect(frames.owner(0)).toBe(42);
    expect(frames.flags(512)).toBe(PG_BUDDY);
    expect(frames.order(512)).toBe(9);
    buddy.freePages(pfn, 0);
    expect(buddy.freeBlocksByOrder()).toEqual(counts({ 10: 1 }));
    expect(frames.flags(0)).toBe(PG_BUDDY);
    expect(frames.order(0)).toBe(10);
    expect(frames.owner(0)).toBe(0);
    expect(frames.flags(512)).toBe(0);
    expect(frames.order(512)).toBe(-1);
    buddy.assertConsistent();
  });

  it("hands out successive small blocks in ascending address order", () => {
    const { buddy } = setup(4 * MiB);
    expect([0, 0, 0, 0].map(() => buddy.allocPages(0))).toEqual([0, 1, 2, 3]);
    expect(buddy.allocPages(2)).toBe(4);
    expect(buddy.allocPages(1)).toBe(8);
    expect(buddy.allocPages(0)).toBe(10);
  });

  it("returns naturally aligned, disjoint blocks until memory is exhausted", () => {
    const { buddy } = setup(4 * MiB);
    const owned = new Uint8Array(1024);
    const orders = [3, 0, 5, 1, 0, 2, 7, 0, 4, 1];
    let allocated = 0;
    for (let i = 0; ; i++) {
      const order = orders[i % orders.length] as number;
      const pfn = buddy.allocPages(order);
      if (pfn < 0) break;
      expect(pfn % (1 << order)).toBe(0);
      for (let p = pfn; p < pfn + (1 << order); p++) {
        expect(owned[p]).toBe(0);
        owned[p] = 1;
      }
      allocated += 1 << order;
      expect(buddy.freePageCount() + buddy.allocatedPageCount()).toBe(1024);
    }
    expect(buddy.allocatedPageCount()).toBe(allocated);
    buddy.assertConsistent();
  });

  it("reuses the most recently freed block first (LIFO)", () => {
    const { buddy } = setup(4 * MiB);
    expect([0, 0, 0, 0].map(() => buddy.allocPages(0))).toEqual([0, 1, 2, 3]);
    const a = 0;
    const c = 2;
    buddy.freePages(c, 0); // buddy 3 is allocated: stays at order 0
    buddy.freePages(a, 0); // buddy 1 is allocated: stays at order 0
    expect(buddy.freeBlockCount(0)).toBe(2);
    expect(buddy.allocPages(0)).toBe(a);
    expect(buddy.allocPages(0)).toBe(c);

    const big = buddy.allocPages(6);
    buddy.freePages(big, 6);
    expect(buddy.allocPages(6)).toBe(big);
  });

  it("never merges across the managed range boundary", () => {
    const { buddy } = setup(8 * MiB, { startPfn: 1, endPfn: 1024 });
    const initial = buddy.freeBlocksByOrder();
    const pfns: [number, number][] = [];
    for (;;) {
      const pfn = buddy.allocPages(0);
      if (pfn < 0) break;
      pfns.push([pfn, 0]);
    }
    expect(pfns.length).toBe(1023);
    expect(pfns.some(([p]) => p === 0)).toBe(false);
    for (const [p, o] of pfns.reverse()) buddy.freePages(p, o);
    expect(buddy.freeBlocksByOrder()).toEqual(initial);
    expect(buddy.freeBlockCount(MAX_ORDER)).toBe(0);
    buddy.assertConsistent();
  });
});

describe("BuddyAllocator failure paths", () => {
  it("returns -1 without changing anything when no block is large enough", () => {
    const { buddy } = setup(4 * MiB);
    const a = buddy.allocPages(9);
    const b = buddy.allocPages(8);
    expect([a, b]).toEqual([0, 512]);
    const before = buddy.freeBlocksByOrder();
    expect(buddy.allocPages(9)).toBe(-1);
    expect(buddy.allocPages(10)).toBe(-1);
    expect(buddy.allocPages(MAX_ORDER + 1)).toBe(-1);
    expect(buddy.freeBlocksByOrder()).toEqual(before);
    expect(buddy.freePageCount()).toBe(256);
    expect(buddy.allocPages(8)).toBe(768);
    expect(buddy.allocPages(0)).toBe(-1);
    expect(buddy.freePageCount()).toBe(0);
    expect(() => buddy.allocPages(-1)).toThrow(RangeError);
    expect(() => buddy.allocPages(1.5)).toThrow(RangeError);
  });

  it("reports double frees", () => {
    const { buddy } = setup(4 * MiB);
    const a = buddy.allocPages(2);
    buddy.freePages(a, 2);
    const before = buddy.freeBlocksByOrder();
    expectBuddyError(() => buddy.freePages(a, 2), "BUDDY_DOUBLE_FREE");
    // A page in the middle of a merged free block is also already free.
    expectBuddyError(() => buddy.freePages(700, 0), "BUDDY_DOUBLE_FREE");
    expect(buddy.freeBlocksByOrder()).toEqual(before);
  });

  it("reports frees of non-heads, wrong orders and foreign PFNs", () => {
    const { buddy } = setup(4 * MiB, { startPfn: 0, endPfn: 512 });
    const a = buddy.allocPages(3);
    expect(a).toBe(0);
    expectBuddyError(() => buddy.freePages(a, 2), "BUDDY_BAD_FREE");
    expectBuddyError(() => buddy.freePages(a, 4), "BUDDY_BAD_FREE");
    expectBuddyError(() => buddy.freePages(a + 1, 0), "BUDDY_BAD_FREE");
    expectBuddyError(() => buddy.freePages(600, 0), "BUDDY_BAD_FREE");
    expectBuddyError(() => buddy.freePages(-1, 0), "BUDDY_BAD_FREE");
    expectBuddyError(() => buddy.freePages(a, MAX_ORDER + 1), "BUDDY_BAD_FREE");
    expect(buddy.allocatedPageCount()).toBe(8);
    buddy.freePages(a, 3);
    expect(buddy.allocatedPageCount()).toBe(0);
  });
});

describe("BuddyAllocator zeroing", () => {
  it("zeroes on allocation when asked, and never on free", () => {
    const { buddy, memory } = setup(4 * MiB);
    const a = buddy.allocPages(1);
    memory.fill(a * PAGE, 2 * PAGE, 0x5a);
    buddy.freePages(a, 1);
    expect(memory.read(a * PAGE, 1)[0]).toBe(0x5a);
    const b = buddy.allocPages(1);
    expect(b).toBe(a);
    expect(memory.read(b * PAGE, 1)[0]).toBe(0x5a);
    buddy.freePages(b, 1);
    const c = buddy.allocPages(1, { zero: true });
    expect(c).toBe(a);
    expect(memory.read(c * PAGE, 2 * PAGE).every((x) => x === 0)).toBe(true);
  });
});

describe("BuddyAllocator reservations", () => {
  it("carves a range out and gives it back", () => {
    const { buddy, frames } = setup(4 * MiB);
    expect(buddy.reserveRange(100, 300)).toBe(true);
    expect(buddy.reservedPageCount()).toBe(300);
    expect(buddy.freePageCount()).toBe(724);
    // Leftovers: [0,100) = 64 + 32 + 4 pages; [400,1024) = 16 + 32 + 64 + 512 pages.
    expect(buddy.freeBlocksByOrder()).toEqual(counts({ 2: 1, 4: 1, 5: 2, 6: 2, 9: 1 }));
    expect(buddy.isFree(99)).toBe(true);
    expect(buddy.isFree(100)).toBe(false);
    expect(buddy.isFree(399)).toBe(false);
    expect(buddy.isFree(400)).toBe(true);
    expect(frames.flags(100)).toBe(PG_RESERVED);
    expect(frames.flags(399)).toBe(PG_RESERVED);
    buddy.assertConsistent();

    const got: number[] = [];
    for (;;) {
      const pfn = buddy.allocPages(0);
      if (pfn < 0) break;
      expect(pfn < 100 || pfn >= 400).toBe(true);
      got.push(pfn);
    }
    expect(got.length).toBe(724);
    expectBuddyError(() => buddy.freePages(150, 0), "BUDDY_BAD_FREE");
    for (const p of got) buddy.freePages(p, 0);

    buddy.unreserveRange(100, 300);
    expect(buddy.reservedPageCount()).toBe(0);
    expect(buddy.freeBlocksByOrder()).toEqual(counts({ 10: 1 }));
    expect(frames.flags(100)).toBe(0);
    buddy.assertConsistent();
  });

  it("refuses, changing nothing, when part of the range is allocated or reserved", () => {
    const { buddy } = setup(4 * MiB);
    const a = buddy.allocPages(0);
    const before = buddy.freeBlocksByOrder();
    expect(buddy.reserveRange(a, 4)).toBe(false);
    expect(buddy.freeBlocksByOrder()).toEqual(before);
    expect(buddy.reservedPageCount()).toBe(0);
    expect(buddy.reserveRange(512, 512)).toBe(true);
    expect(buddy.reserveRange(500, 20)).toBe(false);
    expect(buddy.reservedPageCount()).toBe(512);
    expect(buddy.reserveRange(8, 0)).toBe(true);
    buddy.assertConsistent();
  });

  it("validates unreserve and range arguments", () => {
    const { buddy } = setup(4 * MiB, { startPfn: 0, endPfn: 512 });
    expect(buddy.reserveRange(10, 10)).toBe(true);
    const before = buddy.freeBlocksByOrder();
    expectBuddyError(() => buddy.unreserveRange(5, 10), "BUDDY_NOT_RESERVED");
    expect(buddy.freeBlocksByOrder()).toEqual(before);
    expect(buddy.reservedPageCount()).toBe(10);
    expect(() => buddy.reserveRange(500, 13)).toThrow(RangeError);
    expect(() => buddy.reserveRange(-1, 2)).toThrow(RangeError);
    expect(() => buddy.unreserveRange(600, 1)).toThrow(RangeError);
    buddy.unreserveRange(10, 10);
    expect(buddy.freeBlocksByOrder()).toEqual(counts({ 9: 1 }));
  });
});

describe("BuddyAllocator properties", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("alloc" as const), order: fc.nat(5) }),
    fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
    fc.record({
      kind: fc.constant("reserve" as const),
      start: fc.nat(299),
      count: fc.integer({ min: 1, max: 40 }),
    }),
  );

  test.prop([fc.nat(40), fc.integer({ min: 1, max: 300 }), fc.array(op, { maxLength: 80 })], {
    numRuns: 200,
  })("keeps its accounting exact and returns to the initial state", (start, span, ops) => {
    const memory = new PhysicalMemory({ bytes: 512 * PAGE, pageSize: PAGE });
    const frames = new PageFrames(memory.pageCount);
    const end = Math.min(512, start + span);
    const buddy = new BuddyAllocator(memory, frames, { startPfn: start, endPfn: end });
    const initial = buddy.freeBlocksByOrder();
    const live: [number, number][] = [];
    const reserved: [number, number][] = [];
    const owner = new Int32Array(512).fill(-1);

    for (const o of ops) {
      if (o.kind === "alloc") {
        const before = buddy.freeBlocksByOrder();
        const pfn = buddy.allocPages(o.order);
        if (pfn < 0) {
          expect(buddy.freeBlocksByOrder()).toEqual(before);
          continue;
        }
        expect(pfn % (1 << o.order)).toBe(0);
        expect(pfn >= start && pfn + (1 << o.order) <= end).toBe(true);
        for (let p = pfn; p < pfn + (1 << o.order); p++) {
          expect(owner[p]).toBe(-1);
          owner[p] = pfn;
        }
        live.push([pfn, o.order]);
      } else if (o.kind === "free") {
        if (live.length === 0) continue;
        const [pfn, order] = live.splice(o.pick % live.length, 1)[0] as [number, number];
        buddy.freePages(pfn, order);
        owner.fill(-1, pfn, pfn + (1 << order));
      } else {
        const s = Math.max(start, Math.min(o.start, end - 1));
        const count = Math.min(o.count, end - s);
        if (count <= 0) continue;
        const allFree = Array.from({ length: count }, (_, i) => buddy.isFree(s + i)).every(Boolean);
        expect(buddy.reserveRange(s, count)).toBe(allFree);
        if (allFree) {
          reserved.push([s, count]);
          owner.fill(-2, s, s + count);
        }
      }
      expect(buddy.freePageCount() + buddy.allocatedPageCount() + buddy.reservedPageCount()).toBe(
        buddy.totalPages,
      );
    }
    buddy.assertConsistent();
    for (let p = start; p < end; p++) expect(buddy.isFree(p)).toBe(owner[p] === -1);

    for (const [pfn, order] of live) buddy.freePages(pfn, order);
    for (const [s, count] of reserved) buddy.unreserveRange(s, count);
    expect(buddy.allocatedPageCount()).toBe(0);
    expect(buddy.freePageCount()).toBe(buddy.totalPages);
    expect(buddy.freeBlocksByOrder()).toEqual(initial);
    buddy.assertConsistent();
  });
});
