// dma_resv: the KUnit "dma-buf-resv" selftests (SPEC §12.3) for every usage, then the add /
// replacement rules of 6.1 and mainline, slot reservation and the lock, singletons, waits and
// the bufinfo description.

import { describe, expect, it } from "vitest";
import { errnoOf } from "../vfs/process.js";
import type { DmaFence } from "./dma-fence.js";
import { DmaFenceArray } from "./dma-fence-array.js";
import {
  DMA_RESV_USAGE_BOOKKEEP,
  DMA_RESV_USAGE_KERNEL,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  DmaResv,
  type DmaResvUsage,
  dmaResvUsageRw,
} from "./dma-resv.js";
import { BOOT_NS, setup, testFence } from "./test-fixtures.js";

const USAGES: [string, DmaResvUsage][] = [
  ["kernel", DMA_RESV_USAGE_KERNEL],
  ["write", DMA_RESV_USAGE_WRITE],
  ["read", DMA_RESV_USAGE_READ],
  ["bookkeep", DMA_RESV_USAGE_BOOKKEEP],
];

/** Locks, reserves one slot, adds, unlocks. */
function addOne(resv: DmaResv, fence: DmaFence, usage: DmaResvUsage): void {
  resv.lock();
  resv.reserveFences(1);
  resv.addFence(fence, usage);
  resv.unlock();
}

describe("dma-buf-resv selftests", () => {
  it("sanitycheck: init, lock, unlock, fini", () => {
    const resv = new DmaResv();
    resv.lock();
    expect(resv.locked).toBe(true);
    resv.unlock();
    expect(resv.locked).toBe(false);
    resv.fini();
  });

  it.each(USAGES)("test_signaling (%s): pending until the fence signals", (_n, usage) => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const f = testFence(kernel);
    addOne(resv, f, usage);
    expect(resv.testSignaled(usage)).toBe(false);
    f.signal();
    expect(resv.testSignaled(usage)).toBe(true);
    resv.fini();
  });

  it.each(USAGES)("test_for_each (%s): the locked iteration yields the fence", (_n, usage) => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const f = testFence(kernel);
    addOne(resv, f, usage);
    resv.lock();
    expect([...resv.iter(usage)]).toEqual([{ fence: f, usage }]);
    if (usage > 0) expect([...resv.iter((usage - 1) as DmaResvUsage)]).toEqual([]);
    f.signal();
    expect([...resv.iter(DMA_RESV_USAGE_BOOKKEEP)]).toEqual([{ fence: f, usage }]);
    resv.unlock();
  });

  it.each(USAGES)("test_for_each_unlocked / test_get_fences (%s)", (_n, usage) => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const f = testFence(kernel);
    addOne(resv, f, usage);
    const got = resv.getFences(usage);
    expect(got).toEqual([f]);
    expect(f.refCount).toBe(3);
    for (const g of got) g.put();
    f.signal();
    expect(resv.getFences(usage)).toEqual([]);
  });
});

describe("dma_resv_add_fence", () => {
  it("replaces an entry of the same context with a later fence of a lower or equal usage", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const ctx = kernel.fences.contextAlloc(1);
    const one = testFence(kernel, 1, ctx);
    const two = testFence(kernel, 2, ctx);
    addOne(resv, one, DMA_RESV_USAGE_READ);
    addOne(resv, two, DMA_RESV_USAGE_WRITE);
    expect(resv.fences).toEqual([{ fence: two, usage: DMA_RESV_USAGE_WRITE }]);
    expect(one.refCount).toBe(1);
  });

  it("never degrades a usage: a READ fence on a WRITE entry's context is a second entry", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const ctx = kernel.fences.contextAlloc(1);
    addOne(resv, testFence(kernel, 1, ctx), DMA_RESV_USAGE_WRITE);
    addOne(resv, testFence(kernel, 2, ctx), DMA_RESV_USAGE_READ);
    expect(resv.fences.map((e) => [e.fence.seqno, e.usage])).toEqual([
      [1n, DMA_RESV_USAGE_WRITE],
      [2n, DMA_RESV_USAGE_READ],
    ]);
  });

  it("re-adding the same fence promotes its usage in place", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const f = testFence(kernel);
    addOne(resv, f, DMA_RESV_USAGE_BOOKKEEP);
    addOne(resv, f, DMA_RESV_USAGE_READ);
    addOne(resv, f, DMA_RESV_USAGE_WRITE);
    expect(resv.fences).toEqual([{ fence: f, usage: DMA_RESV_USAGE_WRITE }]);
    expect(f.refCount).toBe(2);
  });

  it("an earlier fence of the same context: mainline appends, 6.1 replaces", () => {
    for (const [profile, seqnos] of [
      ["6.18", [5n, 3n]],
      ["6.1", [3n]],
    ] as const) {
      const { kernel } = setup(profile);
      const resv = new DmaResv();
      const ctx = kernel.fences.contextAlloc(1);
      addOne(resv, testFence(kernel, 5, ctx), DMA_RESV_USAGE_WRITE);
      addOne(resv, testFence(kernel, 3, ctx), DMA_RESV_USAGE_WRITE);
      expect(resv.fences.map((e) => e.fence.seqno)).toEqual(seqnos);
    }
  });

  it("any fence takes over a signalled entry's slot", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const old = testFence(kernel);
    addOne(resv, old, DMA_RESV_USAGE_KERNEL);
    old.signal();
    const f = testFence(kernel);
    addOne(resv, f, DMA_RESV_USAGE_BOOKKEEP);
    expect(resv.fences).toEqual([{ fence: f, usage: DMA_RESV_USAGE_BOOKKEEP }]);
  });

  it("adding a container WARNs", () => {
    const { kernel } = setup();
    const array = new DmaFenceArray(kernel.fences, [testFence(kernel)], 9, 1);
    new DmaResv().add(array, DMA_RESV_USAGE_READ);
    expect(kernel.log.records.at(-1)?.text).toBe("dma_resv_add_fence: adding a container");
  });
});

