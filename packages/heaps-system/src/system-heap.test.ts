// Tests of system-heap allocation: chunk layout, zeroing, ENOMEM, EINTR and failure cleanup.

import {
  allocFromHeap,
  createKernel,
  Device,
  type DmaBuf,
  type DmaHeapHandle,
  errnoOf,
  type Kernel,
  KernelError,
} from "@dmabuf/core";
import { O_RDONLY, O_RDWR } from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { SystemHeap, type SystemHeapBuffer } from "./index.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;

/** Whether every byte is `value` (compared natively, not byte by byte in JavaScript). */
function allBytes(bytes: Uint8Array, value: number): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.equals(Buffer.alloc(bytes.length, value));
}

/** A real kernel with the system heap registered, and a way to allocate from it. */
function boot(ram: string | number = "64MiB") {
  const kernel = createKernel({ ram, plugins: [SystemHeap] });
  const plugin = kernel.plugin(SystemHeap);
  const handle: DmaHeapHandle | undefined = kernel.heaps.find("system");
  if (!handle) throw new Error("the system heap was not registered");
  const alloc = (len: number, fdFlags = O_RDWR): DmaBuf<SystemHeapBuffer> =>
    plugin.allocate(handle, len, fdFlags, 0n);
  return { kernel, plugin, alloc };
}

/** The sg table's entry lengths, in order. */
function entryLengths(buf: DmaBuf<SystemHeapBuffer>): number[] {
  const t = buf.priv.table;
  return Array.from(t.length.subarray(0, t.entryCount));
}

/** The snapshot plus the allocator's consistency check. */
function state(kernel: Kernel) {
  kernel.buddy.assertConsistent();
  return kernel.snapshot();
}

describe("SystemHeap registration", () => {
  it("is registered as /dev/dma_heap/system with its declared capabilities", () => {
    const { kernel } = boot();
    const heap = kernel.heaps.find("system");
    expect(heap?.capabilities).toEqual({ contiguous: false, cpuAccess: true, vmap: true });
    expect(kernel.spawn().readdir("/dev/dma_heap")).toEqual(["system"]);
  });

  it("gets its kernel's heap host, one instance per kernel", () => {
    const a = boot();
    const b = boot();
    expect(a.plugin.host.buddy).toBe(a.kernel.buddy);
    expect(b.plugin.host.buddy).toBe(b.kernel.buddy);
    expect(Object.isFrozen(a.plugin.host)).toBe(true);
    expect(a.plugin).not.toBe(b.plugin);
  });
});

describe("SystemHeap.allocate: chunk layout", () => {
  it("splits 5 MiB + 68 KiB into five 1 MiB chunks, one 64 KiB and one 4 KiB, in that order", () => {
    const { alloc } = boot();
    const len = 5 * MiB + 68 * KiB;
    const buf = alloc(len);
    expect(entryLengths(buf)).toEqual([MiB, MiB, MiB, MiB, MiB, 64 * KiB, 4 * KiB]);
    expect(Array.from(buf.priv.chunkOrders)).toEqual([8, 8, 8, 8, 8, 4, 0]);
    const t = buf.priv.table;
    expect(t.entryCount).toBe(7);
    expect(t.totalLength()).toBe(len);
    expect(t.nents).toBe(0);
    for (let i = 0; i < t.entryCount; i++) {
      const pfn = buf.priv.chunkPfns[i] as number;
      const order = buf.priv.chunkOrders[i] as number;
      expect(t.pfn[i]).toBe(pfn);
      expect(t.offset[i]).toBe(0);
      expect(pfn % 2 ** order, `chunk ${i} is naturally aligned`).toBe(0);
    }
    expect(buf.priv.len).toBe(len);
    expect(buf.size).toBe(len);
  });

  it.each([
    [4 * KiB, [0]],
    [60 * KiB, Array<number>(15).fill(0)],
    [64 * KiB, [4]],
    [MiB - 4 * KiB, [...Array<number>(15).fill(4), ...Array<number>(15).fill(0)]],
    [MiB, [8]],
    [MiB + 4 * KiB, [8, 0]],
    [2 * MiB + 128 * KiB, [8, 8, 4, 4]],
  ])("allocates %d bytes greedily as orders %j", (len, orders) => {
    const { alloc } = boot();
    const buf = alloc(len);
    expect(Array.from(buf.priv.chunkOrders)).toEqual(orders);
    expect(buf.priv.table.totalLength()).toBe(len);
  });

  it("never increases the chunk size, even when larger blocks free up mid-allocation", () => {
    const { kernel, plugin, alloc } = boot("4MiB");
    const buddy = kernel.buddy;
    // Take all four 1 MiB blocks, then break one up so that only 64 KiB blocks are left.
    const big = [0, 1, 2, 3].map(() => buddy.allocPages(8));
    buddy.freePages(big[3] as number, 8);
    const pinned = buddy.allocPages(4);
    expect(buddy.freeBlockCount(8)).toBe(0);
    let freed = false;
    plugin.afterChunk = () => {
      if (freed) return;
      freed = true;
      buddy.freePages(big[0] as number, 8);
      buddy.freePages(big[1] as number, 8);
    };
    const buf = alloc(2 * MiB);
    expect(Array.from(buf.priv.chunkOrders)).toEqual(Array<number>(32).fill(4));
    expect(pinned).toBeGreaterThanOrEqual(0);
  });

  it("exports with the heap's name, the heap package as owner and fdFlags as file flags", () => {
    const { alloc } = boot();
    const rw = alloc(PAGE, O_RDWR);
    expect(rw.expName).toBe("system");
    expect(rw.owner).toBe("heaps-system");
    expect(rw.file.fFlags).toBe(O_RDWR);
    expect(alloc(PAGE, O_RDONLY).file.fFlags).toBe(O_RDONLY);
  });
});

