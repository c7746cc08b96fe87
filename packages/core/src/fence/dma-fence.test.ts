// dma_fence: the in-kernel selftests (st-dma-fence.c, SPEC §12.3) re-expressed on the virtual
// clock, then contexts, the stub fence, ordering, errors, references, waits, names, arrays,
// unwrap and merge.

import { describe, expect, it } from "vitest";
import { KernelBug } from "../errors/kernel-bug.js";
import { isKernelError, KernelError } from "../errors/kernel-error.js";
import { createKernel, type Kernel } from "../kernel.js";
import { errnoOf } from "../vfs/process.js";
import { DmaFence, type DmaFenceOps, isLaterSeqno, MAX_SCHEDULE_TIMEOUT } from "./dma-fence.js";
import { DmaFenceArray } from "./dma-fence-array.js";
import { dmaFenceUnwrap, dmaFenceUnwrapMerge } from "./dma-fence-unwrap.js";
import { BOOT_NS, setup, testFence } from "./test-fixtures.js";

/** A jiffy at HZ=250, in virtual ns. */
const JIFFY = 4_000_000;

/**
 * The selftest's mock fence: context 0, seqno 0, and a wait of its own that answers -ETIME
 * (thrown as KernelError ETIME) when the fence did not signal in time.
 */
function mockFence(kernel: Kernel): DmaFence {
  const clock = kernel.clock;
  const ops: DmaFenceOps = {
    getDriverName: () => "mock",
    getTimelineName: () => "mock",
    wait(f, _intr, timeout) {
      let cb: ReturnType<DmaFence["addCallback"]>;
      try {
        cb = f.addCallback(() => {});
      } catch {
        return timeout;
      }
      const deadline = clock.now + timeout;
      clock.runUntil(() => f.timestamp !== null, deadline);
      if (!f.removeCallback(cb)) return Math.max(0, deadline - clock.now);
      throw new KernelError("ETIME", "mock_wait");
    },
  };
  return new DmaFence(kernel.fences, ops, 0, 0);
}

describe("st-dma-fence selftests", () => {
  it("sanitycheck: create, enable signalling, signal, put", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    expect(f.enableSwSignaling()).toBe(true);
    expect(f.signal()).toBe(false);
    f.put();
    expect(f.refCount).toBe(0);
  });

  it("test_signaling: signal reports 'not previously signalled', then 'already signalled'", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    f.enableSwSignaling();
    expect(f.isSignaled()).toBe(false);
    expect(f.signal()).toBe(false);
    expect(f.isSignaled()).toBe(true);
    expect(f.signal()).toBe(true);
  });

  it("test_add_callback: a callback added before signalling runs on signal", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    const seen: DmaFence[] = [];
    f.addCallback((fence) => seen.push(fence));
    expect(seen).toEqual([]);
    f.signal();
    expect(seen).toEqual([f]);
  });

  it("test_late_add_callback: adding after signalling fails with ENOENT and never runs", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    f.signal();
    let ran = false;
    expect(errnoOf(() => f.addCallback(() => (ran = true)))).toBe("ENOENT");
    f.signal();
    expect(ran).toBe(false);
  });

  it("test_rm_callback: a removed callback does not run", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    let ran = false;
    const cb = f.addCallback(() => (ran = true));
    expect(f.removeCallback(cb)).toBe(true);
    f.signal();
    expect(ran).toBe(false);
  });

  it("test_late_rm_callback: removing a callback that ran answers false", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    let ran = 0;
    const cb = f.addCallback(() => ran++);
    f.signal();
    expect(ran).toBe(1);
    expect(f.removeCallback(cb)).toBe(false);
  });

  it("test_status: 0 before signalling, non-zero after", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    expect(f.getStatus()).toBe(0);
    f.signal();
    expect(f.getStatus()).toBe(1);
  });

  it("test_error: an error set before signalling shows only once signalled", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    f.setError(-5);
    expect(f.getStatus()).toBe(0);
    f.signal();
    expect(f.getStatus()).toBe(-5);
    expect(f.error).toBe(-5);
  });

  it("test_wait: a zero wait on a pending mock fence is ETIME; after signalling it is 0", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    expect(errnoOf(() => f.waitTimeout(false, 0))).toBe("ETIME");
    f.signal();
    expect(f.waitTimeout(false, 0)).toBe(0);
  });

  it("test_wait_timeout: a 1-jiffy wait times out; a timer after 1 jiffy ends a 2-jiffy wait", () => {
    const { kernel } = setup();
    const f = mockFence(kernel);
    expect(errnoOf(() => f.waitTimeout(false, JIFFY))).toBe("ETIME");
    kernel.clock.schedule(JIFFY, () => f.signal());
    expect(f.waitTimeout(false, 2 * JIFFY)).toBe(JIFFY);
    expect(f.isSignaled()).toBe(true);
  });

  it("test_stub: 64 stubs are all signalled", () => {
    const { kernel } = setup();
    for (let i = 0; i < 64; i++) expect(kernel.fences.getStub().isSignaled()).toBe(true);
  });

  it("race_signal_callback: every callback that was added runs exactly once", () => {
    const { kernel } = setup();
    // Interleave add_callback and signal on pairs of fences in every order the clock allows.
    for (let pass = 0; pass < 8; pass++) {
      const f = [testFence(kernel), testFence(kernel)];
      const runs = [0, 0];
      const added = [false, false];
      for (let i = 0; i < 2; i++) {
        const other = 1 - i;
        kernel.clock.schedule((pass >> i) & 1, () => {
          try {
            f[other]?.addCallback(() => {
              runs[other] = (runs[other] ?? 0) + 1;
            });
            added[other] = true;
          } catch (e) {
            expect(isKernelError(e, "ENOENT")).toBe(true);
          }
        });
        kernel.clock.schedule((pass >> 2) & 1, () => f[i]?.signal());
      }
      kernel.clock.advance(2);
      expect(runs).toEqual(added.map((a) => (a ? 1 : 0)));
    }
  });
});

