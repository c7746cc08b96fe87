// Profile 6.6 against the facts read from the 6.6 sources (profile.ts cites each one).

import { describe, expect, it } from "vitest";
import { Device } from "./dma/device.js";
import { DMA_BIDIRECTIONAL } from "./dma/direction.js";
import type { DmaFence } from "./fence/dma-fence.js";
import { DMA_RESV_USAGE_WRITE, DmaResv } from "./fence/dma-resv.js";
import { setup, testFence } from "./fence/test-fixtures.js";
import { createKernel } from "./kernel.js";
import { PROFILES } from "./profile.js";
import { F_ADD_SEALS, F_GET_SEALS, F_SEAL_SHRINK } from "./uapi/fcntl.js";
import { MFD_ALLOW_SEALING, MFD_HUGETLB } from "./uapi/memfd.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "./uapi/mman.js";
import { boot, create, failsCleanly, memfd, PS } from "./udmabuf/test-fixtures.js";

const HUGE = 2 * 1024 * 1024;

describe("profile 6.6: udmabuf before its folio rework, with vmap (6.2+)", () => {
  const setup66 = (pages = 4) => {
    const ctx = boot("6.6");
    const fd = memfd(ctx.proc, pages * PS);
    const buf = create(ctx.proc, ctx.dev, fd, 0, pages * PS);
    const dmabuf = ctx.kernel.dmaBuf.fromFile(ctx.proc.fileOf(buf));
    if (!dmabuf) throw new Error("not a dma-buf");
    return { ...ctx, fd, buf, dmabuf };
  };

  it("has vmap over the pinned pages (6.1 has none)", () => {
    expect([PROFILES["6.6"].udmabufVmap, PROFILES["6.6"].udmabufFolios]).toEqual([true, false]);
    const { kernel, proc, fd, dmabuf } = setup66();
    proc.pwrite(fd, Uint8Array.of(0x66), 2 * PS + 5);
    const map = kernel.dmaBuf.vmap(dmabuf);
    expect(map.read(2 * PS + 5, 1)[0]).toBe(0x66);
    map.write(1, Uint8Array.of(0x67));
    expect(proc.pread(fd, 1, 1)[0]).toBe(0x67);
    kernel.dmaBuf.vunmap(dmabuf, map);
    expect(dmabuf.vmappingCounter).toBe(0);
  });

  it("maps contiguous pages as one sg entry, cached per attachment (sg_alloc_table_from_pages, cache_sgt_mapping)", () => {
    const { kernel, dmabuf } = setup66();
    const dev = new Device({ name: "importer" });
    const a = kernel.dmaBuf.attach(dmabuf, dev);
    const t1 = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    const t2 = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect([t1.entryCount, t1.totalLength(), t1 === t2]).toEqual([1, 4 * PS, true]);
    kernel.dmaBuf.unmapAttachment(a, t2, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.unmapAttachment(a, t1, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.detach(dmabuf, a);
  });

  it("faults a user mapping in one page at a time, not as a PFN mapping", () => {
    const { proc, buf } = setup66();
    const m = proc.mmap(buf, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.read(PS, 1);
    expect(m.vma.pfnmap).toBe(false);
    expect([...m.vma.pfns].map((p) => p >= 0)).toEqual([false, true, false, false]);
  });

  it("needs hugetlb pages present (EINVAL for a hole)", () => {
    const { kernel, proc, dev } = boot("6.6", { hugepages: 2 });
    const fd = proc.memfdCreate("huge", MFD_HUGETLB | MFD_ALLOW_SEALING);
    proc.ftruncate(fd, 2 * HUGE);
    proc.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
    failsCleanly(kernel, "EINVAL", () => create(proc, dev, fd, 0, PS));
  });
});

describe("profile 6.6: dma_resv_add_fence replaces only a strictly later fence", () => {
  const add = (resv: DmaResv, f: DmaFence) => {
    resv.lock();
    resv.reserveFences(1);
    resv.addFence(f, DMA_RESV_USAGE_WRITE);
    resv.unlock();
  };

  it("the same fence added again takes a second slot (6.18 and 6.1: it replaces itself)", () => {
    const results: Record<string, unknown> = {};
    for (const profile of ["6.18", "6.6", "6.1"] as const) {
      const { kernel } = setup(profile);
      const resv = new DmaResv();
      const ctx = kernel.fences.contextAlloc(1);
      const five = testFence(kernel, 5, ctx);
      add(resv, five);
      add(resv, five);
      const again = resv.fences.length;
      add(resv, testFence(kernel, 7, ctx));
      add(resv, testFence(kernel, 6, ctx));
      results[profile] = [again, resv.fences.map((e) => e.fence.seqno)];
    }
    expect(results).toEqual({
      "6.18": [1, [7n, 6n]],
      "6.6": [2, [7n, 6n]], // 7 replaced the first 5, 6 the second
      "6.1": [1, [6n]],
    });
  });
});

describe("profile 6.6: memfd and devtmpfs", () => {
  it("F_ADD_SEALS uses the low 32 bits of its argument (memfd_fcntl takes an unsigned int)", () => {
    const k = createKernel({ ram: "16MiB", profile: "6.6" });
    const proc = k.spawn({ name: "app" });
    const fd = proc.memfdCreate("m", MFD_ALLOW_SEALING);
    proc.fcntl(fd, F_ADD_SEALS, 2 ** 32 + F_SEAL_SHRINK);
    expect(proc.fcntl(fd, F_GET_SEALS)).toBe(F_SEAL_SHRINK);
  });

  it("lists /dev/dma_heap in creation order (shmem's stable directory offsets)", () => {
    const heaps = (profile: "6.6" | "6.1") => {
      const k = createKernel({ ram: "16MiB", profile });
      const allocate = () => {
        throw new Error("unused");
      };
      for (const name of ["a", "b", "c"]) k.heaps.add({ name, ops: { allocate } });
      return k.spawn({ name: "ls" }).readdir("/dev/dma_heap");
    };
    expect(heaps("6.6")).toEqual(["a", "b", "c"]);
    expect(heaps("6.1")).toEqual(["c", "b", "a"]);
  });
});
