// The exporter rules (struct dma_buf_ops): export, sg tables, attachments, CPU access, release.

import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  type DmaSyncHooks,
  type Kernel,
  type SgTable,
  withCpuAccess,
} from "@dmabuf/core";
import { MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import {
  ConformanceFailure,
  check,
  checkEqual,
  checkUnchanged,
  describeError,
  errorCodeOf,
  expectError,
  expectSuccess,
} from "../assert.js";
import { needs } from "../capabilities.js";
import { cpuReadBack, cpuWrite } from "../cpu-view.js";
import {
  deviceRead,
  deviceWrite,
  firstDifference,
  firstNonZero,
  mapForDevice,
  pagePattern,
  testDevice,
} from "../device-view.js";
import { BUFINFO, parseBufinfo } from "../observability.js";
import { expectedBytes, readBack } from "../scratch.js";
import { type ExporterCase, fitBudget, fitSize, fitSizes, KiB, MiB } from "./context.js";
import { dataPathCases } from "./data-path.js";
import { memoryTypeCase } from "./memory-type.js";

/** The whole buffer as a fresh device reads it, into the read-back scratch. */
function deviceView(kernel: Kernel, buf: DmaBuf): Uint8Array {
  return deviceRead(kernel, buf, undefined, readBack.take(buf.size));
}

function isLive(kernel: Kernel, buf: DmaBuf): boolean {
  return kernel.dmaBuf.list().includes(buf);
}

function checkBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const at = firstDifference(actual, expected);
  check(at < 0, `${what}: byte ${at} is ${actual[at]}, expected ${expected[at]}`);
}

function checkZero(bytes: Uint8Array, what: string): void {
  const at = firstNonZero(bytes);
  check(at < 0, `${what}: byte ${at} is ${bytes[at]}, expected 0`);
}

function devicesOf(kernel: Kernel, buf: DmaBuf, proc = kernel.spawn({ name: "reader" })) {
  const info = parseBufinfo(proc.readFile(BUFINFO));
  proc.exit();
  const entry = info.buffers.find((b) => b.ino === buf.ino);
  check(entry, `bufinfo does not list buffer ${buf.ino}`);
  return entry.devices;
}

/** Records the cache maintenance the platform is asked for, per device name. */
function recordSyncs(kernel: Kernel) {
  const prev = kernel.dma.hooks;
  const calls: { to: "cpu" | "device"; dev: string; phys: number; length: number }[] = [];
  const hooks: DmaSyncHooks = {
    syncForCpu(dev, phys, length, dir) {
      calls.push({ to: "cpu", dev: dev.name, phys, length });
      prev.syncForCpu(dev, phys, length, dir);
    },
    syncForDevice(dev, phys, length, dir) {
      calls.push({ to: "device", dev: dev.name, phys, length });
      prev.syncForDevice(dev, phys, length, dir);
    },
  };
  kernel.dma.hooks = hooks;
  return {
    calls,
    restore: () => {
      kernel.dma.hooks = prev;
    },
  };
}

/** Most allocations the map fault walk fails at each point. */
const MAP_FAULT_WALK_LIMIT = 16;

/** The allocation points an attach and map can fail at, with their words. */
const MAP_FAULT_POINTS: readonly (readonly ["sg" | "iova", string])[] = [
  ["sg", "sg-table allocation"],
  ["iova", "IOVA allocation"],
];

const DIRECTIONS: readonly [string, DmaDirection][] = [
  ["DMA_BIDIRECTIONAL", DMA_BIDIRECTIONAL],
  ["DMA_TO_DEVICE", DMA_TO_DEVICE],
  ["DMA_FROM_DEVICE", DMA_FROM_DEVICE],
];

/**
 * The exporter cases, in order. They run against any exporter (and, through heap allocation,
 * against every heap): each boots fresh kernels through the context and leaves them to the
 * after-case leak check.
 */
