import { createKernel, type Kernel, type KernelVersion, type Process } from "@dmabuf/core";
import { CacheModel, Vgem } from "@dmabuf/devices";
import { CarveoutHeap, CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe } from "vitest";
import { describeDmabufHeapsSelftest } from "./dmabuf-heaps.js";

/**
 * Every kernel also gets a vgem-like importer, non-coherent, behind a checking cache model
 * whose violations are fatal: the import step runs for real (attach + map), and every SYNC
 * the selftest issues must keep the CPU and the device coherent.
 */
const devices = [
  { plugin: CacheModel, config: { fatal: true } },
  { plugin: Vgem, config: { coherent: false } },
];

/** The selftest's DRM_IOCTL_PRIME_FD_TO_HANDLE on vgem. */
const importFd = (kernel: Kernel, proc: Process, fd: number) => {
  kernel.plugin(Vgem).primeFdToHandle(proc, fd);
};

describe("profile 6.18", () => {
  describeDmabufHeapsSelftest({
    kernel: () => createKernel({ ram: "256MiB", plugins: [SystemHeap, ...devices] }),
    importFd,
  });
});

describe("profile 6.1", () => {
  describeDmabufHeapsSelftest({
    kernel: () =>
      createKernel({ ram: "256MiB", profile: "6.1", plugins: [SystemHeap, ...devices] }),
    importFd,
  });
});

/**
 * Every contiguous heap: the CMA heaps of a `cma=` area and a named region (6.1: "reserved"
 * only; 6.18: default_cma_region, camera, reserved) and two (non-protected) carveouts. A
 * protected carveout cannot pass this selftest: it has no mmap, as on real hardware.
 */
const contiguousKernel = (profile: KernelVersion) => () =>
  createKernel({
    ram: "256MiB",
    profile,
    cma: { size: "64MiB", regions: [{ name: "camera", size: "48MiB" }] },
    plugins: [
      CmaHeap,
      {
        plugin: CarveoutHeap,
        config: {
          heaps: [
            { name: "carveout", size: "40MiB" },
            { name: "carveout_best_fit", size: "40MiB", allocator: "best-fit", minOrder: 4 },
          ],
        },
      },
      ...devices,
    ],
  });

describe("profile 6.18, CMA and carveout heaps", () => {
  describeDmabufHeapsSelftest({ kernel: contiguousKernel("6.18"), importFd });
});

describe("profile 6.1, CMA and carveout heaps", () => {
  describeDmabufHeapsSelftest({ kernel: contiguousKernel("6.1"), importFd });
});
