// Carveout heaps: regions reserved from RAM at boot, each managed by a gen_pool-style allocator.

import {
  byteSizeSchema,
  type DmaBuf,
  type DmaBufOps,
  type DmaHeapHandle,
  type DmaHeapOps,
  type HeapCapabilities,
  type HeapHost,
  heap,
  KernelError,
  type PluginAccounting,
  type PluginProbe,
} from "@dmabuf/core";
import * as z from "zod";
import { type ContiguousBuffer, contiguousBufferOps, HeapBuffer } from "./contiguous-buffer.js";
import { installFragmentationFile } from "./fragmentation.js";
import { GenPool } from "./gen-pool.js";
import { PoolRegion } from "./region.js";

/** One carveout: a region of RAM reserved at boot and its heap. */
export const carveoutRegionSchema = z.strictObject({
  /** Heap name (/dev/dma_heap/<name>) and region name; describes the memory. */
  name: z
    .string()
    .min(1, { error: "a carveout needs a name" })
    .max(63, { error: "carveout names have at most 63 characters" })
    .regex(/^[^/\s]+$/, { error: "a carveout name cannot hold '/' or whitespace" }),
  /** Size: bytes or a string like "16MiB"; a multiple of the granule. */
  size: byteSizeSchema,
  /** Fixed physical base in bytes; placed top-down in RAM when absent. */
  base: z.number().int().nonnegative().optional(),
  /** Placement: lowest free run that fits, or smallest free run that fits. */
  allocator: z
    .enum(["first-fit", "best-fit"], { error: 'allocator must be "first-fit" or "best-fit"' })
    .default("first-fit"),
  /** log2 of the pages in one allocation granule (base and size are aligned to it). */
  minOrder: z.number().int().min(0).max(20).default(0),
  /** Protected memory: no CPU access (mmap, vmap, SYNC maintenance), scrubbed when freed. */
  protected: z.boolean().default(false),
});

/** The carveout plugin's configuration: `{ heaps: [...] }`. */
export const carveoutConfigSchema = z
  .strictObject({
    heaps: z.array(carveoutRegionSchema).min(1, { error: "list at least one carveout" }),
  })
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.heaps.forEach((h, i) => {
      if (seen.has(h.name)) {
        ctx.issues.push({
          code: "custom",
          message: `carveout name "${h.name}" is used twice`,
          path: ["heaps", i, "name"],
          input: h.name,
        });
      }
      seen.add(h.name);
    });
  });

/** What the carveout plugin accepts as `config`. */
export type CarveoutConfigInput = z.input<typeof carveoutConfigSchema>;
/** The validated configuration, defaults applied. */
export type CarveoutConfig = z.output<typeof carveoutConfigSchema>;
/** One validated carveout. */
export type CarveoutRegionConfig = z.output<typeof carveoutRegionSchema>;

/**
 * Carveout heaps: each configured region is reserved out of RAM at boot (memblock style) and
 * handed out by a {@link GenPool}, first fit or best fit, in granules of `2^minOrder` pages.
 * Buffers are one physically contiguous, zeroed run.
 *
 * A `protected` carveout models secure memory: its buffers have no mmap, vmap or CPU-access
 * ops (mmap and vmap fail with EINVAL, SYNC does nothing), devices still attach and map them,
 * and their pages are scrubbed when freed.
 *
 * @example
 * ```ts
 * const kernel = createKernel({
 *   ram: "256MiB",
 *   plugins: [{ plugin: CarveoutHeap, config: { heaps: [{ name: "video", size: "32MiB" }] } }],
 * });
 * const fd = allocFromHeap(kernel.spawn(), "video", 1024 * 1024);
 * ```
 */
@heap({
  capabilities: { contiguous: true, cpuAccess: true, vmap: true },
  configSchema: carveoutConfigSchema,
})
export class CarveoutHeap implements DmaHeapOps, PluginProbe, PluginAccounting {
  /** Exporter methods of ordinary carveout buffers. */
  readonly #ops: DmaBufOps<HeapBuffer>;
  /** Exporter methods of protected carveout buffers: no CPU access at all. */
  readonly #protectedOps: DmaBufOps<HeapBuffer>;
  /** Every region's pool, for the kernel's accounting. */
  readonly #pools: GenPool[] = [];

  /**
   * @param host - the heap host whose RAM is carved out (given by `createKernel`)
   * @param config - the validated configuration of the plugin entry
   */
  constructor(
    readonly host: HeapHost,
    readonly config: CarveoutConfig,
  ) {
    this.#ops = contiguousBufferOps(host, true);
    this.#protectedOps = contiguousBufferOps(host, false);
  }

  /** The kernel's accounting hook ({@link @dmabuf/core!index.PluginAccounting}): pages in use per region. */
  accounting(): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of this.#pools) out[`carveout/${p.name}`] = p.usedPages;
    return out;
  }

  /**
   * Reserves every carveout and adds its heap and fragmentation file, in configuration order.
   * @throws KernelError from the reservation (EINVAL: size or base not a multiple of the
   * granule; EBUSY: base overlaps; ENOMEM: no room) or from `dma_heap_add` (EEXIST).
   */
  probe(): void {
    const host = this.host;
    const ps = host.pageSize;
    for (const c of this.config.heaps) {
      const region = host.reservations.reserve({
        name: c.name,
        size: c.size,
        alignBytes: ps * 2 ** c.minOrder,
        ...(c.base !== undefined ? { base: c.base } : {}),
      });
      const pool = new GenPool(c.name, region.basePfn, region.pageCount, c.allocator, c.minOrder);
      this.#pools.push(pool);
      const priv = new PoolRegion(pool, c.protected, host);
      const capabilities: HeapCapabilities = c.protected
        ? { contiguous: true, protected: true, cpuAccess: false, vmap: false }
        : { contiguous: true, cpuAccess: true, vmap: true };
      host.addHeap({
        name: c.name,
        ops: this,
        priv,
        capabilities: { ...capabilities, maxAllocation: c.size },
      });
      installFragmentationFile(host, c.name, priv);
    }
  }

  /**
   * Allocates and exports a buffer of `len` bytes from the heap's carveout. Called by the
   * DMA_HEAP_IOCTL_ALLOC handler with a page-aligned, non-zero `len`, valid `fdFlags` and
   * `heapFlags` 0. The pages (rounded up to whole granules) are placed by the carveout's
   * algorithm and zeroed.
   * @returns the exported buffer; its one reference passes to the caller
   * @throws KernelError ENOMEM when no free run is large enough; the export's error (nothing
   * stays allocated).
   * @see dma_heap_ops.allocate
   */
  allocate(
    heap: DmaHeapHandle,
    len: number,
    fdFlags: number,
    _heapFlags: bigint,
  ): DmaBuf<ContiguousBuffer> {
    const host = this.host;
    const region = heap.priv as PoolRegion;
    const ps = host.pageSize;
    const pagecount = len / ps;
    const pfn = region.pool.alloc(pagecount);
    if (pfn < 0) {
      throw new KernelError("ENOMEM", "dma_heap_ioctl_allocate", `${region.name}: no free run`);
    }
    host.memory.zero(pfn * ps, len);
    const buffer = new HeapBuffer(heap.name, region, pfn, pagecount, ps, host.dma);
    try {
      return host.dmaBuf.export({
        expName: heap.name,
        owner: "heaps-cma",
        ops: region.isProtected ? this.#protectedOps : this.#ops,
        size: len,
        flags: fdFlags,
        priv: buffer,
      });
    } catch (e) {
      region.releasePages(pfn, pagecount);
      throw e;
    }
  }
}