describe("slots and the lock", () => {
  it("writers need the lock and a slot reserved under this lock hold", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const f = testFence(kernel);
    expect(() => resv.reserveFences(1)).toThrow(
      expect.objectContaining({ code: "DMA_RESV_NOT_LOCKED" }),
    );
    expect(() => resv.addFence(f, DMA_RESV_USAGE_READ)).toThrow(
      expect.objectContaining({ code: "DMA_RESV_NOT_LOCKED" }),
    );
    expect(() => resv.unlock()).toThrow(expect.objectContaining({ code: "DMA_RESV_NOT_LOCKED" }));
    resv.lock();
    expect(() => resv.lock()).toThrow(expect.objectContaining({ code: "DMA_RESV_DEADLOCK" }));
    expect(resv.tryLock()).toBe(false);
    expect(() => resv.addFence(f, DMA_RESV_USAGE_READ)).toThrow(
      expect.objectContaining({ code: "DMA_RESV_NO_SLOT" }),
    );
    expect(f.refCount).toBe(1);
    resv.reserveFences(2);
    resv.addFence(f, DMA_RESV_USAGE_READ);
    resv.addFence(testFence(kernel), DMA_RESV_USAGE_READ);
    expect(() => resv.addFence(testFence(kernel), DMA_RESV_USAGE_READ)).toThrow(
      expect.objectContaining({ code: "DMA_RESV_NO_SLOT" }),
    );
    resv.reserveFences(1);
    resv.unlock();
    resv.lock();
    expect(() => resv.addFence(testFence(kernel), DMA_RESV_USAGE_READ)).toThrow(
      expect.objectContaining({ code: "DMA_RESV_NO_SLOT" }),
    );
    resv.unlock();
  });

  it("reserving zero slots is EINVAL", () => {
    const resv = new DmaResv();
    resv.lock();
    expect(errnoOf(() => resv.reserveFences(0))).toBe("EINVAL");
  });

  it("the list grows in allocation buckets and drops signalled fences when it does", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const f = Array.from({ length: 5 }, () => testFence(kernel));
    resv.lock();
    resv.reserveFences(1); // max(4, 1) slots, rounded up to the 64-byte bucket: 5
    resv.reserveFences(5);
    for (const fence of f) resv.addFence(fence, DMA_RESV_USAGE_READ);
    f[1]?.signal();
    f[3]?.signal();
    resv.reserveFences(1); // no room for a sixth: grows to max(6, 2 × 5), 13 slots
    expect(resv.fences.map((e) => e.fence)).toEqual([f[0], f[2], f[4]]);
    expect(f[1]?.refCount).toBe(1);
    f[0]?.signal();
    resv.reserveFences(1); // 3 + 1 fit into the 13 slots of the 128-byte bucket: kept
    expect(resv.fences.length).toBe(3);
    resv.unlock();
  });

  it("replaceFences swaps every fence of a context", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const ctx = kernel.fences.contextAlloc(1);
    const [a, b] = [testFence(kernel, 1, ctx), testFence(kernel, 1)];
    resv.add(a, DMA_RESV_USAGE_BOOKKEEP);
    resv.add(b, DMA_RESV_USAGE_READ);
    const c = testFence(kernel);
    resv.lock();
    resv.replaceFences(ctx, c, DMA_RESV_USAGE_KERNEL);
    resv.unlock();
    expect(resv.fences).toEqual([
      { fence: c, usage: DMA_RESV_USAGE_KERNEL },
      { fence: b, usage: DMA_RESV_USAGE_READ },
    ]);
    expect(a.refCount).toBe(1);
  });

  it("fini drops every entry's reference", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const f = testFence(kernel);
    resv.add(f, DMA_RESV_USAGE_WRITE);
    expect(f.refCount).toBe(2);
    resv.fini();
    expect([f.refCount, resv.fences.length]).toEqual([1, 0]);
  });
});