describe("fence contexts and the stub fence", () => {
  it("contexts start at 1 per kernel and are handed out in blocks", () => {
    const a = createKernel({ ram: "16MiB" });
    const b = createKernel({ ram: "16MiB" });
    expect(a.fences.contextAlloc(1)).toBe(1);
    expect(a.fences.contextAlloc(3)).toBe(2);
    expect(a.fences.contextAlloc()).toBe(5);
    expect(b.fences.contextAlloc(1)).toBe(1);
  });

  it("allocating zero contexts WARNs and allocates nothing", () => {
    const { kernel } = setup();
    expect(kernel.fences.contextAlloc(0)).toBe(1);
    expect(kernel.fences.contextAlloc(1)).toBe(1);
    expect(kernel.log.records.map((r) => r.text)).toContain(
      "dma_fence_context_alloc: zero contexts requested",
    );
  });

  it("the stub is one signalled fence (context 0, seqno 0) stamped at its first use", () => {
    const { kernel } = setup("6.1");
    const stub = kernel.fences.getStub();
    kernel.clock.advance(1000);
    const again = kernel.fences.getStub();
    expect(again).toBe(stub);
    expect([stub.context, stub.seqno, stub.timestamp]).toEqual([0, 0n, BOOT_NS]);
    expect([stub.driverName(), stub.timelineName()]).toEqual(["stub", "stub"]);
    expect(stub.describe()).toBe("stub stub seq 0 signalled\n");
    expect(stub.refCount).toBe(3);
  });

  it("6.18: a signalled fence's names read detached-driver / signaled-timeline", () => {
    const { kernel } = setup("6.18");
    const stub = kernel.fences.getStub();
    expect([stub.driverName(), stub.timelineName()]).toEqual([
      "detached-driver",
      "signaled-timeline",
    ]);
    const f = testFence(kernel, 7);
    expect(f.describe()).toBe("test tl seq 7 unsignalled\n");
    f.signal();
    expect(f.describe()).toBe("detached-driver signaled-timeline seq 7 signalled\n");
  });
});

