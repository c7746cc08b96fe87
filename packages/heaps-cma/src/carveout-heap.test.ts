// Tests of carveout heaps: configuration, reservation, placement, protected mode, scrubbing.

import {
  allocFromHeap,
  createKernel,
  Device,
  DMA_BIDIRECTIONAL,
  errnoOf,
  type KernelConfigInput,
} from "@dmabuf/core";
import {
  DMA_BUF_IOCTL_SYNC,
  encodeDmaBufSync,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import {
  type CarveoutConfigInput,
  CarveoutHeap,
  CmaHeap,
  expectContiguous,
  fragmentationStats,
} from "./index.js";
import { allBytes, alloc, KiB, MiB, PS } from "./test-fixtures.js";

function boot(config: CarveoutConfigInput, extra: Partial<KernelConfigInput> = {}) {
  const kernel = createKernel({
    ram: "256MiB",
    plugins: [{ plugin: CarveoutHeap, config }],
    ...extra,
  });
  return { kernel, proc: kernel.spawn({ name: "test" }) };
}

describe("CarveoutHeap configuration and reservation", () => {
  it("reserves each carveout at boot, top-down, and registers its heap", () => {
    const { kernel, proc } = boot({
      heaps: [
        { name: "video", size: "16MiB" },
        { name: "secure", size: "4MiB", protected: true, minOrder: 4 },
      ],
    });
    expect(proc.readdir("/dev/dma_heap")).toEqual(["video", "secure"]);
    expect(kernel.reservations.list()).toEqual([
      { name: "video", basePfn: (240 * MiB) / PS, pageCount: (16 * MiB) / PS },
      { name: "secure", basePfn: (236 * MiB) / PS, pageCount: (4 * MiB) / PS },
    ]);
    expect(kernel.buddy.freePageCount()).toBe((236 * MiB) / PS);
    expect(kernel.heaps.find("video")?.capabilities).toEqual({
      contiguous: true,
      cpuAccess: true,
      vmap: true,
      maxAllocation: 16 * MiB,
    });
    expect(kernel.heaps.find("secure")?.capabilities).toEqual({
      contiguous: true,
      protected: true,
      cpuAccess: false,
      vmap: false,
      maxAllocation: 4 * MiB,
    });
  });

  it("places a carveout at a fixed base, aligned to its granule", () => {
    const { kernel } = boot({ heaps: [{ name: "fixed", size: "1MiB", base: 16 * MiB }] });
    expect(kernel.reservations.list()).toEqual([
      { name: "fixed", basePfn: (16 * MiB) / PS, pageCount: 256 },
    ]);
    const bad = () =>
      boot({ heaps: [{ name: "odd", size: "1MiB", base: 16 * MiB + 4 * PS, minOrder: 4 }] });
    expect(errnoOf(bad)).toBe("EINVAL");
    expect(errnoOf(() => boot({ heaps: [{ name: "odd", size: 20 * KiB, minOrder: 3 }] }))).toBe(
      "EINVAL",
    );
  });

  it("a fixed base on a CMA area is EBUSY; a name taken by another heap is EEXIST", () => {
    const cma = { cma: { size: "8MiB" } };
    const k = createKernel({ ram: "256MiB", ...cma });
    const base = (k.defaultCmaArea?.basePfn ?? 0) * PS;
    expect(errnoOf(() => boot({ heaps: [{ name: "x", size: "1MiB", base }] }, cma))).toBe("EBUSY");
    expect(
      errnoOf(() =>
        createKernel({
          ram: "256MiB",
          ...cma,
          plugins: [
            CmaHeap,
            { plugin: CarveoutHeap, config: { heaps: [{ name: "reserved", size: "1MiB" }] } },
          ],
        }),
      ),
    ).toBe("EEXIST");
  });

  it("rejects invalid configurations with a readable EINVAL", () => {
    const configs: unknown[] = [
      undefined,
      { heaps: [] },
      { heaps: [{ name: "", size: "1MiB" }] },
      { heaps: [{ name: "a/b", size: "1MiB" }] },
      { heaps: [{ name: "a", size: "lots" }] },
      { heaps: [{ name: "a", size: "1MiB", allocator: "worst-fit" }] },
      { heaps: [{ name: "a", size: "1MiB", minOrder: -1 }] },
      {
        heaps: [
          { name: "a", size: "1MiB" },
          { name: "a", size: "2MiB" },
        ],
      },
    ];
    for (const config of configs) {
      const e = (() => {
        try {
          createKernel({ ram: "64MiB", plugins: [{ plugin: CarveoutHeap, config }] });
        } catch (err) {
          return err as { code: string; message: string };
        }
      })();
      expect(e?.code, JSON.stringify(config)).toBe("EINVAL");
      expect(e?.message).toMatch(/CarveoutHeap configuration/);
    }
  });
});

describe("CarveoutHeap buffers", () => {
  it("are one zeroed contiguous run, exported under the heap's name", () => {
    const { kernel, proc } = boot({ heaps: [{ name: "video", size: "16MiB" }] });
    const { fd, buf } = alloc(kernel, proc, "video", 3 * MiB);
    expect(buf.expName).toBe("video");
    expect(buf.priv.basePfn).toBe((240 * MiB) / PS);
    const m = proc.mmap(fd, 3 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(allBytes(m.read(), 0)).toBe(true);
    m.fill(0x5a);
    proc.munmap(m);
    proc.close(fd);
    // Not scrubbed on free (an ordinary carveout), but zeroed on the next allocation.
    expect(allBytes(kernel.memory.read(buf.priv.basePfn * PS, PS), 0x5a)).toBe(true);
    const again = alloc(kernel, proc, "video", MiB);
    expect(again.buf.priv.basePfn).toBe(buf.priv.basePfn);
    const m2 = proc.mmap(again.fd, MiB, PROT_READ, MAP_SHARED);
    expect(allBytes(m2.read(), 0)).toBe(true);
    const a = kernel.dmaBuf.attach(again.buf, new Device({ name: "dev" }));
    const sgt = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect(expectContiguous(sgt, PS)).toEqual({ phys: again.buf.priv.basePfn * PS, length: MiB });
  });

  it("take whole granules, with no alignment beyond the granule", () => {
    const { kernel, proc } = boot({ heaps: [{ name: "g", size: "1MiB", minOrder: 2 }] });
    const base = (255 * MiB) / PS;
    const a = alloc(kernel, proc, "g", PS);
    const b = alloc(kernel, proc, "g", 5 * PS);
    const c = alloc(kernel, proc, "g", 64 * KiB);
    expect([a, b, c].map((x) => x.buf.priv.basePfn - base)).toEqual([0, 4, 12]);
    expect(fragmentationStats(kernel, "g").freePages).toBe(256 - 4 - 8 - 16);
  });

  it.each([
    ["first-fit", [2, 5, 12, 7]],
    ["best-fit", [7, 2, 12, 3]],
  ] as const)("%s placement on a crafted sequence", (allocator, expected) => {
    const { kernel, proc } = boot({
      heaps: [{ name: "c", size: 64 * KiB, base: 32 * MiB, allocator }],
    });
    const base = (32 * MiB) / PS;
    const at = (pages: number) => alloc(kernel, proc, "c", pages * PS);
    const bufs = [2, 4, 1, 3, 2].map(at);
    expect(bufs.map((b) => b.buf.priv.basePfn - base)).toEqual([0, 2, 6, 7, 10]);
    proc.close(bufs[1]?.fd as number);
    proc.close(bufs[3]?.fd as number);
    // Free runs now: 4 pages at 2, 3 at 7, 4 at 12.
    const got = [3, 1, 4, allocator === "first-fit" ? 2 : 3].map(
      (n) => at(n).buf.priv.basePfn - base,
    );
    expect(got).toEqual(expected);
  });

  it("ENOMEM when no run is large enough leaks nothing; freeing makes room", () => {
    const { kernel, proc } = boot({ heaps: [{ name: "small", size: "1MiB" }] });
    const first = alloc(kernel, proc, "small", 512 * KiB);
    const second = alloc(kernel, proc, "small", 256 * KiB);
    proc.close(first.fd);
    const before = kernel.snapshot();
    expect(errnoOf(() => allocFromHeap(proc, "small", 768 * KiB))).toBe("ENOMEM");
    expect(kernel.snapshot()).toEqual(before);
    expect(fragmentationStats(kernel, "small")).toMatchObject({
      freePages: 192,
      largestFreeRun: 128,
      allocFailures: 1,
    });
    proc.close(second.fd);
    expect(alloc(kernel, proc, "small", 768 * KiB).buf.priv.basePfn).toBe(first.buf.priv.basePfn);
  });
});

describe("CarveoutHeap protected mode", () => {
  const setup = () => {
    const { kernel, proc } = boot({ heaps: [{ name: "secure", size: "4MiB", protected: true }] });
    const { fd, buf } = alloc(kernel, proc, "secure", 64 * KiB);
    return { kernel, proc, fd, buf };
  };

  it("has no CPU access: mmap and vmap are EINVAL, SYNC does nothing and succeeds", () => {
    const { kernel, proc, fd, buf } = setup();
    expect(buf.ops.mmap).toBeUndefined();
    expect(buf.ops.vmap).toBeUndefined();
    expect(buf.ops.beginCpuAccess).toBeUndefined();
    expect(buf.ops.endCpuAccess).toBeUndefined();
    const before = kernel.snapshot();
    expect(errnoOf(() => proc.mmap(fd, PS, PROT_READ, MAP_SHARED))).toBe("EINVAL");
    expect(errnoOf(() => kernel.dmaBuf.vmap(buf))).toBe("EINVAL");
    expect(proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(3))).toBe(0);
    expect(proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(7))).toBe(0);
    expect(kernel.snapshot()).toEqual(before);
  });

  it("devices still attach and map one contiguous entry", () => {
    const { kernel, buf } = setup();
    const a = kernel.dmaBuf.attach(buf, new Device({ name: "secure-decoder" }));
    const sgt = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect(sgt.entryCount).toBe(1);
    expect(sgt.dmaAddress[0]).toBe(buf.priv.basePfn * PS);
  });

  it("scrubs the pages when the buffer is freed", () => {
    const { kernel, proc, fd, buf } = setup();
    const phys = buf.priv.basePfn * PS;
    // A secure device wrote the buffer.
    kernel.memory.fill(phys, 64 * KiB, 0xc3);
    proc.close(fd);
    expect(kernel.dmaBuf.list()).not.toContain(buf);
    expect(allBytes(kernel.memory.read(phys, 64 * KiB), 0)).toBe(true);
    expect(fragmentationStats(kernel, "secure").freePages).toBe(1024);
  });
});

describe("CarveoutHeap accounting", () => {
  it("reports each region's pages in use in the kernel snapshot, so a leak from it shows", () => {
    const { kernel, proc } = boot({
      heaps: [
        { name: "video", size: "8MiB" },
        { name: "audio", size: "1MiB" },
      ],
    });
    const before = kernel.snapshot();
    expect(before.pools).toEqual({ "carveout/video": 0, "carveout/audio": 0 });
    const { fd } = alloc(kernel, proc, "video", MiB);
    expect(kernel.snapshot().pools).toEqual({ "carveout/video": 256, "carveout/audio": 0 });
    // The region's pages were taken from RAM at boot: the free-page count cannot see them.
    expect(kernel.snapshot().freePages).toBe(before.freePages);
    proc.close(fd);
    expect(kernel.snapshot()).toEqual(before);
  });
});
