// /dev/udmabuf beyond the oracle: the check order of UDMABUF_CREATE, the module parameters,
// pins and their release, the exporter ops on both profiles, and clean failures.

import { describe, expect, it } from "vitest";
import { Device } from "../dma/device.js";
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from "../dma/direction.js";
import { KernelError } from "../errors/kernel-error.js";
import { sync } from "../fence/test-fixtures.js";
import { createKernel } from "../kernel.js";
import type { KernelVersion } from "../profile.js";
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW } from "../uapi/dma-buf.js";
import {
  F_ADD_SEALS,
  F_GETFL,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  O_CLOEXEC,
  O_RDWR,
} from "../uapi/fcntl.js";
import { MFD_ALLOW_SEALING, MFD_HUGETLB } from "../uapi/memfd.js";
import { MADV_DONTNEED, MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { encodeUdmabufCreateList, UDMABUF_CREATE_LIST } from "../uapi/udmabuf.js";
import { errnoOf } from "../vfs/process.js";
import { boot, create, createList, failsCleanly, memfd, PS } from "./test-fixtures.js";

const HUGE = 2 * 1024 * 1024;
const BOTH = ["6.1", "6.18"] as const;

describe("the /dev/udmabuf node and its module parameters", () => {
  it("readlink and fdinfo of the device fd; the parameters in sysfs", () => {
    const { proc } = boot();
    const fd = proc.open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe("/dev/udmabuf");
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toMatch(
      /^pos:\t0\nflags:\t02100002\nmnt_id:\t\d+\nino:\t\d+\n$/,
    );
    expect(proc.readFile("/sys/module/udmabuf/parameters/list_limit")).toBe("1024\n");
    expect(proc.readFile("/sys/module/udmabuf/parameters/size_limit_mb")).toBe("64\n");
  });

  it("a kernel without CONFIG_UDMABUF has no node", () => {
    const kernel = createKernel({ ram: "16MiB", udmabuf: { enabled: false } });
    expect(kernel.udmabuf).toBeUndefined();
    expect(errnoOf(() => kernel.spawn().open("/dev/udmabuf", O_RDWR))).toBe("ENOENT");
  });

  it("list_limit and size_limit_mb come from the configuration and may change at run time", () => {
    const { kernel, proc, dev } = boot("6.18", { udmabuf: { listLimit: 2, sizeLimitMb: 1 } });
    const fd = memfd(proc, 2 * 1024 * 1024);
    failsCleanly(kernel, "EINVAL", () =>
      createList(proc, dev, [
        [fd, 0, PS],
        [fd, PS, PS],
        [fd, 2 * PS, PS],
      ]),
    );
    expect(
      createList(proc, dev, [
        [fd, 0, PS],
        [fd, PS, PS],
      ]),
    ).toBeGreaterThan(0);
    expect(create(proc, dev, fd, 0, 1024 * 1024)).toBeGreaterThan(0);
    failsCleanly(kernel, "EINVAL", () => create(proc, dev, fd, 0, 1024 * 1024 + PS));
    const ud = kernel.udmabuf;
    if (!ud) throw new Error("no udmabuf");
    ud.sizeLimitMb = 2;
    expect(proc.readFile("/sys/module/udmabuf/parameters/size_limit_mb")).toBe("2\n");
    expect(create(proc, dev, fd, 0, 1024 * 1024 + PS)).toBeGreaterThan(0);
  });
});

describe("UDMABUF_CREATE: the order of the checks", () => {
  it("alignment and the size limit are checked for every item before any memfd", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, 4 * PS);
    failsCleanly(kernel, "EINVAL", () =>
      createList(proc, dev, [
        [-1, 0, PS],
        [fd, 0, PS + 1],
      ]),
    );
    failsCleanly(kernel, "EINVAL", () => createList(proc, dev, [[-1, 0, 65 * 1024 * 1024]]));
    failsCleanly(kernel, "EINVAL", () => create(proc, dev, -1, 0, 0));
    failsCleanly(kernel, "EBADFD", () => create(proc, dev, -1, 0, PS));
  });

  it("items are taken one by one: the first bad one decides", () => {
    const { kernel, proc, dev } = boot();
    const good = memfd(proc, 4 * PS);
    const unsealed = memfd(proc, 4 * PS, 0);
    const nul = proc.open("/dev/null", O_RDWR);
    failsCleanly(kernel, "EINVAL", () =>
      createList(proc, dev, [
        [unsealed, 0, PS],
        [-1, 0, PS],
      ]),
    );
    failsCleanly(kernel, "EBADFD", () =>
      createList(proc, dev, [
        [nul, 0, PS],
        [unsealed, 0, PS],
      ]),
    );
    failsCleanly(kernel, "EINVAL", () =>
      createList(proc, dev, [
        [good, 0, PS],
        [good, 3 * PS, 2 * PS],
      ]),
    );
    failsCleanly(kernel, "EBADFD", () =>
      create(proc, dev, kernel.dmaBuf.list().length + 99, 0, PS),
    );
  });

  it("seals: SHRINK is needed, WRITE and FUTURE_WRITE are refused, GROW does not matter", () => {
    const { kernel, proc, dev } = boot();
    for (const [seals, errno] of [
      [F_SEAL_GROW, "EINVAL"],
      [F_SEAL_SHRINK | F_SEAL_WRITE, "EINVAL"],
      [F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE, "EINVAL"],
    ] as const) {
      const fd = memfd(proc, PS, seals);
      failsCleanly(kernel, errno, () => create(proc, dev, fd, 0, PS));
    }
    expect(create(proc, dev, memfd(proc, PS, F_SEAL_SHRINK | F_SEAL_GROW), 0, PS)).toBeGreaterThan(
      0,
    );
  });

  it("a list shorter than its count is EFAULT; unknown flag bits are ignored", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, PS);
    const arg = encodeUdmabufCreateList(0, [{ memfd: fd, offset: 0n, size: BigInt(PS) }]);
    new DataView(arg.buffer).setUint32(4, 2, true);
    failsCleanly(kernel, "EFAULT", () => proc.ioctl(dev, UDMABUF_CREATE_LIST, arg));
    const buf = create(proc, dev, fd, 0, PS, 0xfffffffe);
    expect(proc.isCloexec(buf)).toBe(false);
    expect(proc.isCloexec(create(proc, dev, fd, 0, PS, 0xffffffff))).toBe(true);
  });

  it("EMFILE after every other check; nothing stays pinned and no inode number is used", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, 2 * PS);
    proc.rlimitNofile = proc.fds().length;
    failsCleanly(kernel, "EMFILE", () => create(proc, dev, fd, 0, 2 * PS));
    failsCleanly(kernel, "EBADFD", () => create(proc, dev, -1, 0, 2 * PS));
    expect(proc.fstat(fd).blocks).toBe(0);
    proc.rlimitNofile = 1024;
    expect(proc.fstat(create(proc, dev, fd, 0, 2 * PS)).ino).toBe(1);
  });
});

