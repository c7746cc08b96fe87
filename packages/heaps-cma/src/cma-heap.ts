// The CMA heap: zeroed, physically contiguous buffers from the CMA areas reserved at boot.

import {
  type CmaArea,
  type DmaBuf,
  type DmaBufOps,
  type DmaHeapHandle,
  type DmaHeapOps,
  type HeapCapabilities,
  type HeapHost,
  heap,
  KernelError,
  type PluginProbe,
} from "@dmabuf/core";
import { type ContiguousBuffer, contiguousBufferOps, HeapBuffer } from "./contiguous-buffer.js";
import { installFragmentationFile } from "./fragmentation.js";
import { RateLimitedLog } from "./ratelimit.js";
import { CmaRegion } from "./region.js";

/** CONFIG_CMA_ALIGNMENT (default 8): the largest alignment order a CMA heap asks for. */
export const CMA_ALIGNMENT = 8;
/** The fixed name of the default area's heap since Linux 6.17. */
export const DEFAULT_CMA_HEAP_NAME = "default_cma_region";

/** `get_order(size)`: the smallest order whose block of pages holds `size` bytes. */
export function getOrder(size: number, pageSize: number): number {
  const pages = Math.ceil(size / pageSize);
  let order = 0;
  while (2 ** order < pages) order++;
  return order;
}

/**
 * The alignment order a CMA heap asks `cma_alloc` for: `min(get_order(len), 8)`, so 4 KiB →
 * 0, 8 KiB → 1, 12 KiB → 2, 1 MiB → 8 and anything larger stays at 8 (1 MiB with 4 KiB pages).
 */
export function cmaHeapAlignOrder(len: number, pageSize: number): number {
  return Math.min(getOrder(len, pageSize), CMA_ALIGNMENT);
}

/** The heaps a kernel's CMA areas get, by profile, as `[heapName, area]` in registration order. */
function cmaHeapLayout(host: HeapHost): [string, CmaArea][] {
  const def = host.defaultCmaArea;
  if (!host.profile.cmaHeapPerArea) {
    // Up to 6.16: one heap, for the default area only, under the area's own name.
    return def ? [[def.name, def]] : [];
  }
  // 6.18: the default area under its fixed name, then every area under its own name.
  const out: [string, CmaArea][] = def ? [[DEFAULT_CMA_HEAP_NAME, def]] : [];
  for (const area of host.cmaAreas) out.push([area.name, area]);
  return out;
}

/**
 * The CMA heap: every buffer is one physically contiguous, zeroed run of pages from a CMA
 * area, aligned to `min(get_order(len), 8)` pages. Heaps are created at probe time from the
 * kernel's CMA areas, as the running kernel version does:
 *
 * - profile "6.1": one heap for the default (`cma=`) area, named after the area
 *   ("reserved"); no default area, no heap.
 * - profile "6.18": `default_cma_region` for the default area, then one heap per CMA area
 *   under the area's own name, so `default_cma_region` and `reserved` can both exist for the
 *   same memory, and named regions get heaps even without a default area.
 *
 * Importers get one table per attachment (a single entry for the default segment limit);
 * only shared mappings are allowed, and their pages are faulted in on first touch; vmap is
 * refcounted. Each heap also gets `/sys/kernel/debug/dma_heap/<name>/fragmentation`.
 *
 * @example
 * ```ts
 * const kernel = createKernel({ ram: "256MiB", cma: { size: "64MiB" }, plugins: [CmaHeap] });
 * const fd = allocFromHeap(kernel.spawn(), "default_cma_region", 1024 * 1024);
 * ```
 */
@heap({ capabilities: { contiguous: true, cpuAccess: true, vmap: true } })
export class CmaHeap implements DmaHeapOps, PluginProbe {
  /** The exporter methods shared by every buffer of this plugin's heaps. */
  readonly #ops: DmaBufOps<HeapBuffer>;
  /** The rate limit of the "alloc failed" message (`pr_err_ratelimited` in cma_alloc). */
  readonly #failLog: RateLimitedLog;

