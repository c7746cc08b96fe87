// Plugins that misbehave: wrong return kinds and plain errors from heap and exporter ops are
// findings naming the plugin and op, and an errno (EIO) for the caller; nothing leaks.

import { describe, expect, it } from "vitest";
import { KernelSignal } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import type { DmaHeapOps } from "../heap/ops.js";
import type { Kernel } from "../kernel.js";
import { O_RDWR } from "../uapi/fcntl.js";
import { MAP_SHARED, PROT_READ } from "../uapi/mman.js";
import { allocFromHeap } from "../user/helpers.js";
import type { DmaBuf } from "./dma-buf.js";
import type { DmaBufOps } from "./ops.js";
import { boot, device, exportRecording, PS, type RecordingPriv } from "./test-fixtures.js";

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a failure");
}

function heapWith(kernel: Kernel, allocate: DmaHeapOps["allocate"]) {
  kernel.heaps.add({ name: "bad", ops: { allocate } });
  const proc = kernel.spawn({ name: "app" });
  const hfd = proc.open("/dev/dma_heap/bad", O_RDWR);
  return { proc, hfd };
}

describe("a heap that misbehaves", () => {
  it("allocate returning {} fails the ALLOC with EIO naming the heap; no fd, no file", () => {
    const { kernel } = boot();
    const { proc, hfd } = heapWith(kernel, () => ({}) as DmaBuf);
    const before = kernel.snapshot();
    const e = errorOf(() => allocFromHeap(proc, hfd, PS));
    expect(e).toBeInstanceOf(KernelError);
    expect(e).toMatchObject({ code: "EIO", syscall: "ioctl" });
    expect((e as Error).message).toContain("heap bad: allocate returned a plain object");
    expect(proc.fds()).toEqual([hfd]);
    expect(kernel.snapshot()).toEqual(before);
    expect(kernel.log.findings).toMatchObject([
      { code: "PLUGIN_BAD_RETURN", detail: "heap bad: allocate returned a plain object" },
    ]);
  });

  it("allocate returning undefined, or another kernel's buffer, is the same bug", () => {
    const { kernel } = boot();
    const other = boot().kernel;
    const foreign = exportRecording(other);
    let ret: DmaBuf | undefined;
    const { proc, hfd } = heapWith(kernel, () => ret as DmaBuf);
    for (const r of [undefined, foreign]) {
      ret = r;
      expect(errorOf(() => allocFromHeap(proc, hfd, PS))).toMatchObject({ code: "EIO" });
    }
    expect(foreign.file.refCount).toBe(1);
    expect(kernel.log.findings.map((f) => f.code)).toEqual([
      "PLUGIN_BAD_RETURN",
      "PLUGIN_BAD_RETURN",
    ]);
  });

  it("a plain Error from allocate is a PLUGIN_OP_FAILED finding and EIO; a KernelError passes", () => {
    const { kernel } = boot();
    let thrown: unknown = new TypeError("x is undefined");
    const { proc, hfd } = heapWith(kernel, () => {
      throw thrown;
    });
    const e = errorOf(() => allocFromHeap(proc, hfd, PS));
    expect(e).toMatchObject({ code: "EIO", errno: 5 });
    expect((e as Error).message).toContain("heap bad: allocate threw TypeError: x is undefined");
    expect((e as Error).cause).toBe(thrown);
    expect(kernel.log.text()).toContain("BUG: PLUGIN_OP_FAILED: heap bad: allocate threw");
    thrown = new KernelError("ENOMEM", "allocate");
    expect(errorOf(() => allocFromHeap(proc, hfd, PS))).toBe(thrown);
    expect(kernel.log.findings).toHaveLength(1);
  });
});

describe("an exporter that misbehaves", () => {
  const bad = (override: Partial<DmaBufOps<RecordingPriv>>) => {
    const { kernel } = boot();
    const buf = exportRecording(kernel, { override });
    const dev = device("gpu0");
    return { kernel, buf, dev };
  };

  it("mapDmaBuf returning {} is refused: EIO, PLUGIN_BAD_RETURN, nothing mapped", () => {
    const { kernel, buf, dev } = bad({ mapDmaBuf: () => ({}) as never });
    const a = kernel.dmaBuf.attach(buf, dev);
    const before = kernel.snapshot();
    const e = errorOf(() => kernel.dmaBuf.mapAttachment(a, 0));
    expect(e).toMatchObject({ code: "EIO", syscall: "dma_buf_map_attachment" });
    expect(kernel.snapshot()).toEqual(before);
    expect(kernel.log.findings[0]?.detail).toBe(
      `exporter recorder (buffer ${buf.ino} [recorder]): mapDmaBuf returned a plain object`,
    );
  });

  it("vmap returning 42 is refused and nothing is counted as vmapped", () => {
    const { kernel, buf } = bad({ vmap: () => 42 as never });
    expect(errorOf(() => kernel.dmaBuf.vmap(buf))).toMatchObject({ code: "EIO" });
    expect(buf.vmappingCounter).toBe(0);
    expect(kernel.log.findings[0]).toMatchObject({ code: "PLUGIN_BAD_RETURN" });
    expect(kernel.log.findings[0]?.detail).toMatch(/vmap returned 42$/);
  });

  it("a plain Error from attach or beginCpuAccess reaches user space as EIO naming the op", () => {
    const { kernel, buf, dev } = bad({
      attach: () => {
        throw new Error("no IOMMU");
      },
      beginCpuAccess: () => {
        throw new RangeError("bad index");
      },
    });
    expect(errorOf(() => kernel.dmaBuf.attach(buf, dev))).toMatchObject({ code: "EIO" });
    expect(buf.attachments).toEqual([]);
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    const sync = new Uint8Array(8);
    sync[0] = 3; // DMA_BUF_SYNC_RW | START
    expect(errorOf(() => proc.ioctl(fd, 0x40086200, sync))).toMatchObject({
      code: "EIO",
      syscall: "dma_buf_begin_cpu_access",
    });
    expect(kernel.log.findings.map((f) => f.detail)).toEqual([
      `exporter recorder (buffer ${buf.ino} [recorder]): attach threw Error: no IOMMU`,
      `exporter recorder (buffer ${buf.ino} [recorder]): beginCpuAccess threw RangeError: bad index`,
    ]);
  });

  it("a fault handler returning NaN raises SIGBUS at the address, not RangeError", () => {
    const { kernel, buf } = bad({
      mmap: (_b, vma) => {
        vma.ops = { fault: () => Number.NaN };
      },
    });
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    const m = proc.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED);
    const e = errorOf(() => m.read(PS, 4));
    expect(e).toBeInstanceOf(KernelSignal);
    expect(e).toMatchObject({ code: "SIGBUS", address: m.address + PS });
    expect((e as Error).message).toContain("fault handler returned NaN");
  });

  it("a fault handler that throws a plain Error raises SIGBUS", () => {
    const { kernel, buf } = bad({
      mmap: (_b, vma) => {
        vma.ops = {
          fault: () => {
            throw new TypeError("oops");
          },
        };
      },
    });
    const proc = kernel.spawn();
    const m = proc.mmap(kernel.dmaBuf.fd(buf, proc, 0), PS, PROT_READ, MAP_SHARED);
    expect(errorOf(() => m.read(0, 1))).toMatchObject({ code: "SIGBUS", address: m.address });
  });
});