describe("pins: the buffer and the memfd share pages", () => {
  it("a create fills the memfd's holes; the pages live until both are gone", () => {
    const { kernel, proc, dev } = boot();
    const free0 = kernel.buddy.freePageCount();
    const fd = memfd(proc, 4 * PS);
    const buf = create(proc, dev, fd, PS, 2 * PS);
    expect(kernel.buddy.freePageCount()).toBe(free0 - 2);
    expect(proc.fstat(fd).blocks).toBe(2 * (PS / 512));
    proc.close(fd);
    expect(kernel.buddy.freePageCount()).toBe(free0 - 2);
    proc.close(buf);
    expect(kernel.buddy.freePageCount()).toBe(free0);
    const fd2 = memfd(proc, 4 * PS);
    proc.close(create(proc, dev, fd2, 0, 4 * PS));
    expect(kernel.buddy.freePageCount()).toBe(free0 - 4);
    proc.close(fd2);
    expect(kernel.buddy.freePageCount()).toBe(free0);
  });

  it("a hole punched in the memfd leaves the buffer with the old page, as in Linux", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, PS);
    proc.pwrite(fd, Uint8Array.of(1), 0);
    const buf = create(proc, dev, fd, 0, PS);
    const free = kernel.buddy.freePageCount();
    proc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PS);
    expect(kernel.buddy.freePageCount()).toBe(free);
    proc.pwrite(fd, Uint8Array.of(2), 0);
    const m = proc.mmap(buf, PS, PROT_READ, MAP_SHARED);
    expect([m.read(0, 1)[0], proc.pread(fd, 1, 0)[0]]).toEqual([1, 2]);
    proc.munmap(m);
    proc.close(buf);
    expect(kernel.buddy.freePageCount()).toBe(free);
  });

  it("a failed list gives back the pages its earlier items allocated", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, 4 * PS);
    proc.pwrite(fd, Uint8Array.of(1), 0);
    failsCleanly(kernel, "EINVAL", () =>
      createList(proc, dev, [
        [fd, 0, 3 * PS],
        [fd, PS, PS],
        [fd, 3 * PS, 2 * PS],
      ]),
    );
    expect(proc.fstat(fd).blocks).toBe(PS / 512);
    expect(proc.pread(fd, 1, 0)[0]).toBe(1);
  });

  it("F_SEAL_WRITE waits 150 ms of virtual time for the pins, none with a fatal signal", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, PS);
    const buf = create(proc, dev, fd, 0, PS);
    let t = kernel.clock.now;
    failsCleanly(kernel, "EBUSY", () => proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    expect(kernel.clock.now - t).toBe(150e6);
    proc.kill();
    t = kernel.clock.now;
    failsCleanly(kernel, "EBUSY", () => proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    expect(kernel.clock.now).toBe(t);
    proc.fatalSignalPending = false;
    proc.close(buf);
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)).toBe(0);
    expect(kernel.clock.now).toBe(t);
  });

  it("a pin due to end while F_SEAL_WRITE waits lets the seal through", () => {
    const { kernel, proc, dev } = boot();
    const fd = memfd(proc, PS);
    const buf = create(proc, dev, fd, 0, PS);
    const t = kernel.clock.now;
    kernel.clock.schedule(25e6, () => proc.close(buf));
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)).toBe(0);
    expect(kernel.clock.now - t).toBe(30e6);
  });
});