describe("ordering on a timeline", () => {
  it("32-bit seqnos compare with wrap-around, 64-bit ones plainly", () => {
    expect(isLaterSeqno(2n, 1n, false)).toBe(true);
    expect(isLaterSeqno(1n, 1n, false)).toBe(false);
    expect(isLaterSeqno(1n, 0xffffffffn, false)).toBe(true);
    expect(isLaterSeqno(0x80000000n, 0n, false)).toBe(false);
    expect(isLaterSeqno(0x7fffffffn, 0n, false)).toBe(true);
    expect(isLaterSeqno(0x1_0000_0001n, 0xffffffffn, false)).toBe(true);
    expect(isLaterSeqno(1n, 0xffffffffn, true)).toBe(false);
    expect(isLaterSeqno(0x1_0000_0000n, 0xffffffffn, true)).toBe(true);
  });

  it("isLater uses the fence's seqno width; isLaterOrSame means the same fence", () => {
    const { kernel } = setup();
    const ctx = kernel.fences.contextAlloc(1);
    const ops = { getDriverName: () => "d", getTimelineName: () => "t" };
    const low = new DmaFence(kernel.fences, ops, ctx, 1);
    const high = new DmaFence(kernel.fences, ops, ctx, 0xffffffff);
    expect(low.isLater(high)).toBe(true);
    const low64 = new DmaFence(kernel.fences, ops, ctx, 1, { seqno64: true });
    expect(low64.isLater(high)).toBe(false);
    const twin = new DmaFence(kernel.fences, ops, ctx, 1);
    expect(twin.isLaterOrSame(low)).toBe(false);
    expect(low.isLaterOrSame(low)).toBe(true);
  });

  it("comparing fences of different contexts WARNs and answers false", () => {
    const { kernel } = setup();
    expect(testFence(kernel, 9).isLater(testFence(kernel, 1))).toBe(false);
    expect(kernel.log.records.at(-1)?.text).toBe(
      "dma_fence_is_later: fences of different contexts",
    );
  });
});

describe("signalling, errors and callbacks", () => {
  it("stamps the virtual time and runs callbacks in the order they were added", () => {
    const { kernel } = setup();
    const f = testFence(kernel);
    const order: string[] = [];
    f.addCallback(() => order.push("a"));
    f.addCallback(() => order.push("b"));
    kernel.clock.advance(123);
    expect(f.timestamp).toBeNull();
    f.signal();
    expect(f.timestamp).toBe(BOOT_NS + 123);
    expect(order).toEqual(["a", "b"]);
    kernel.clock.advance(1);
    f.signal();
    expect(f.timestamp).toBe(BOOT_NS + 123);
  });

  it("setError takes a -errno or an errno name, only before signalling", () => {
    const { kernel } = setup();
    const f = testFence(kernel);
    f.setError("EIO");
    expect(f.error).toBe(-5);
    for (const bad of [0, 5, -4096, 1.5]) {
      expect(() => f.setError(bad)).toThrow(
        expect.objectContaining({ code: "DMA_FENCE_SET_ERROR" }),
      );
    }
    f.signal();
    expect(() => f.setError(-22)).toThrow(KernelBug);
    expect(f.getStatus()).toBe(-5);
  });

  it("enableSignaling runs once; a false answer signals the fence at once", () => {
    const { kernel } = setup();
    let calls = 0;
    const ops: DmaFenceOps = {
      getDriverName: () => "d",
      getTimelineName: () => "t",
      enableSignaling: () => {
        calls++;
        return false;
      },
    };
    const f = new DmaFence(kernel.fences, ops, 1, 1);
    expect(errnoOf(() => f.addCallback(() => {}))).toBe("ENOENT");
    expect([f.isSignaled(), calls]).toEqual([true, 1]);
  });

  it("ops.signaled is asked while the fence is not marked, and signals it", () => {
    const { kernel } = setup();
    let done = false;
    const ops = { getDriverName: () => "d", getTimelineName: () => "t", signaled: () => done };
    const f = new DmaFence(kernel.fences, ops, 1, 1);
    expect(f.getStatus()).toBe(0);
    done = true;
    kernel.clock.advance(5);
    expect(f.signaled).toBe(true);
    expect(f.timestamp).toBe(BOOT_NS + 5);
  });

  it("ops without both name callbacks are refused", () => {
    const { kernel } = setup();
    const bad = { getDriverName: () => "d" } as unknown as DmaFenceOps;
    expect(() => new DmaFence(kernel.fences, bad, 1, 1)).toThrow(
      expect.objectContaining({ code: "DMA_FENCE_BAD_OPS" }),
    );
  });

  it("setDeadline reaches the implementation only while the fence is pending", () => {
    const { kernel } = setup();
    const seen: number[] = [];
    const ops: DmaFenceOps = {
      getDriverName: () => "d",
      getTimelineName: () => "t",
      setDeadline: (_f, d) => seen.push(d),
    };
    const f = new DmaFence(kernel.fences, ops, 1, 1);
    f.setDeadline(10);
    f.signal();
    f.setDeadline(20);
    expect(seen).toEqual([10]);
  });
});