export const exporterCases: readonly ExporterCase[] = [
  {
    id: "exporter.export.buffer",
    title: "Exported buffers are page-sized, fully described and each has its own inode",
    spec: "SPEC §3.4–§3.6",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const inos: number[] = [];
      for (const size of fitSizes(ctx.capabilities, ps, [ps, 3 * ps, 64 * KiB + ps])) {
        const buf = expectSuccess(() => s.create(size, O_RDWR), `creating ${size} bytes`);
        checkEqual(buf.size, size, `size of a ${size}-byte buffer`);
        check(buf.expName.length > 0, "the buffer has no exporter name");
        for (const op of ["mapDmaBuf", "unmapDmaBuf", "release"] as const) {
          check(typeof buf.ops[op] === "function", `the ops table lacks ${op}`);
        }
        check(!buf.ops.pin === !buf.ops.unpin, "pin and unpin must come together");
        check(isLive(s.kernel, buf), "the buffer is not on the global list");
        checkEqual(buf.file.refCount, 1, "references held by a new buffer");
        inos.push(buf.ino);
        s.kernel.dmaBuf.put(buf);
      }
      checkEqual(new Set(inos).size, inos.length, "distinct inode numbers");
    },
  },
  {
    id: "exporter.map.sg-table",
    title: "A mapping's sg table covers the buffer in page-aligned, disjoint, mapped segments",
    spec: "SPEC §3.4, §4.7",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const sizes = fitSizes(ctx.capabilities, ps, [ps, 5 * ps, MiB + 64 * KiB + ps]);
      for (const size of sizes) {
        const buf = s.create(size);
        const m = mapForDevice(s.kernel, buf, testDevice("sg-checker"));
        const t = m.sgt;
        check(t.entryCount > 0, `a ${size}-byte mapping has no entries`);
        check(t.nents > 0 && t.nents <= t.entryCount, `nents ${t.nents} of ${t.entryCount}`);
        checkEqual(t.totalLength(), size, `bytes described by the table of a ${size}-byte buffer`);
        const runs: [number, number][] = [];
        for (let i = 0; i < t.entryCount; i++) {
          const off = t.offset[i] as number;
          const len = t.length[i] as number;
          check(off % ps === 0 && len % ps === 0, `entry ${i} is not page aligned`);
          const start = (t.pfn[i] as number) * ps + off;
          check(start + len <= s.kernel.memory.pageCount * ps, `entry ${i} lies outside RAM`);
          runs.push([start, start + len]);
        }
        runs.sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < runs.length; i++) {
          check(
            (runs[i] as [number, number])[0] >= (runs[i - 1] as [number, number])[1],
            "two entries overlap",
          );
        }
        let dma = 0;
        for (let i = 0; i < t.nents; i++) {
          const a = t.dmaAddress[i] as number;
          const l = t.dmaLength[i] as number;
          check(a % ps === 0 && l % ps === 0, `DMA segment ${i} is not page aligned`);
          dma += l;
        }
        checkEqual(dma, size, "bytes covered by the DMA segments");
        m.detach();
        s.kernel.dmaBuf.put(buf);
      }
    },
  },
  {
    id: "exporter.map.cpu-view",
    title: "The device sees the bytes the CPU sees, in the same order",
    spec: "SPEC §4.7, §5",
    requires: needs.cpuView,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const size of fitSizes(ctx.capabilities, ps, [4 * ps, MiB + 64 * KiB + 3 * ps])) {
        const b = s.createFd(size);
        const pattern = pagePattern(size, ps, 1, expectedBytes.take(size));
        cpuWrite(s, ctx.capabilities, b, 0, pattern);
        checkBytes(deviceView(s.kernel, b.buf), pattern, "device read of a CPU-written buffer");
        // The first pattern is checked: its scratch takes the second.
        const back = pagePattern(size, ps, 2, expectedBytes.take(size));
        deviceWrite(s.kernel, b.buf, 0, back);
        checkBytes(
          cpuReadBack(s, ctx.capabilities, b),
          back,
          "CPU read of a device-written buffer",
        );
        s.proc.close(b.fd);
      }
    },
  },
  {
    id: "exporter.map.table-per-attachment",
    title: "Each attachment gets its own sg table; unmapping one leaves the others intact",
    spec: "SPEC §3.4 (map_dma_buf), §4.7",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const size = fitSize(ctx.capabilities, ps, 64 * KiB + 2 * ps);
      const buf = s.create(size);
      const a = mapForDevice(s.kernel, buf, testDevice("dev-a"));
      const b = mapForDevice(s.kernel, buf, testDevice("dev-b"));
      check(a.sgt !== b.sgt, "two attachments were handed the same sg table");
      const pattern = pagePattern(size, ps, 3);
      a.write(0, pattern);
      a.unmap();
      check(b.sgt.nents > 0, "unmapping one attachment unmapped another's table");
      checkBytes(b.read(0, size), pattern, "the other attachment's view");
      a.detach();
      const again = expectSuccess(
        () => mapForDevice(s.kernel, buf, a.attachment.dev),
        "attaching and mapping the first device again",
      );
      checkBytes(again.read(0, size), pattern, "the re-mapped view");
      again.detach();
      b.detach();
      s.kernel.dmaBuf.put(buf);
    },
  },
  {
    id: "exporter.map.cleared",
    title: "Memory is cleared of old data when a mapping returns, also when it is reused",
    spec: "SPEC §4.7, §8.1",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const size of fitSizes(ctx.capabilities, ps, [ps, 16 * ps, MiB])) {
        for (let round = 0; round < 4; round++) {
          const buf = s.create(size);
          checkZero(deviceView(s.kernel, buf), `a new ${size}-byte buffer (round ${round})`);
          deviceWrite(s.kernel, buf, 0, expectedBytes.take(size).fill(0xa5));
          s.kernel.dmaBuf.put(buf);
        }
      }
    },
  },
  {
    id: "exporter.map.unreachable-device",
    title: "A device that cannot reach the memory fails to map with an errno; nothing leaks",
    spec: "SPEC §4.5",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const buf = s.create(fitSize(ctx.capabilities, ps, 4 * ps));
      const dev = testDevice("dma-mask-zero", { dmaMask: 0 });
      const att = s.kernel.dmaBuf.attach(buf, dev);
      const before = s.kernel.snapshot();
      let code: string | undefined;
      try {
        s.kernel.dmaBuf.mapAttachment(att, DMA_BIDIRECTIONAL);
      } catch (e) {
        code = (e as { code?: string }).code;
        check(
          typeof code === "string" && /^E[A-Z0-9]+$/.test(code),
          `the failed mapping threw ${String(e)}, not a KernelError`,
        );
      }
      check(code !== undefined, "mapping for a device with dma mask 0 succeeded");
      checkUnchanged(s.kernel, before, "kernel state after the failed mapping");
      s.kernel.dmaBuf.detach(buf, att);
      const ok = mapForDevice(s.kernel, buf, testDevice("reachable"));
      ok.detach();
      s.kernel.dmaBuf.put(buf);
    },
  },
  {
    id: "exporter.map.fault-walk",
    title:
      "Failing each sg-table or IOVA allocation of an attach and map in turn gives ENOMEM and leaves the kernel as it was",
    spec: "SPEC §4.2, §4.3, §8.1",
    run(ctx) {
      const s = ctx.boot();
      const k = s.kernel;
      const buf = s.create(fitSize(ctx.capabilities, k.pageSize, 8 * k.pageSize));
      const dev = testDevice("faulty", { iommu: true });
      for (const [point, what] of MAP_FAULT_POINTS) {
        for (let n = 1; n <= MAP_FAULT_WALK_LIMIT; n++) {
          const before = k.snapshot();
          k.faults.failNth(point, n);
          let att: DmaBufAttachment | undefined;
          let sgt: SgTable | undefined;
          try {
            att = k.dmaBuf.attach(buf, dev);
            sgt = k.dmaBuf.mapAttachment(att, DMA_BIDIRECTIONAL);
          } catch (e) {
            k.faults.reset();
            const code = errorCodeOf(e);
            if (code !== "ENOMEM") {
              throw new ConformanceFailure(
                "WRONG_ERROR",
                `attach and map with ${what} ${n} failing: expected ENOMEM, got ${describeError(e)}`,
                code,
              );
            }
            // The importer undoes what succeeded, as a driver's error path does.
            if (att) k.dmaBuf.detach(buf, att);
            checkUnchanged(
              k,
              before,
              `kernel state after attach and map with ${what} ${n} failing`,
            );
            continue;
          }
          const reached = k.faults.count(point);
          k.faults.reset();
          k.dmaBuf.unmapAttachment(att, sgt, DMA_BIDIRECTIONAL);
          k.dmaBuf.detach(buf, att);
          checkUnchanged(k, before, `kernel state after attach, map, unmap and detach`);
          if (reached < n) break;
        }
      }
      k.dmaBuf.put(buf);
    },
  },
  {
    id: "exporter.attach.lifecycle",
    title: "attach → map → unmap → detach, repeated, leaves nothing behind",
    spec: "SPEC §4.2, §4.3",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const buf = s.create(fitSize(ctx.capabilities, ps, 8 * ps));
      const before = s.kernel.snapshot();
      for (let round = 0; round < 3; round++) {
        const dev = testDevice(`cycle${round}`);
        const att = expectSuccess(() => s.kernel.dmaBuf.attach(buf, dev), "attach");
        checkEqual(devicesOf(s.kernel, buf), [dev.name], "bufinfo's attached devices");
        for (const [name, dir] of DIRECTIONS) {
          const sgt = expectSuccess(() => s.kernel.dmaBuf.mapAttachment(att, dir), `map ${name}`);
          s.kernel.dmaBuf.unmapAttachment(att, sgt, dir);
        }
        s.kernel.dmaBuf.detach(buf, att);
        checkEqual(devicesOf(s.kernel, buf), [], "bufinfo's attached devices after detach");
        checkUnchanged(s.kernel, before, `kernel state after cycle ${round}`);
      }
      s.kernel.dmaBuf.put(buf);
    },
  },
  {
    id: "exporter.attach.multiple",
    title: "Several devices attach and map at once; each detaches on its own",
    spec: "SPEC §4.2",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const size = fitSize(ctx.capabilities, ps, 64 * KiB + 3 * ps);
      const buf = s.create(size);
      const maps = ["dev1", "dev2", "dev3"].map((n) => mapForDevice(s.kernel, buf, testDevice(n)));
      checkEqual(devicesOf(s.kernel, buf), ["dev3", "dev2", "dev1"], "attached devices");
      const pattern = pagePattern(size, ps, 4);
      (maps[0] as (typeof maps)[0]).write(0, pattern);
      (maps[1] as (typeof maps)[0]).detach();
      checkEqual(devicesOf(s.kernel, buf), ["dev3", "dev1"], "attached devices after detach");
      for (const m of [maps[0], maps[2]] as (typeof maps)[0][]) {
        check(m.sgt.nents > 0, `${m.attachment.dev.name}'s table was unmapped`);
        checkBytes(m.read(0, size), pattern, m.attachment.dev.name);
      }
      for (const m of maps) if (m.attachment.attached) m.detach();
      s.kernel.dmaBuf.put(buf);
    },
  },
  {
    id: "exporter.cpu.begin-end",
    title: "beginCpuAccess and endCpuAccess succeed in every direction, mapped or not",
    spec: "SPEC §5.1",
    requires: needs.cpuAccess,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const buf = s.create(fitSize(ctx.capabilities, ps, 4 * ps));
      const core = s.kernel.dmaBuf;
      for (const mapped of [false, true]) {
        const m = mapped ? mapForDevice(s.kernel, buf, testDevice("mapped")) : undefined;
        for (const [name, dir] of DIRECTIONS) {
          expectSuccess(() => core.beginCpuAccess(buf, dir), `beginCpuAccess(${name})`);
          expectSuccess(() => core.endCpuAccess(buf, dir), `endCpuAccess(${name})`);
        }
        m?.detach();
      }
      core.put(buf);
    },
  },
  {
    id: "exporter.cpu.syncs-mapped-attachments",
    title:
      "CPU access syncs every mapped attachment (for the CPU, then for the device), only those",
    spec: "SPEC §8.2, §9.4",
    requires: (c) => needs.cpuAccess(c) ?? needs.cachedCpu(c),
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const size = fitSize(ctx.capabilities, ps, 64 * KiB + 2 * ps);
      const buf = s.create(size);
      const core = s.kernel.dmaBuf;
      const mapped = mapForDevice(
        s.kernel,
        buf,
        testDevice("noncoherent-mapped", { coherent: false }),
      );
      const idle = core.attach(buf, testDevice("noncoherent-idle", { coherent: false }));
      const rec = recordSyncs(s.kernel);
      const covered = (to: "cpu" | "device", dev: string) =>
        rec.calls.filter((c) => c.to === to && c.dev === dev).reduce((n, c) => n + c.length, 0);
      core.beginCpuAccess(buf, DMA_FROM_DEVICE);
      checkEqual(
        covered("cpu", "noncoherent-mapped"),
        size,
        "bytes of the mapped attachment synced for the CPU by beginCpuAccess",
      );
      rec.calls.length = 0;
      core.endCpuAccess(buf, DMA_TO_DEVICE);
      checkEqual(
        covered("device", "noncoherent-mapped"),
        size,
        "bytes of the mapped attachment synced for the device by endCpuAccess",
      );
      check(
        rec.calls.every((c) => c.dev !== "noncoherent-idle"),
        "an attachment that is not mapped was synced",
      );
      mapped.unmap();
      rec.calls.length = 0;
      core.beginCpuAccess(buf, DMA_BIDIRECTIONAL);
      core.endCpuAccess(buf, DMA_BIDIRECTIONAL);
      checkEqual(rec.calls.length, 0, "syncs issued after every attachment was unmapped");
      rec.restore();
      mapped.detach();
      core.detach(buf, idle);
      core.put(buf);
    },
  },
  memoryTypeCase,
  {
    id: "exporter.mmap.shared",
    title: "Shared mappings in two processes and the device all see the same bytes",
    spec: "SPEC §5.2",
    requires: needs.mmap,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const size = fitSize(ctx.capabilities, ps, 64 * KiB + 5 * ps);
      const b = s.createFd(size);
      const other = s.kernel.spawn({ name: "peer" });
      const fd2 = s.proc.sendFd(b.fd, other);
      const m1 = s.proc.mmap(b.fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      const m2 = other.mmap(fd2, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      const pattern = pagePattern(size, ps, 5);
      withCpuAccess(s.proc, b.fd, "write", () => m1.write(0, pattern));
      const seen = withCpuAccess(other, fd2, "read", () => m2.read());
      checkBytes(seen, pattern, "the other process's mapping");
      checkBytes(deviceRead(s.kernel, b.buf), pattern, "the device's view");
      other.munmap(m2);
      s.proc.munmap(m1);
      other.exit();
    },
  },
  {
    id: "exporter.mmap.offset",
    title: "mmap honours the page offset and refuses ranges past the end with EINVAL",
    spec: "SPEC §5.2",
    requires: needs.mmap,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const size = fitSize(ctx.capabilities, ps, 4 * ps);
      const pages = size / ps;
      const b = s.createFd(size);
      const pattern = pagePattern(size, ps, 6);
      deviceWrite(s.kernel, b.buf, 0, pattern);
      if (pages >= 2) {
        const n = Math.min(2, pages - 1);
        const m = s.proc.mmap(b.fd, n * ps, PROT_READ, MAP_SHARED, ps);
        const seen = withCpuAccess(s.proc, b.fd, "read", () => m.read());
        checkBytes(seen, pattern.subarray(ps, ps + n * ps), "a mapping at page offset 1");
        s.proc.munmap(m);
      }
      const mm = (len: number, off: number) => () =>
        s.proc.mmap(b.fd, len, PROT_READ, MAP_SHARED, off);
      expectError(mm(ps, size), "EINVAL", "mmap at the end of the buffer");
      expectError(mm(size + ps, 0), "EINVAL", "mmap longer than the buffer");
      expectError(mm(2 * ps, size - ps), "EINVAL", "mmap crossing the end of the buffer");
      s.proc.close(b.fd);
    },
  },
  {
    id: "exporter.mmap.unsupported",
    title: "Without CPU mappings, mmap fails with EINVAL and leaves nothing",
    spec: "SPEC §5.2",
    requires: needs.noMmap,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const b = s.createFd(fitSize(ctx.capabilities, ps, 2 * ps));
      const before = s.kernel.snapshot();
      expectError(
        () => s.proc.mmap(b.fd, ps, PROT_READ | PROT_WRITE, MAP_SHARED),
        "EINVAL",
        "mmap of a buffer the CPU cannot access",
      );
      checkUnchanged(s.kernel, before, "kernel state after the refused mmap");
      s.proc.close(b.fd);
    },
  },
  {
    id: "exporter.vmap.roundtrip",
    title: "vmap shows the buffer's bytes, is shared by its users and unmaps on the last vunmap",
    spec: "SPEC §5.3",
    requires: needs.vmap,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const size = fitSize(ctx.capabilities, ps, 64 * KiB + ps);
      const buf = s.create(size);
      const core = s.kernel.dmaBuf;
      const map = expectSuccess(() => core.vmap(buf), "vmap");
      checkEqual(map.length >= size, true, "the kernel mapping covers the buffer");
      const pattern = pagePattern(size, ps, 7);
      map.write(0, pattern);
      checkBytes(deviceRead(s.kernel, buf), pattern, "the device's view of a vmap write");
      check(core.vmap(buf) === map, "a second vmap user got another mapping");
      checkEqual(s.kernel.snapshot().vmaps, 2, "vmap users");
      core.vunmap(buf, map);
      core.vunmap(buf, map);
      checkEqual(s.kernel.snapshot().vmaps, 0, "vmap users after two vunmaps");
      const again = expectSuccess(() => core.vmap(buf), "vmap after the last vunmap");
      checkBytes(again.read(0, size), pattern, "a new kernel mapping");
      core.vunmap(buf, again);
      core.put(buf);
    },
  },
  {
    id: "exporter.vmap.unsupported",
    title: "Without kernel mappings, vmap fails with EINVAL",
    spec: "SPEC §5.3",
    requires: needs.noVmap,
    run(ctx) {
      const s = ctx.boot();
      const buf = s.create(s.kernel.pageSize);
      expectError(() => s.kernel.dmaBuf.vmap(buf), "EINVAL", "vmap");
      s.kernel.dmaBuf.put(buf);
    },
  },
  {
    id: "exporter.release.once",
    title: "The backing store is freed exactly once, after the last fd, mapping and reference",
    spec: "SPEC §3.7, §3.8",
    run(ctx) {
      const caps = ctx.capabilities;
      const s = ctx.boot();
      const k = s.kernel;
      const ps = k.pageSize;
      const size = fitSize(caps, ps, 64 * KiB + ps);
      const freeAtStart = k.buddy.freePageCount();
      const b = s.createFd(size);
      const pattern = pagePattern(size, ps, 8);
      deviceWrite(k, b.buf, 0, pattern);
      const dupFd = s.proc.dup(b.fd);
      const peer = k.spawn({ name: "peer" });
      const peerFd = s.proc.sendFd(b.fd, peer);
      const held = k.dmaBuf.get(s.proc, b.fd);
      const dev = mapForDevice(k, held, testDevice("holder"));
      const mapping = caps.mmap ? peer.mmap(peerFd, size, PROT_READ, MAP_SHARED) : undefined;
      const kmap = caps.vmap ? k.dmaBuf.vmap(held) : undefined;
      const freeWhileLive = k.buddy.freePageCount();
      const stillLive = (after: string) => {
        check(isLive(k, b.buf), `the buffer was released after ${after}`);
        checkEqual(k.buddy.freePageCount(), freeWhileLive, `free pages after ${after}`);
        checkBytes(dev.read(0, size), pattern, `the buffer's bytes after ${after}`);
      };
      s.proc.close(b.fd);
      stillLive("closing the first fd");
      s.proc.close(dupFd);
      stillLive("closing its dup");
      peer.close(peerFd);
      stillLive("closing the other process's fd");
      if (kmap) {
        k.dmaBuf.vunmap(held, kmap);
        stillLive("vunmap");
      }
      if (mapping) {
        peer.munmap(mapping);
        stillLive("munmap");
      }
      dev.unmap();
      check(isLive(k, b.buf), "the buffer was released after unmapping the attachment");
      dev.detach();
      check(isLive(k, b.buf), "the buffer was released after detaching");
      checkEqual(k.buddy.freePageCount(), freeWhileLive, "free pages while referenced");
      expectSuccess(() => k.dmaBuf.put(held), "dropping the last reference");
      check(!isLive(k, b.buf), "the buffer outlived its last reference");
      checkEqual(k.buddy.freePageCount(), freeAtStart, "free pages after release");
      peer.exit();
    },
  },
  {
    id: "exporter.release.process-exit",
    title: "Buffers shared between processes are released when the last holder exits",
    spec: "SPEC §3.7",
    run(ctx) {
      const caps = ctx.capabilities;
      const s = ctx.boot();
      const k = s.kernel;
      const ps = k.pageSize;
      const before = k.snapshot();
      const first = k.spawn({ name: "producer" });
      const second = k.spawn({ name: "consumer" });
      const bufs = fitBudget(caps, ps, [ps, 16 * ps, 64 * KiB + ps]).map((size) => {
        const b = s.createFd(size, O_RDWR, first);
        first.dup(b.fd);
        const fd2 = first.sendFd(b.fd, second);
        if (caps.mmap) {
          first.mmap(b.fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
          second.mmap(fd2, size, PROT_READ, MAP_SHARED);
        }
        return b.buf;
      });
      first.exit();
      for (const buf of bufs) check(isLive(k, buf), "a buffer died while a process held it");
      second.exit();
      for (const buf of bufs) check(!isLive(k, buf), "a buffer outlived every holder");
      const after = k.snapshot();
      checkEqual(after.freePages, before.freePages, "free pages after both exits");
      checkEqual(after.files, before.files, "open files after both exits");
    },
  },
  {
    id: "exporter.release.importer-holds",
    title: "An importer's reference keeps the buffer alive after its process exits",
    spec: "SPEC §3.7, §3.8",
    run(ctx) {
      const s = ctx.boot();
      const k = s.kernel;
      const ps = k.pageSize;
      const size = fitSize(ctx.capabilities, ps, 16 * ps);
      const freeAtStart = k.buddy.freePageCount();
      const b = s.createFd(size);
      const held = k.dmaBuf.get(s.proc, b.fd);
      const dev = mapForDevice(k, held, testDevice("importer"));
      const pattern = pagePattern(size, ps, 9);
      dev.write(0, pattern);
      s.proc.exit();
      check(isLive(k, held), "the buffer died with the process while an importer held it");
      checkBytes(dev.read(0, size), pattern, "the importer's view after the exit");
      dev.detach();
      k.dmaBuf.put(held);
      check(!isLive(k, held), "the buffer outlived the importer's reference");
      checkEqual(k.buddy.freePageCount(), freeAtStart, "free pages after release");
    },
  },
  ...dataPathCases,
];