  /** @param host - the heap host, whose CMA areas back the heaps (given by `createKernel`) */
  constructor(readonly host: HeapHost) {
    this.#ops = contiguousBufferOps(host, true);
    this.#failLog = new RateLimitedLog(host, "cma_alloc");
  }

  /**
   * Adds the heaps of the kernel's CMA areas (see the class description) and their
   * fragmentation files.
   * @throws KernelError from `dma_heap_add` for the first heap (e.g. EEXIST when another
   * plugin took the name); a later heap that cannot be added is only warned about and
   * skipped, as Linux does for the extra areas.
   */
  probe(): void {
    const regions = new Map<CmaArea, CmaRegion>();
    cmaHeapLayout(this.host).forEach(([name, area], i) => {
      let region = regions.get(area);
      if (!region) {
        region = new CmaRegion(area);
        regions.set(area, region);
      }
      const capabilities: HeapCapabilities = {
        contiguous: true,
        cpuAccess: true,
        vmap: true,
        maxAllocation: area.count * this.host.pageSize,
      };
      try {
        this.host.addHeap({ name, ops: this, priv: region, capabilities });
      } catch (e) {
        if (i === 0) throw e;
        this.host.log.warn(`cma_heap: failed to add CMA heap ${name}`);
        return;
      }
      installFragmentationFile(this.host, name, region);
    });
  }

  /**
   * Allocates and exports a buffer of `len` bytes (`cma_heap_allocate`). Called by the
   * DMA_HEAP_IOCTL_ALLOC handler with a page-aligned, non-zero `len`, valid `fdFlags` and
   * `heapFlags` 0.
   *
   * Takes `len / PAGE_SIZE` pages first fit from the heap's area, the first page frame aligned
   * to `2^min(get_order(len), 8)` pages, and zeroes them.
   *
   * @remarks A pending fatal signal (`kernel.current.fatalSignalPending`) after zeroing gives
   * the pages back and fails with ENOMEM — not EINTR: that is what the CMA heap returns.
   * When no aligned free run exists, a rate-limited "alloc failed" line goes to the kernel log
   * (not for a request larger than the whole area, which fails before the search, as on the
   * observed 6.1 kernel).
   * @returns the exported buffer; its one reference passes to the caller
   * @throws KernelError ENOMEM (no aligned free run, or killed while zeroing); the export's
   * error (nothing stays allocated).
   * @see dma_heap_ops.allocate
   */
  allocate(
    heap: DmaHeapHandle,
    len: number,
    fdFlags: number,
    _heapFlags: bigint,
  ): DmaBuf<ContiguousBuffer> {
    const host = this.host;
    const region = heap.priv as CmaRegion;
    const area = region.area;
    const ps = host.pageSize;
    const pagecount = len / ps;
    const pfn = area.alloc(pagecount, cmaHeapAlignOrder(len, ps));
    if (pfn < 0) {
      if (pagecount <= area.count) {
        this.#failLog.log(
          "err",
          `cma: cma_alloc: ${area.name}: alloc failed, req-size: ${pagecount} pages, ret: -12`,
        );
      }
      throw new KernelError("ENOMEM", "dma_heap_ioctl_allocate", `${area.name}: no free run`);
    }
    host.memory.zero(pfn * ps, len);
    if (host.fatalSignalPending()) {
      area.release(pfn, pagecount);
      throw new KernelError("ENOMEM", "dma_heap_ioctl_allocate", "fatal signal pending");
    }
    const buffer = new HeapBuffer(heap.name, region, pfn, pagecount, ps, host.dma);
    try {
      return host.dmaBuf.export({
        expName: heap.name,
        owner: "heaps-cma",
        ops: this.#ops,
        size: len,
        flags: fdFlags,
        priv: buffer,
      });
    } catch (e) {
      area.release(pfn, pagecount);
      throw e;
    }
  }
}
