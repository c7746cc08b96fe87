// Replays the 6.1 oracle's dma-buf fd section (fixtures/…-observed.json) for every exporter it
// probed: the system heap, the CMA heap "reserved" and udmabuf. The cases live in
// ./oracle/dmabuf-fd.ts; what is specific to one exporter stays in its own observed-6.1 test.

import { readFileSync } from "node:fs";
import { allocFromHeap, createKernel } from "@dmabuf/core";
import {
  encodeUdmabufCreate,
  F_ADD_SEALS,
  F_SEAL_SHRINK,
  MFD_ALLOW_SEALING,
  O_CLOEXEC,
  O_RDWR,
  UDMABUF_CREATE,
  UDMABUF_FLAGS_CLOEXEC,
} from "@dmabuf/core/uapi";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describeDmaBufFdOracle } from "./oracle/dmabuf-fd.js";

/** Virtual time before the probe runs, so that fence timestamps are non-zero (as observed). */
const BOOT_NS = 1_897_000_000;

const observed = JSON.parse(
  readFileSync(new URL("../../../fixtures/linux-6.1-observed.json", import.meta.url), "utf8"),
);

/** The oracle's machine: 6.1, cma=64M, the system heap registered before the CMA heap. */
function bootHeaps() {
  const kernel = createKernel({
    ram: "256MiB",
    profile: "6.1",
    cma: { size: "64MiB" },
    plugins: [SystemHeap, CmaHeap],
  });
  kernel.clock.advance(BOOT_NS);
  return { kernel, proc: kernel.spawn({ name: "probe", stdio: true }) };
}

function heapSetup(heap: string) {
  return (size: number, fdFlags: number) => {
    const { kernel, proc } = bootHeaps();
    return { kernel, proc, fd: allocFromHeap(proc, heap, size, { fdFlags }) };
  };
}

describeDmaBufFdOracle("system-heap", observed.heaps.system.dmabuf, heapSetup("system"), {
  privateMappings: true,
  syncEndBeforeStart: "ok",
  mremapGrow: "EFAULT",
  lazyFaults: false,
});

describeDmaBufFdOracle("CMA-heap", observed.heaps.reserved.dmabuf, heapSetup("reserved"), {
  privateMappings: false,
  syncEndBeforeStart: "ok",
  mremapGrow: "ok",
  lazyFaults: true,
});

describeDmaBufFdOracle(
  "udmabuf",
  observed.udmabuf.dmabuf,
  (size, fdFlags) => {
    // udmabuf buffers are always O_RDWR; UDMABUF_FLAGS_CLOEXEC is the only fd flag.
    if ((fdFlags & ~O_CLOEXEC) !== O_RDWR) throw new Error("udmabuf fds are O_RDWR only");
    const kernel = createKernel({ ram: "256MiB", profile: "6.1" });
    kernel.clock.advance(BOOT_NS);
    const proc = kernel.spawn({ name: "probe", stdio: true });
    const dev = proc.open("/dev/udmabuf", O_RDWR);
    const memfd = proc.memfdCreate("udmabuf", MFD_ALLOW_SEALING);
    proc.ftruncate(memfd, size);
    proc.fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK);
    const flags = fdFlags & O_CLOEXEC ? UDMABUF_FLAGS_CLOEXEC : 0;
    const arg = encodeUdmabufCreate({ memfd, flags, offset: 0n, size: BigInt(size) });
    return { kernel, proc, fd: proc.ioctl(dev, UDMABUF_CREATE, arg) };
  },
  {
    privateMappings: false,
    syncEndBeforeStart: "EINVAL",
    mremapGrow: "ok",
    lazyFaults: true,
    syncDebugReports: { device: "udmabuf", codes: ["DMA_API_SYNC_WRONG_DIR"] },
  },
);
