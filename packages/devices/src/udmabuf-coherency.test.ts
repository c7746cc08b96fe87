// udmabuf on a non-coherent platform: its SYNC ioctls do cache maintenance through the misc
// device's own mapping, which keeps a non-coherent importer and the CPU coherent.

import { createKernel, DMA_BIDIRECTIONAL, syncBuffer } from "@dmabuf/core";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  encodeUdmabufCreate,
  F_ADD_SEALS,
  F_SEAL_SHRINK,
  MAP_SHARED,
  MFD_ALLOW_SEALING,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  UDMABUF_CREATE,
  UDMABUF_FLAGS_CLOEXEC,
} from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { CacheModel } from "./cache-model.js";
import { MemcpyEngine } from "./memcpy-engine.js";

const LEN = 16 * 1024;
const NEW = 0x5a;

/** A checking cache model, a non-coherent engine and a udmabuf it imports, mapped by the CPU. */
function rig() {
  const kernel = createKernel({
    ram: "64MiB",
    plugins: [
      { plugin: CacheModel, config: { mode: "checking" } },
      { plugin: MemcpyEngine, config: { name: "dev0", coherent: false } },
    ],
  });
  const cache = kernel.plugin(CacheModel);
  const proc = kernel.spawn({ name: "app" });
  const memfd = proc.memfdCreate("frames", MFD_ALLOW_SEALING);
  proc.ftruncate(memfd, LEN);
  proc.fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK);
  const dev = proc.open("/dev/udmabuf", O_RDWR);
  const arg = encodeUdmabufCreate({
    memfd,
    flags: UDMABUF_FLAGS_CLOEXEC,
    offset: 0n,
    size: BigInt(LEN),
  });
  const fd = proc.ioctl(dev, UDMABUF_CREATE, arg);
  const map = proc.mmap(fd, LEN, PROT_READ | PROT_WRITE, MAP_SHARED);
  const engine = kernel.plugin(MemcpyEngine).importFd(proc, fd, DMA_BIDIRECTIONAL);
  const sync = (flags: number) => syncBuffer(proc, fd, flags);
  return { cache, map, engine, sync };
}

describe("udmabuf with a cache model and a non-coherent importer", () => {
  it("CPU write → device read, bracketed by SYNC START/END WRITE: coherent", () => {
    const r = rig();
    r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    r.map.fill(NEW);
    r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    expect(r.engine.read().every((b) => b === NEW)).toBe(true);
    expect(r.cache.checker.violations).toEqual([]);
  });

  it("CPU write → device read without SYNC END: the checker reports it", () => {
    const r = rig();
    r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    r.map.fill(NEW);
    r.engine.read();
    expect(r.cache.checker.violations.map((v) => v.kind)).toEqual(["device-read-cpu-dirty"]);
  });

  it("device write → CPU read after SYNC START READ: coherent", () => {
    const r = rig();
    r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    r.map.read();
    r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    r.engine.fill(NEW);
    r.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    expect(r.map.read().every((b) => b === NEW)).toBe(true);
    r.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    expect(r.cache.checker.violations).toEqual([]);
  });
});