describe("references", () => {
  it("the last put calls release; a put too many is a KernelBug", () => {
    const { kernel } = setup();
    const released: DmaFence[] = [];
    const ops = {
      getDriverName: () => "d",
      getTimelineName: () => "t",
      release: (f: DmaFence) => released.push(f),
    };
    const f = new DmaFence(kernel.fences, ops, 1, 1);
    f.get();
    f.put();
    expect(released).toEqual([]);
    f.put();
    expect(released).toEqual([f]);
    expect(() => f.put()).toThrow(expect.objectContaining({ code: "DMA_FENCE_REF_UNDERFLOW" }));
    expect(() => f.get()).toThrow(expect.objectContaining({ code: "DMA_FENCE_REF_UNDERFLOW" }));
  });

  it("freeing an unsignalled fence with callbacks WARNs, errors it -EDEADLK and signals", () => {
    const { kernel } = setup();
    const f = testFence(kernel, 3);
    let status = 0;
    f.addCallback((done) => (status = done.getStatus()));
    f.put();
    expect(status).toBe(-35);
    expect(kernel.log.records.at(-1)?.text).toMatch(/released with pending signals$/);
  });
});

describe("waitTimeout on the virtual clock", () => {
  it("a signalled fence: the whole timeout back, or 1 for a zero timeout", () => {
    const { kernel } = setup();
    const f = testFence(kernel);
    f.signal();
    expect(f.waitTimeout(true, 0)).toBe(1);
    expect(f.waitTimeout(true, 500)).toBe(500);
    expect(f.waitTimeout(false, MAX_SCHEDULE_TIMEOUT)).toBe(MAX_SCHEDULE_TIMEOUT);
    expect(kernel.clock.now).toBe(BOOT_NS);
  });

  it("runs the clock to the signal and returns the time left", () => {
    const { kernel } = setup();
    const f = testFence(kernel);
    kernel.clock.schedule(300, () => f.signal());
    expect(f.waitTimeout(true, 1000)).toBe(700);
    expect(kernel.clock.now).toBe(BOOT_NS + 300);
  });

  it("times out with 0 at the deadline; a zero timeout does not wait", () => {
    const { kernel } = setup();
    const f = testFence(kernel);
    kernel.clock.schedule(5000, () => f.signal());
    expect(f.waitTimeout(true, 0)).toBe(0);
    expect(f.waitTimeout(true, 1000)).toBe(0);
    expect(kernel.clock.now).toBe(BOOT_NS + 1000);
    f.wait();
    expect(kernel.clock.now).toBe(BOOT_NS + 5000);
  });

  it("a wait nothing can end: EINTR if interruptible, a KernelBug if not", () => {
    const { kernel } = setup();
    const f = testFence(kernel);
    expect(errnoOf(() => f.waitTimeout(true, MAX_SCHEDULE_TIMEOUT))).toBe("EINTR");
    expect(() => f.waitTimeout(false, MAX_SCHEDULE_TIMEOUT)).toThrow(
      expect.objectContaining({ code: "DMA_FENCE_WAIT_FOREVER" }),
    );
    expect(kernel.clock.now).toBe(BOOT_NS);
  });

  it("a negative timeout is EINVAL; a pending fatal signal interrupts", () => {
    const { kernel, proc } = setup();
    const f = testFence(kernel);
    expect(errnoOf(() => f.waitTimeout(true, -1))).toBe("EINVAL");
    kernel.clock.schedule(10, () => proc.kill());
    kernel.clock.schedule(20, () => f.signal());
    const err = kernel.runAs(proc, () => errnoOf(() => f.waitTimeout(true, 1000)));
    expect(err).toBe("EINTR");
    expect(kernel.clock.now).toBe(BOOT_NS + 10);
  });
});

