// The capabilities the suites select cases by, resolved from what a plugin declares.

import type { CpuCaching, DmaBufOps, HeapCapabilities } from "@dmabuf/core";

/** What an exporter can do; cases it cannot run are reported as skipped with the reason. */
export interface ExporterCapabilities {
  /** User space can mmap() its buffers. */
  readonly mmap: boolean;
  /** The kernel can vmap its buffers. */
  readonly vmap: boolean;
  /**
   * The exporter brackets CPU access (`beginCpuAccess`/`endCpuAccess`), keeping the CPU and
   * every mapped device coherent.
   */
  readonly cpuAccess: boolean;
  /** Every buffer is one physically contiguous run. */
  readonly contiguous: boolean;
  /** Largest buffer it can ever create, in bytes; undefined when only memory limits it. */
  readonly maxAllocation: number | undefined;
  /** The kernel keeps /sys/kernel/dmabuf statistics (a property of the kernel profile). */
  readonly sysfsStats: boolean;
  /**
   * The memory type of the CPU mappings (mmap and vmap). `cached` (the default) requires
   * CPU access to sync every mapped attachment; `write-combine` or `uncached` requires
   * instead that the mappings carry that type and need no sync.
   */
  readonly cpuCaching: CpuCaching;
}

/** What a heap can do: its declared {@link HeapCapabilities} with their defaults applied. */
export interface HeapSuiteCapabilities extends ExporterCapabilities {
  /** Protected (secure) memory: no CPU access at all. */
  readonly protected: boolean;
}

/**
 * Applies the defaults of {@link HeapCapabilities}: CPU access (mmap and SYNC) and vmap are on
 * unless declared off or the heap is protected; `contiguous` and `protected` are off.
 */
export function resolveHeapCapabilities(
  declared: HeapCapabilities,
  sysfsStats: boolean,
): HeapSuiteCapabilities {
  const prot = declared.protected ?? false;
  const cpuAccess = declared.cpuAccess ?? !prot;
  return {
    mmap: cpuAccess,
    vmap: declared.vmap ?? !prot,
    cpuAccess,
    contiguous: declared.contiguous ?? false,
    maxAllocation: declared.maxAllocation,
    sysfsStats,
    cpuCaching: declared.cpuCaching ?? "cached",
    protected: prot,
  };
}

/**
 * Reads an exporter's capabilities off its ops table: mmap and vmap when it has those ops,
 * CPU access when it has `beginCpuAccess` or `endCpuAccess`. `declared` overrides.
 */
export function resolveExporterCapabilities(
  ops: DmaBufOps,
  sysfsStats: boolean,
  declared: Partial<ExporterCapabilities> = {},
): ExporterCapabilities {
  return {
    mmap: typeof ops.mmap === "function",
    vmap: typeof ops.vmap === "function",
    cpuAccess: typeof ops.beginCpuAccess === "function" || typeof ops.endCpuAccess === "function",
    contiguous: false,
    maxAllocation: undefined,
    sysfsStats,
    cpuCaching: "cached",
    ...declared,
  };
}

/** Skip reasons shared by the suites' `requires`. */
export const needs = {
  mmap: (c: ExporterCapabilities) => (c.mmap ? undefined : "buffers cannot be mmapped"),
  noMmap: (c: ExporterCapabilities) => (c.mmap ? "buffers can be mmapped" : undefined),
  vmap: (c: ExporterCapabilities) => (c.vmap ? undefined : "buffers cannot be vmapped"),
  noVmap: (c: ExporterCapabilities) => (c.vmap ? "buffers can be vmapped" : undefined),
  cpuAccess: (c: ExporterCapabilities) =>
    c.cpuAccess ? undefined : "no CPU access (beginCpuAccess/endCpuAccess)",
  cpuView: (c: ExporterCapabilities) =>
    c.mmap || c.vmap ? undefined : "the CPU cannot see the buffer (no mmap, no vmap)",
  contiguous: (c: ExporterCapabilities) =>
    c.contiguous ? undefined : "buffers are not declared physically contiguous",
  maxAllocation: (c: ExporterCapabilities) =>
    c.maxAllocation !== undefined ? undefined : "no maximum allocation declared",
  sysfsStats: (c: ExporterCapabilities) =>
    c.sysfsStats ? undefined : "the kernel profile has no /sys/kernel/dmabuf statistics",
  cachedCpu: (c: ExporterCapabilities) =>
    c.cpuCaching === "cached"
      ? undefined
      : `CPU mappings are ${c.cpuCaching}: CPU access needs no cache maintenance`,
  uncachedCpu: (c: ExporterCapabilities) =>
    c.cpuCaching === "cached" ? "CPU mappings are cached" : undefined,
  protected: (c: HeapSuiteCapabilities) => (c.protected ? undefined : "the heap is not protected"),
} as const;
