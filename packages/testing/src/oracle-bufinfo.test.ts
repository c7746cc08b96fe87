// Replays the 6.1 oracle's showcase byte for byte: debugfs bufinfo, the sysfs buffer stats and
// fdinfo with five live buffers from the CMA heap, the system heap and udmabuf, then all closed.

import { readFileSync } from "node:fs";
import { allocFromHeap, createKernel, type Mapping } from "@dmabuf/core";
import {
  DMA_BUF_SET_NAME,
  encodeUdmabufCreate,
  F_ADD_SEALS,
  F_SEAL_SHRINK,
  MAP_SHARED,
  MFD_ALLOW_SEALING,
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  UDMABUF_CREATE,
  UDMABUF_FLAGS_CLOEXEC,
} from "@dmabuf/core/uapi";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";

const observed = JSON.parse(
  readFileSync(new URL("../../../fixtures/linux-6.1-observed.json", import.meta.url), "utf8"),
);
const live: Record<string, { ino: number; fdinfo: string }> = observed.bufinfo.live_buffers;
const BUFINFO = "/sys/kernel/debug/dma_buf/bufinfo";
const SYSFS_BUFFERS = "/sys/kernel/dmabuf/buffers";
const PS = 4096;

/**
 * The oracle's machine (6.1, cma=64M, the system heap registered before the CMA heap) after
 * 95 short-lived buffers, so that the showcase's buffers get inode numbers 96 to 100 as they
 * did there; then the showcase itself, in the probe's order.
 */
function showcase() {
  const kernel = createKernel({
    ram: "256MiB",
    profile: "6.1",
    cma: { size: "64MiB" },
    plugins: [SystemHeap, CmaHeap],
  });
  const proc = kernel.spawn({ name: "probe", stdio: true });
  const system = proc.open("/dev/dma_heap/system", O_RDWR | O_CLOEXEC);
  const reserved = proc.open("/dev/dma_heap/reserved", O_RDWR | O_CLOEXEC);
  for (let i = 0; i < 95; i++) proc.close(allocFromHeap(proc, system, PS));
  const fds: number[] = [];
  const maps: Mapping[] = [];
  const primary: Record<string, number> = {};
  for (const [heap, heapFd] of [
    ["reserved", reserved],
    ["system", system],
  ] as const) {
    const mapped = allocFromHeap(proc, heapFd, PS, { fdFlags: O_RDWR | O_CLOEXEC });
    maps.push(proc.mmap(mapped, PS, PROT_READ | PROT_WRITE, MAP_SHARED));
    const named = allocFromHeap(proc, heapFd, 2 * PS, { fdFlags: O_RDONLY });
    proc.ioctl(named, DMA_BUF_SET_NAME, "oracle-showcase");
    fds.push(mapped, named, proc.dup(named));
    primary[`${heap}_unnamed_1page_mapped`] = mapped;
    primary[`${heap}_named_2pages_rdonly_dup`] = named;
  }
  const memfd = proc.memfdCreate("oracle-udmabuf", MFD_ALLOW_SEALING);
  proc.ftruncate(memfd, PS);
  proc.fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK);
  const dev = proc.open("/dev/udmabuf", O_RDWR);
  const arg = encodeUdmabufCreate({
    memfd,
    flags: UDMABUF_FLAGS_CLOEXEC,
    offset: 0n,
    size: BigInt(PS),
  });
  const udmabuf = proc.ioctl(dev, UDMABUF_CREATE, arg);
  proc.ioctl(udmabuf, DMA_BUF_SET_NAME, "oracle-udmabuf");
  fds.push(udmabuf);
  primary.udmabuf_named_1page = udmabuf;
  return { kernel, proc, fds, maps, primary, memfd };
}

describe("6.1 oracle: the showcase of five live buffers", () => {
  it("bufinfo.text_with_live_buffers, byte for byte", () => {
    const { proc } = showcase();
    expect(observed.bufinfo.supported).toBe(true);
    expect(proc.readFile(BUFINFO)).toBe(observed.bufinfo.text_with_live_buffers);
  });

  it("bufinfo.live_buffers: the inode number, size and fdinfo of each", () => {
    const { proc, primary } = showcase();
    for (const [name, want] of Object.entries(live)) {
      const fd = primary[name] as number;
      expect(proc.fstat(fd).ino, name).toBe(want.ino);
      expect(proc.readFile(`/proc/self/fdinfo/${fd}`), name).toBe(want.fdinfo);
    }
  });

  it("sysfs_stats: one directory per buffer with exporter_name and size", () => {
    const { proc } = showcase();
    const s = observed.sysfs_stats;
    expect(s.supported).toBe(true);
    // The probe sorted the names it listed; so does this test.
    expect([...proc.readdir(SYSFS_BUFFERS)].sort()).toEqual(s.buffers_dir_listing);
    for (const [name, want] of Object.entries<{
      ino: number;
      files: string[];
      exporter_name: string;
      size: string;
    }>(s.per_buffer)) {
      const dir = `${SYSFS_BUFFERS}/${want.ino}`;
      expect(live[name]?.ino).toBe(want.ino);
      expect([...proc.readdir(dir)].sort(), name).toEqual(want.files);
      expect(proc.readFile(`${dir}/exporter_name`), name).toBe(want.exporter_name);
      expect(proc.readFile(`${dir}/size`), name).toBe(want.size);
    }
  });

  it("bufinfo_after_close: everything closed and unmapped leaves no buffer", () => {
    const { kernel, proc, fds, maps, memfd } = showcase();
    const free = kernel.buddy.freePageCount();
    proc.close(memfd);
    for (const fd of fds) proc.close(fd);
    for (const m of maps) proc.munmap(m);
    const after = observed.bufinfo_after_close;
    expect(proc.readFile(BUFINFO)).toBe(after.text);
    expect(proc.readdir(SYSFS_BUFFERS)).toEqual(after.sysfs_buffers_dir_listing);
    // The system heap's three pages and the memfd page udmabuf pinned go back to the page
    // allocator (the CMA heap's go back to its area).
    expect(kernel.buddy.freePageCount() - free).toBe(4);
    expect(kernel.defaultCmaArea?.usedPages).toBe(0);
  });
});