describe("readers", () => {
  it("usage_rw: a write waits for READ usage, a read for WRITE usage", () => {
    expect(dmaResvUsageRw(true)).toBe(DMA_RESV_USAGE_READ);
    expect(dmaResvUsageRw(false)).toBe(DMA_RESV_USAGE_WRITE);
  });

  it("testSignaled covers every usage up to the one asked", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    resv.add(testFence(kernel), DMA_RESV_USAGE_READ);
    expect(resv.testSignaled(DMA_RESV_USAGE_WRITE)).toBe(true);
    expect(resv.testSignaled(DMA_RESV_USAGE_READ)).toBe(false);
    expect(resv.testSignaled(DMA_RESV_USAGE_BOOKKEEP)).toBe(false);
  });

  it("getSingleton: none, the one fence, or a fresh array of the pending ones", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    expect(resv.getSingleton(DMA_RESV_USAGE_BOOKKEEP)).toBeNull();
    const [a, b, c] = [testFence(kernel), testFence(kernel), testFence(kernel)];
    resv.add(a, DMA_RESV_USAGE_WRITE);
    expect(resv.getSingleton(DMA_RESV_USAGE_READ)).toBe(a);
    expect(a.refCount).toBe(3);
    resv.add(b, DMA_RESV_USAGE_READ);
    resv.add(c, DMA_RESV_USAGE_READ);
    c.signal();
    const next = kernel.fences.contextAlloc(0);
    const array = resv.getSingleton(DMA_RESV_USAGE_READ) as DmaFenceArray;
    expect(array).toBeInstanceOf(DmaFenceArray);
    expect(array.fences).toEqual([a, b]);
    expect([array.context, array.seqno]).toEqual([next, 1n]);
    expect(resv.getSingleton(DMA_RESV_USAGE_WRITE)).toBe(a);
  });

  it("waitTimeout waits for each pending fence in turn on the virtual clock", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    const [a, b] = [testFence(kernel), testFence(kernel)];
    resv.add(a, DMA_RESV_USAGE_KERNEL);
    resv.add(b, DMA_RESV_USAGE_READ);
    kernel.clock.schedule(100, () => a.signal());
    kernel.clock.schedule(300, () => b.signal());
    expect(resv.waitTimeout(DMA_RESV_USAGE_KERNEL, true, 1000)).toBe(900);
    expect(kernel.clock.now).toBe(BOOT_NS + 100);
    expect(resv.waitTimeout(DMA_RESV_USAGE_READ, true, 1000)).toBe(800);
    expect(resv.waitTimeout(DMA_RESV_USAGE_READ, true, 0)).toBe(1);
  });

  it("waitTimeout times out with 0; a zero timeout still waits 1 ns per pending fence", () => {
    const { kernel } = setup();
    const resv = new DmaResv();
    resv.add(testFence(kernel), DMA_RESV_USAGE_WRITE);
    expect(resv.waitTimeout(DMA_RESV_USAGE_WRITE, true, 0)).toBe(0);
    expect(kernel.clock.now).toBe(BOOT_NS + 1);
    expect(resv.waitTimeout(DMA_RESV_USAGE_WRITE, true, 50)).toBe(0);
    expect(errnoOf(() => resv.waitTimeout(DMA_RESV_USAGE_WRITE, true, Infinity))).toBe("EINTR");
  });

  it("describe prints kernel, write and read lines, never bookkeep", () => {
    const { kernel } = setup("6.1");
    const resv = new DmaResv();
    const fences = [1, 2, 3, 4].map((n) => testFence(kernel, n));
    USAGES.forEach(([, usage], i) => {
      resv.add(fences[i] as DmaFence, usage);
    });
    fences[1]?.signal();
    expect(resv.describe()).toBe(
      "\tkernel fence:test tl seq 1 unsignalled\n" +
        "\twrite fence:test tl seq 2 signalled\n" +
        "\tread fence:test tl seq 3 unsignalled\n",
    );
  });
});