describe("SystemHeap.allocate: zeroing", () => {
  it("hands out zeroed pages, also when it reuses pages a previous buffer dirtied", () => {
    const { kernel, alloc } = boot();
    const first = alloc(MiB + 64 * KiB + PAGE);
    const pfns = Array.from(first.priv.chunkPfns);
    const map = kernel.dmaBuf.vmap(first);
    map.fill(0xff);
    kernel.dmaBuf.vunmap(first, map);
    kernel.dmaBuf.put(first);
    // Freed memory keeps its contents: the zeroing happens on allocation.
    expect(allBytes(kernel.memory.read((pfns[0] as number) * PAGE, 4), 0xff)).toBe(true);

    const second = alloc(MiB + 64 * KiB + PAGE);
    expect(Array.from(second.priv.chunkPfns)).toEqual(pfns);
    const bytes = kernel.dmaBuf.vmap(second).read();
    expect(bytes.length).toBe(second.size);
    expect(allBytes(bytes, 0)).toBe(true);
  });
});

describe("SystemHeap.allocate: failures leave nothing behind", () => {
  it("fails with ENOMEM when memory runs out, freeing the chunks it took", () => {
    const { kernel, alloc } = boot("4MiB");
    const before = state(kernel);
    expect(errnoOf(() => alloc(8 * MiB))).toBe("ENOMEM");
    expect(state(kernel)).toEqual(before);
    // No file was created: the next buffer gets the first inode number.
    expect(alloc(PAGE).ino).toBe(1);
  });

  it("fails with ENOMEM when only part of a request fits next to a live buffer", () => {
    const { kernel, alloc } = boot("4MiB");
    const held = alloc(3 * MiB);
    const before = state(kernel);
    expect(errnoOf(() => alloc(MiB + PAGE))).toBe("ENOMEM");
    expect(state(kernel)).toEqual(before);
    kernel.dmaBuf.put(held);
    expect(kernel.buddy.freePageCount()).toBe(kernel.buddy.totalPages);
  });

  it("fails with EINTR when the allocating process is killed mid-allocation", () => {
    const { kernel, plugin, alloc } = boot();
    const proc = kernel.spawn({ name: "victim" });
    const taken: number[] = [];
    plugin.afterChunk = (i, pfn) => {
      taken.push(pfn);
      if (i === 2) proc.kill();
    };
    const before = state(kernel);
    let error: unknown;
    try {
      kernel.runAs(proc, () => alloc(5 * MiB));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KernelError);
    expect((error as KernelError).code).toBe("EINTR");
    expect(taken).toHaveLength(3);
    expect(state(kernel)).toEqual(before);
    for (const pfn of taken) expect(kernel.buddy.isFree(pfn)).toBe(true);
  });

  it("fails with EINTR before taking anything when a fatal signal is already pending", () => {
    const { kernel, plugin, alloc } = boot();
    const proc = kernel.spawn();
    proc.kill();
    let chunks = 0;
    plugin.afterChunk = () => chunks++;
    const before = state(kernel);
    expect(errnoOf(() => kernel.runAs(proc, () => alloc(PAGE)))).toBe("EINTR");
    expect(chunks).toBe(0);
    expect(state(kernel)).toEqual(before);
  });

  it("does not check for signals without a current process (kernel context)", () => {
    const { alloc } = boot();
    expect(alloc(MiB).size).toBe(MiB);
  });

  it("frees every chunk and propagates the error when an afterChunk hook throws", () => {
    const { kernel, plugin, alloc } = boot();
    plugin.afterChunk = (i) => {
      if (i === 1) throw new KernelError("ENOMEM", "fault_injection");
    };
    const before = state(kernel);
    expect(errnoOf(() => alloc(3 * MiB))).toBe("ENOMEM");
    expect(state(kernel)).toEqual(before);
  });

  it("frees every page when the export fails", () => {
    const { kernel, plugin } = boot();
    const before = state(kernel);
    // With sysfs statistics compiled in, export refuses a NULL exporter name (after the file
    // was created): a handle without a name gets that far.
    const nameless = { name: undefined as unknown as string, priv: undefined };
    expect(errnoOf(() => plugin.allocate(nameless, 2 * MiB, O_RDWR, 0n))).toBe("EINVAL");
    expect(state(kernel).freePages).toBe(before.freePages);
  });
});

describe("sg-table allocation failures (kernel.faults)", () => {
  it("ALLOC and attach fail with ENOMEM, as sg_alloc_table and dup_sg_table do, leaving nothing", () => {
    const k = createKernel({ ram: "64MiB", plugins: [SystemHeap] });
    const app = k.spawn();
    const before = k.snapshot();
    k.faults.failNth("sg", 1);
    expect(() => allocFromHeap(app, "system", 1 << 20)).toThrow(
      expect.objectContaining({ code: "ENOMEM", syscall: "sg_alloc_table" }),
    );
    expect(k.snapshot()).toEqual(before);
    const fd = allocFromHeap(app, "system", 1 << 20);
    const buf = k.dmaBuf.get(app, fd);
    const attached = k.snapshot();
    k.faults.failNth("sg", 1);
    expect(() => k.dmaBuf.attach(buf, new Device({ name: "gpu0" }))).toThrow(
      expect.objectContaining({ code: "ENOMEM", syscall: "sg_alloc_table" }),
    );
    expect(k.snapshot()).toEqual(attached);
    k.dmaBuf.put(buf);
    app.close(fd);
    expect(k.snapshot()).toEqual(before);
  });
});
