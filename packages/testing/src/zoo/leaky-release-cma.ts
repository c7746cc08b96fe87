// Zoo: a CMA heap whose buffers never give their pages back to the CMA area.

import { type DmaBuf, type DmaHeapHandle, heap } from "@dmabuf/core";
import { CmaHeap, type ContiguousBuffer } from "@dmabuf/heaps-cma";
import type { ConformanceTarget } from "../cli/target.js";

/**
 * Broken on purpose: the CMA heap, but releasing a buffer does not return its pages to the
 * area (`cma_release` forgotten). The pages never went back to the page allocator either, so
 * only the CMA area's count shows the leak — until the area runs dry.
 */
@heap({ capabilities: { contiguous: true, cpuAccess: true, vmap: true } })
export class LeakyReleaseCmaHeap extends CmaHeap {
  override allocate(
    heap: DmaHeapHandle,
    len: number,
    fdFlags: number,
    flags: bigint,
  ): DmaBuf<ContiguousBuffer> {
    const region = heap.priv as { releasePages(pfn: number, pages: number): void };
    region.releasePages = () => {};
    return super.allocate(heap, len, fdFlags, flags);
  }
}

/** How `dmabuf-conformance` runs it: in a kernel with a CMA area to allocate from. */
export const conformance: ConformanceTarget[] = [
  {
    suite: "heap",
    options: {
      plugin: LeakyReleaseCmaHeap,
      kernelConfig: { profile: "6.1", cma: { size: "16MiB" } },
    },
  },
];