describe("profile 6.12: the folio rework without the pre-fault", () => {
  it("mmap is a PFN mapping whose pages fault in one by one", () => {
    const { proc, dev } = boot("6.12");
    const fd = memfd(proc, 4 * PS);
    const buf = create(proc, dev, fd, 0, 4 * PS);
    const m = proc.mmap(buf, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.read(PS, 1);
    expect([...m.vma.pfns].filter((p) => p >= 0).length).toBe(1);
    expect(m.vma.pfnmap).toBe(true);
    m.read(3 * PS, 1);
    expect([...m.vma.pfns].filter((p) => p >= 0).length).toBe(2);
  });
});

describe.each(BOTH)("profile %s: the exporter ops", (profile: KernelVersion) => {
  const folios = profile === "6.18";
  const setup = (pages = 4) => {
    const ctx = boot(profile);
    const fd = memfd(ctx.proc, pages * PS);
    const buf = create(ctx.proc, ctx.dev, fd, 0, pages * PS);
    const dmabuf = ctx.kernel.dmaBuf.fromFile(ctx.proc.fileOf(buf));
    if (!dmabuf) throw new Error("not a dma-buf");
    return { ...ctx, fd, buf, dmabuf };
  };

  it("is O_RDWR, exp_name udmabuf, listed in bufinfo", () => {
    const { proc, buf } = setup(1);
    expect(proc.fcntl(buf, F_GETFL)).toBe(O_RDWR);
    expect(proc.readFile("/sys/kernel/debug/dma_buf/bufinfo")).toContain(
      "00004096\t00000002\t00080007\t00000001\tudmabuf\t00000001\t<none>\n",
    );
    expect(proc.readFile("/sys/kernel/dmabuf/buffers/1/exporter_name")).toBe("udmabuf\n");
  });

  it(`map builds a fresh table per call (${folios ? "one entry per page" : "6.1: cached, coalesced"})`, () => {
    const { kernel, dmabuf } = setup();
    const dev = new Device({ name: "importer" });
    const a = kernel.dmaBuf.attach(dmabuf, dev);
    const t1 = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    const t2 = kernel.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
    expect(t1.entryCount).toBe(folios ? 4 : 1);
    expect(t1.totalLength()).toBe(4 * PS);
    expect(kernel.dma.isMapped(t1, dev)).toBe(true);
    expect(t1 === t2).toBe(!folios);
    kernel.dmaBuf.unmapAttachment(a, t2, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.unmapAttachment(a, t1, DMA_BIDIRECTIONAL);
    kernel.dmaBuf.detach(dmabuf, a);
    expect(kernel.dma.liveMappings(dev)).toBe(0);
  });

  it(`vmap: ${folios ? "maps the pinned pages" : "EINVAL (6.1 has none)"}`, () => {
    const { kernel, proc, fd, dmabuf } = setup();
    proc.pwrite(fd, Uint8Array.of(0x77), 3 * PS + 1);
    if (!folios) {
      failsCleanly(kernel, "EINVAL", () => kernel.dmaBuf.vmap(dmabuf));
      return;
    }
    const map = kernel.dmaBuf.vmap(dmabuf);
    expect(map.read(3 * PS + 1, 1)[0]).toBe(0x77);
    map.write(0, Uint8Array.of(0x78));
    expect(proc.pread(fd, 1, 0)[0]).toBe(0x78);
    kernel.dmaBuf.vunmap(dmabuf, map);
    expect(dmabuf.vmappingCounter).toBe(0);
  });

  it("CPU access: END first is EINVAL; the first START maps for the misc device, once", () => {
    const { kernel, proc, buf } = setup();
    const misc = kernel.udmabuf?.device as Device;
    failsCleanly(kernel, "EINVAL", () => sync(proc, buf, DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END));
    expect(kernel.dma.liveMappings(misc)).toBe(0);
    sync(proc, buf, DMA_BUF_SYNC_RW);
    sync(proc, buf, DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END);
    sync(proc, buf, DMA_BUF_SYNC_RW);
    expect(kernel.dma.liveMappings(misc)).toBe(1);
    proc.close(buf);
    expect(kernel.dma.liveMappings(misc)).toBe(0);
    expect(kernel.dma.debug.reports).toEqual([]);
  });

  it("a first START for reading is reported by DMA-API debugging at later syncs and release", () => {
    const { kernel, proc, buf } = setup();
    sync(proc, buf, DMA_BUF_SYNC_READ);
    sync(proc, buf, DMA_BUF_SYNC_READ | DMA_BUF_SYNC_END);
    expect(kernel.dma.debug.reports).toEqual([]);
    sync(proc, buf, DMA_BUF_SYNC_RW);
    proc.close(buf);
    expect(kernel.dma.debug.reports.map((r) => [r.device, r.code])).toEqual([
      ["udmabuf", "DMA_API_SYNC_WRONG_DIR"],
      ["udmabuf", "DMA_API_UNMAP_WRONG_DIR"],
    ]);
    expect(kernel.dma.liveMappings(kernel.udmabuf?.device)).toBe(0);
  });

  it("in-kernel CPU access in both directions goes through the same table", () => {
    const { kernel, dmabuf } = setup();
    kernel.dmaBuf.beginCpuAccess(dmabuf, DMA_TO_DEVICE);
    kernel.dmaBuf.endCpuAccess(dmabuf, DMA_TO_DEVICE);
    expect(kernel.dma.debug.reports).toEqual([]);
    kernel.dmaBuf.beginCpuAccess(dmabuf, DMA_FROM_DEVICE);
    expect(kernel.dma.debug.reports.length).toBe(1);
  });

  it(`mmap: ${folios ? "a PFN mapping pre-faulted at first touch" : "pages fault in one by one"}`, () => {
    const { kernel, proc, buf } = setup();
    const m = proc.mmap(buf, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.read(PS, 1);
    expect([...m.vma.pfns].filter((p) => p >= 0).length).toBe(folios ? 4 : 1);
    expect(m.vma.pfnmap).toBe(folios);
    const before = kernel.snapshot();
    expect(errnoOf(() => proc.madvise(m, MADV_DONTNEED))).toBe(folios ? "EINVAL" : null);
    expect(errnoOf(() => proc.mremap(m, 5 * PS))).toBe(folios ? "EFAULT" : null);
    if (folios) expect(kernel.snapshot()).toEqual(before);
  });

  it("release unpins: F_SEAL_WRITE goes through at once afterwards", () => {
    const { kernel, proc, fd, buf } = setup();
    proc.close(buf);
    const t = kernel.clock.now;
    expect(proc.fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)).toBe(0);
    expect(kernel.clock.now).toBe(t);
  });

  it(`hugetlb memfds: ${folios ? "missing huge pages are allocated" : "6.1 needs the huge pages present"}`, () => {
    const { kernel, proc, dev } = boot(profile, { hugepages: 2 });
    const fd = proc.memfdCreate("huge", MFD_HUGETLB | MFD_ALLOW_SEALING);
    proc.ftruncate(fd, 2 * HUGE);
    proc.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
    const pool = kernel.hugetlb.defaultPool;
    if (folios) {
      const buf = create(proc, dev, fd, HUGE - PS, 2 * PS);
      expect(pool.free).toBe(0);
      proc.close(fd);
      proc.close(buf);
      expect(pool.free).toBe(2);
      return;
    }
    failsCleanly(kernel, "EINVAL", () => create(proc, dev, fd, 0, PS));
    const m = proc.mmap(fd, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0x48, HUGE - 1, 1);
    proc.munmap(m);
    const buf = create(proc, dev, fd, HUGE - PS, PS);
    const ub = proc.mmap(buf, PS, PROT_READ, MAP_SHARED);
    expect(ub.read(PS - 1, 1)[0]).toBe(0x48);
    failsCleanly(kernel, "EINVAL", () => create(proc, dev, fd, HUGE - PS, 2 * PS));
  });
});

describe("the in-kernel create", () => {
  it("UdmabufDevice.create takes items as values and fails with KernelErrors", () => {
    const { kernel, proc } = boot("6.18");
    const ud = kernel.udmabuf;
    if (!ud) throw new Error("no udmabuf");
    const fd = memfd(proc, 2 * PS);
    const buf = ud.create(proc, 0, [{ memfd: fd, offset: 0n, size: BigInt(2 * PS) }]);
    expect(proc.fstat(buf).size).toBe(2 * PS);
    expect(() => ud.create(proc, 0, [])).toThrow(KernelError);
  });
});