describe("dma_fence_array", () => {
  const arrayOf = (kernel: Kernel, fences: DmaFence[], any = false) =>
    new DmaFenceArray(kernel.fences, fences, kernel.fences.contextAlloc(1), 1, any);

  it("signals when all its fences have, with the first error a callback saw", () => {
    const { kernel } = setup();
    const [a, b, c] = [testFence(kernel), testFence(kernel), testFence(kernel)];
    const array = arrayOf(kernel, [a, b, c] as DmaFence[]);
    expect([array.driverName(), array.timelineName(), array.isContainer]).toEqual([
      "dma_fence_array",
      "unbound",
      true,
    ]);
    let done = false;
    array.addCallback(() => (done = true));
    b?.setError("EIO");
    b?.signal();
    c?.setError("EINVAL");
    c?.signal();
    expect(done).toBe(false);
    a?.signal();
    expect([done, array.getStatus()]).toEqual([true, -5]);
  });

  it("with signalOnAny it signals with the first fence", () => {
    const { kernel } = setup();
    const [a, b] = [testFence(kernel), testFence(kernel)];
    const array = arrayOf(kernel, [a, b] as DmaFence[], true);
    array.enableSwSignaling();
    b?.signal();
    expect(array.getStatus()).toBe(1);
    a?.signal();
  });

  it("checked without enabling signalling, it looks at its fences (and reports no error)", () => {
    const { kernel } = setup();
    const [a, b] = [testFence(kernel), testFence(kernel)];
    const array = arrayOf(kernel, [a, b] as DmaFence[]);
    a?.setError("EIO");
    a?.signal();
    expect(array.isSignaled()).toBe(false);
    b?.signal();
    expect(array.getStatus()).toBe(1);
  });

  it("fences already signalled when signalling is enabled count at once", () => {
    const { kernel } = setup();
    const [a, b] = [testFence(kernel), testFence(kernel)];
    a?.signal();
    b?.setError(-2);
    b?.signal();
    const array = arrayOf(kernel, [a, b] as DmaFence[]);
    expect(errnoOf(() => array.addCallback(() => {}))).toBe("ENOENT");
    expect(array.getStatus()).toBe(-2);
  });

  it("owns one reference per fence, dropped when freed; deadlines reach every fence", () => {
    const { kernel } = setup();
    const a = testFence(kernel);
    const array = arrayOf(kernel, [a.get()]);
    expect(a.refCount).toBe(2);
    array.setDeadline(5);
    array.put();
    expect(a.refCount).toBe(1);
  });
});

describe("unwrap and merge", () => {
  it("unwrap yields the leaves of an array, or the fence itself", () => {
    const { kernel } = setup();
    const [a, b] = [testFence(kernel), testFence(kernel)] as [DmaFence, DmaFence];
    const array = new DmaFenceArray(kernel.fences, [a, b], kernel.fences.contextAlloc(1), 1);
    expect(dmaFenceUnwrap(array)).toEqual([a, b]);
    expect(dmaFenceUnwrap(a)).toEqual([a]);
  });

  it("merge keeps the later fence per context, drops signalled ones, orders by context", () => {
    const { kernel } = setup();
    const ctx1 = kernel.fences.contextAlloc(1);
    const ctx2 = kernel.fences.contextAlloc(1);
    const seven = testFence(kernel, 7, ctx2);
    const nine = testFence(kernel, 9, ctx2);
    const other = testFence(kernel, 1, ctx1);
    const gone = testFence(kernel, 4);
    gone.signal();
    expect(dmaFenceUnwrapMerge(kernel.fences, seven, nine)).toBe(nine);
    const merged = dmaFenceUnwrapMerge(kernel.fences, nine, gone, seven, other);
    expect(merged).toBeInstanceOf(DmaFenceArray);
    expect((merged as DmaFenceArray).fences).toEqual([other, nine]);
    expect([merged.context, merged.seqno]).toEqual([ctx2 + 2, 1n]);
    expect(dmaFenceUnwrapMerge(kernel.fences, gone)).toBe(kernel.fences.getStub());
  });
});
