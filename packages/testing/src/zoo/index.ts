// The zoo: deliberately broken plugins, each with the conformance cases that must catch it.

import type { Kernel, KernelConfigInput, PluginClass } from "@dmabuf/core";
import type { FailureCode } from "../conformance/case.js";
import type { CreatingExporter } from "../conformance/exporter/suite.js";
import type { ImporterCapabilities, ImporterUnderTest } from "../conformance/importer/context.js";
import { CachedUncachedHeap } from "./cached-uncached.js";
import { CachingExporter } from "./caching-exporter.js";
import { DoubleReleaseHeap } from "./double-release.js";
import { FixedDirectionSyncHeap } from "./fixed-direction-sync.js";
import { IgnoresPgoffHeap } from "./ignores-pgoff.js";
import { KeepsMappingImporter } from "./keeps-mapping-importer.js";
import { LeakOnAttachErrorImporter } from "./leak-on-attach-error-importer.js";
import { LeakOnEintrHeap } from "./leak-on-eintr.js";
import { LeakOnEnomemHeap } from "./leak-on-enomem.js";
import { LeakOnSgFailHeap } from "./leak-on-sg-fail.js";
import { LeakyReleaseCmaHeap } from "./leaky-release-cma.js";
import { NeverSyncsHeap } from "./never-syncs.js";
import { NoDetachImporter } from "./no-detach-importer.js";
import { NoReferenceImporter } from "./no-reference-importer.js";
import { NotZeroingHeap } from "./not-zeroing.js";
import { PutBeforeDetachImporter } from "./put-before-detach-importer.js";
import { ReadersIgnoredImporter } from "./readers-ignored-importer.js";
import { ReleaseWhileBusyImporter } from "./release-while-busy-importer.js";
import { RevalidatingFlagsHeap } from "./revalidating-flags.js";
import { ReversedTableHeap } from "./reversed-table.js";
import { ScatteredContiguousHeap } from "./scattered-contiguous.js";
import { SharedTableHeap } from "./shared-table.js";
import { ShortTableHeap } from "./short-table.js";
import { StaleMappingImporter } from "./stale-mapping-importer.js";
import { SwappedSyncHeap } from "./swapped-sync.js";
import { UndeclaredAsyncImporter } from "./undeclared-async-importer.js";
import { UnfencedImporter } from "./unfenced-importer.js";
import { UnflushedUncachedHeap } from "./unflushed-uncached.js";
import { UnsyncedHeap } from "./unsynced.js";
import { WrongDirectionImporter } from "./wrong-direction-importer.js";
import { WrongErrnoHeap } from "./wrong-errno.js";
import { WrongExpNameHeap } from "./wrong-exp-name.js";
import { WrongUnmapDirectionHeap } from "./wrong-unmap-direction.js";

/** A deliberately broken plugin and what the suite must say about it. */
export interface ZooEntry {
  /** The plugin's name. */
  readonly name: string;
  /** Its one defect, in words. */
  readonly defect: string;
  /**
   * Every case that fails on it, the case that names the defect first. The zoo's self-test
   * requires exactly these to fail.
   */
  readonly catches: readonly [string, ...string[]];
  /** The failure code of the first case in `catches`. */
  readonly code: FailureCode;
  /** The code of the error the plugin produced in that case, when it is one. */
  readonly errorCode?: string;
}

/** A broken heap plugin (a variant of {@link ReferenceHeap} or of a shipped heap). */
export interface HeapZooEntry extends ZooEntry {
  /** The plugin class. */
  readonly plugin: PluginClass;
  /** The kernel configuration it is tested under (default: the suite's). */
  readonly kernelConfig?: KernelConfigInput;
}

/** A broken exporter plugin (a variant of {@link @dmabuf/core!index.PageExporter}). */
export interface ExporterZooEntry extends ZooEntry {
  /** The plugin class, with `create(size, flags)`. */
  readonly plugin: PluginClass<CreatingExporter>;
}

/** A broken importer (a variant of {@link ReferenceImporter}). */
export interface ImporterZooEntry extends ZooEntry {
  /** Creates it in a kernel. */
  readonly importer: (kernel: Kernel) => ImporterUnderTest;
  /**
   * What it declares it can do: its class's static `capabilities`, which `dmabuf-conformance`
   * reads (every zoo importer extends {@link ReferenceImporter}, which declares `asyncWork`).
   */
  readonly capabilities: Partial<ImporterCapabilities>;
  /** The kernel configuration it is tested under (default: the suite's). */
  readonly kernelConfig?: KernelConfigInput;
}

/** Broken heaps: the heap suite must fail each of them with exactly `catches`. */
export const heapZoo: readonly HeapZooEntry[] = [
  {
    name: "NotZeroingHeap",
    plugin: NotZeroingHeap,
    defect: "hands out pages without clearing them",
    catches: ["heap.alloc.zeroed-after-reuse", "exporter.map.cleared"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "ReversedTableHeap",
    plugin: ReversedTableHeap,
    defect: "lists the buffer's chunks in the sg table in reverse order",
    catches: [
      "exporter.map.cpu-view",
      "exporter.mmap.shared",
      "exporter.mmap.offset",
      "exporter.vmap.roundtrip",
      "exporter.coherent.cpu-to-device",
      "exporter.non-coherent.cpu-to-device",
      "exporter.coherent.device-to-cpu",
      "exporter.non-coherent.device-to-cpu",
      "exporter.coherent.bidirectional",
      "exporter.non-coherent.bidirectional",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "LeakOnEnomemHeap",
    plugin: LeakOnEnomemHeap,
    defect: "keeps the pages already taken when an allocation runs out of memory",
    catches: ["heap.alloc.enomem", "heap.alloc.fault-walk"],
    code: "LEAK",
  },
  {
    name: "DoubleReleaseHeap",
    plugin: DoubleReleaseHeap,
    defect: "calls its own release from vunmap, so the backing store is released twice",
    catches: ["exporter.release.once", "exporter.vmap.roundtrip"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "SharedTableHeap",
    plugin: SharedTableHeap,
    defect: "returns the same sg table for every mapping of a buffer",
    catches: ["exporter.map.table-per-attachment"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "UnsyncedHeap",
    plugin: UnsyncedHeap,
    defect: "does not sync mapped attachments around CPU access",
    catches: [
      "exporter.cpu.syncs-mapped-attachments",
      "exporter.non-coherent.cpu-to-device",
      "exporter.non-coherent.device-to-cpu",
      "exporter.non-coherent.bidirectional",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "ScatteredContiguousHeap",
    plugin: ScatteredContiguousHeap,
    defect: "declares contiguous buffers but returns scattered pages",
    catches: ["heap.alloc.contiguous"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "WrongErrnoHeap",
    plugin: WrongErrnoHeap,
    defect: "reports running out of memory as EINVAL instead of ENOMEM",
    catches: ["heap.alloc.enomem", "heap.alloc.fault-walk"],
    code: "WRONG_ERROR",
    errorCode: "EINVAL",
  },
  {
    name: "RevalidatingFlagsHeap",
    plugin: RevalidatingFlagsHeap,
    defect: "re-validates fd_flags and refuses valid access modes with EACCES",
    catches: ["heap.ioctl.fd-flags"],
    code: "UNEXPECTED_ERROR",
    errorCode: "EACCES",
  },
  {
    name: "WrongExpNameHeap",
    plugin: WrongExpNameHeap,
    defect: "exports buffers under the implementation's name instead of the heap's",
    catches: [
      "heap.naming.exp-name",
      "heap.observability.fdinfo",
      "heap.observability.bufinfo",
      "heap.observability.sysfs",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "ShortTableHeap",
    plugin: ShortTableHeap,
    defect: "leaves the buffer's last page out of the sg table",
    catches: [
      "exporter.map.sg-table",
      "exporter.map.cpu-view",
      "exporter.map.table-per-attachment",
      "exporter.map.cleared",
      "exporter.attach.multiple",
      "exporter.cpu.syncs-mapped-attachments",
      "exporter.mmap.shared",
      "exporter.mmap.offset",
      "exporter.vmap.roundtrip",
      "exporter.release.once",
      "exporter.release.importer-holds",
      "exporter.coherent.cpu-to-device",
      "exporter.non-coherent.cpu-to-device",
      "exporter.coherent.device-to-cpu",
      "exporter.non-coherent.device-to-cpu",
      "exporter.coherent.bidirectional",
      "exporter.non-coherent.bidirectional",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "IgnoresPgoffHeap",
    plugin: IgnoresPgoffHeap,
    defect: "maps page 0 at the start of every mapping, ignoring the page offset",
    catches: ["exporter.mmap.offset"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "NeverSyncsHeap",
    plugin: NeverSyncsHeap,
    defect: "maps buffers through the CPU's caches but has no beginCpuAccess/endCpuAccess",
    catches: [
      "exporter.non-coherent.cpu-to-device",
      "exporter.non-coherent.device-to-cpu",
      "exporter.non-coherent.bidirectional",
      "exporter.cpu.syncs-mapped-attachments",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "SwappedSyncHeap",
    plugin: SwappedSyncHeap,
    defect: "syncs for the device in beginCpuAccess and for the CPU in endCpuAccess",
    catches: [
      "exporter.non-coherent.device-to-cpu",
      "exporter.non-coherent.cpu-to-device",
      "exporter.non-coherent.bidirectional",
      "exporter.cpu.syncs-mapped-attachments",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "FixedDirectionSyncHeap",
    plugin: FixedDirectionSyncHeap,
    defect: "syncs with DMA_TO_DEVICE whatever the direction of the CPU access",
    catches: [
      "exporter.non-coherent.device-to-cpu",
      "exporter.coherent.device-to-cpu",
      "exporter.non-coherent.bidirectional",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "WrongUnmapDirectionHeap",
    plugin: WrongUnmapDirectionHeap,
    defect: "unmaps every table as DMA_BIDIRECTIONAL, whatever it was mapped with",
    catches: [
      "exporter.attach.lifecycle",
      "exporter.coherent.cpu-to-device",
      "exporter.non-coherent.cpu-to-device",
      "exporter.coherent.device-to-cpu",
      "exporter.non-coherent.device-to-cpu",
    ],
    code: "KERNEL_WARNING",
    errorCode: "DMA_API_UNMAP_WRONG_DIR",
  },
  {
    name: "LeakOnEintrHeap",
    plugin: LeakOnEintrHeap,
    defect: "keeps the pages already taken when a fatal signal ends an allocation (EINTR)",
    catches: ["heap.alloc.fault-walk"],
    code: "LEAK",
  },
  {
    name: "LeakOnSgFailHeap",
    plugin: LeakOnSgFailHeap,
    defect: "keeps the page list map_dma_buf gathered when its sg-table allocation fails",
    catches: ["exporter.map.fault-walk"],
    code: "LEAK",
  },
  {
    name: "LeakyReleaseCmaHeap",
    plugin: LeakyReleaseCmaHeap,
    kernelConfig: { profile: "6.1", cma: { size: "16MiB" } },
    defect: "never returns a released buffer's pages to the CMA area",
    // Every case that frees a buffer ends with CMA pages in use (LEAK); churn runs the area dry.
    catches: [
      "heap.alloc.churn",
      "heap.alloc.fault-walk",
      "heap.factory.isolated",
      "heap.naming.exp-name",
      "heap.naming.set-name",
      "heap.ioctl.alloc",
      "heap.ioctl.struct-sizes",
      "heap.ioctl.fd-flags",
      "heap.ioctl.not-a-heap",
      "heap.ioctl.emfile",
      "heap.alloc.page-rounding",
      "heap.alloc.zeroed-after-reuse",
      "heap.alloc.distinct-memory",
      "heap.alloc.enomem",
      "heap.alloc.max-allocation",
      "heap.alloc.contiguous",
      "heap.observability.fdinfo",
      "heap.observability.bufinfo",
      "heap.observability.sysfs",
      "heap.observability.maps",
      "heap.leaks.process-exit",
      "exporter.export.buffer",
      "exporter.map.sg-table",
      "exporter.map.cpu-view",
      "exporter.map.table-per-attachment",
      "exporter.map.cleared",
      "exporter.map.unreachable-device",
      "exporter.map.fault-walk",
      "exporter.attach.lifecycle",
      "exporter.attach.multiple",
      "exporter.cpu.begin-end",
      "exporter.cpu.syncs-mapped-attachments",
      "exporter.mmap.shared",
      "exporter.mmap.offset",
      "exporter.vmap.roundtrip",
      "exporter.release.once",
      "exporter.release.process-exit",
      "exporter.release.importer-holds",
      "exporter.coherent.cpu-to-device",
      "exporter.non-coherent.cpu-to-device",
      "exporter.coherent.device-to-cpu",
      "exporter.non-coherent.device-to-cpu",
      "exporter.coherent.bidirectional",
      "exporter.non-coherent.bidirectional",
    ],
    code: "UNEXPECTED_ERROR",
    errorCode: "ENOMEM",
  },
  {
    name: "CachedUncachedHeap",
    plugin: CachedUncachedHeap,
    defect: "declares write-combine CPU mappings and skips CPU syncs, but maps its buffers cached",
    catches: [
      "exporter.cpu.memory-type",
      "exporter.non-coherent.cpu-to-device",
      "exporter.non-coherent.device-to-cpu",
      "exporter.non-coherent.bidirectional",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "UnflushedUncachedHeap",
    plugin: UnflushedUncachedHeap,
    defect:
      "flushes its zeroing through a device it declared coherent, so dirty zero lines stay in the CPU cache",
    catches: [
      "exporter.cpu.memory-type",
      "exporter.coherent.cpu-to-device",
      "exporter.non-coherent.cpu-to-device",
      "exporter.non-coherent.device-to-cpu",
      "exporter.coherent.device-to-cpu",
      "exporter.coherent.bidirectional",
      "exporter.non-coherent.bidirectional",
    ],
    code: "EXPECTATION_FAILED",
  },
];

/** Broken exporters: the exporter suite must fail each of them with exactly `catches`. */
export const exporterZoo: readonly ExporterZooEntry[] = [
  {
    name: "CachingExporter",
    plugin: CachingExporter,
    defect: "caches one sg table per buffer and hands it to every attachment",
    // It never unmaps, so every case that maps also ends with live DMA mappings (LEAK).
    catches: [
      "exporter.map.table-per-attachment",
      "exporter.attach.lifecycle",
      "exporter.attach.multiple",
      "exporter.cpu.begin-end",
      "exporter.cpu.syncs-mapped-attachments",
      "exporter.coherent.bidirectional",
      "exporter.non-coherent.bidirectional",
      "exporter.coherent.cpu-to-device",
      "exporter.non-coherent.cpu-to-device",
      "exporter.coherent.device-to-cpu",
      "exporter.non-coherent.device-to-cpu",
      "exporter.map.cleared",
      "exporter.map.cpu-view",
      "exporter.map.sg-table",
      "exporter.map.unreachable-device",
      "exporter.map.fault-walk",
      "exporter.mmap.offset",
      "exporter.mmap.shared",
      "exporter.release.importer-holds",
      "exporter.release.once",
      "exporter.vmap.roundtrip",
    ],
    code: "EXPECTATION_FAILED",
  },
];

/** Broken importers: the importer suite must fail each of them with exactly `catches`. */
export const importerZoo: readonly ImporterZooEntry[] = [
  {
    name: "NoReferenceImporter",
    importer: (kernel) => new NoReferenceImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "uses the buffer behind the fd without taking a reference",
    catches: [
      "importer.import.reference",
      "importer.import.failed-attach",
      "importer.release.order",
      "importer.release.last-reference",
      "importer.release.queued-work",
      "importer.leaks.process-exit",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "NoDetachImporter",
    importer: (kernel) => new NoDetachImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "drops its reference without detaching",
    catches: [
      "importer.release.order",
      "importer.import.reference",
      "importer.import.attaches",
      "importer.import.failed-attach",
      "importer.dma.read",
      "importer.dma.write",
      "importer.dma.mapped-directions",
      "importer.release.last-reference",
      "importer.release.queued-work",
      "importer.leaks.process-exit",
      "importer.fences.adds-fence",
      "importer.fences.waits-for-writers",
      "importer.fences.write-waits-for-readers",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "KeepsMappingImporter",
    importer: (kernel) => new KeepsMappingImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "maps once, never unmaps, and detaches with the mapping live",
    catches: [
      "importer.release.order",
      "importer.import.reference",
      "importer.import.attaches",
      "importer.import.failed-attach",
      "importer.dma.read",
      "importer.dma.write",
      "importer.dma.mapped-directions",
      "importer.release.last-reference",
      "importer.leaks.process-exit",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "PutBeforeDetachImporter",
    importer: (kernel) => new PutBeforeDetachImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "drops its reference before it detaches",
    catches: [
      "importer.release.order",
      "importer.import.reference",
      "importer.release.last-reference",
      "importer.release.queued-work",
      "importer.leaks.process-exit",
    ],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "WrongDirectionImporter",
    importer: (kernel) => new WrongDirectionImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "maps DMA_TO_DEVICE for transfers in which the device writes",
    catches: ["importer.dma.mapped-directions", "importer.dma.write", "importer.release.order"],
    code: "UNEXPECTED_ERROR",
    errorCode: "DMA_FAULT_DIRECTION",
  },
  {
    name: "UnfencedImporter",
    importer: (kernel) => new UnfencedImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "queues device work without adding its fence to the buffer's reservation object",
    catches: ["importer.fences.adds-fence", "importer.release.queued-work"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "StaleMappingImporter",
    importer: (kernel) => new StaleMappingImporter(kernel),
    capabilities: { asyncWork: true, dynamic: true },
    kernelConfig: { moveNotify: true },
    defect: "attaches dynamically but ignores move_notify and keeps using its stale mapping",
    catches: ["importer.dynamic.move-notify"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "ReleaseWhileBusyImporter",
    importer: (kernel) => new ReleaseWhileBusyImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "unmaps, detaches and drops its reference at release while its device jobs are queued",
    catches: ["importer.release.queued-work"],
    code: "UNEXPECTED_ERROR",
    errorCode: "DMA_FAULT_UNMAPPED",
  },
  {
    name: "ReadersIgnoredImporter",
    importer: (kernel) => new ReadersIgnoredImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "lets a device write wait for the buffer's writers only, not for its readers",
    catches: ["importer.fences.write-waits-for-readers"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "LeakOnAttachErrorImporter",
    importer: (kernel) => new LeakOnAttachErrorImporter(kernel),
    capabilities: { asyncWork: true },
    defect: "keeps the reference it took when the exporter's attach fails",
    catches: ["importer.import.failed-attach"],
    code: "EXPECTATION_FAILED",
  },
  {
    name: "UndeclaredAsyncImporter",
    importer: (kernel) => new UndeclaredAsyncImporter(kernel),
    capabilities: {},
    defect:
      "queues device work without declaring asyncWork, so the queued-work cases would be skipped",
    catches: ["importer.import.declares-async-work"],
    code: "EXPECTATION_FAILED",
  },
];

export {
  CachingExporter,
  DoubleReleaseHeap,
  IgnoresPgoffHeap,
  KeepsMappingImporter,
  LeakOnAttachErrorImporter,
  LeakOnEnomemHeap,
  NoDetachImporter,
  NoReferenceImporter,
  NotZeroingHeap,
  ReadersIgnoredImporter,
  ReleaseWhileBusyImporter,
  RevalidatingFlagsHeap,
  ReversedTableHeap,
  ScatteredContiguousHeap,
  SharedTableHeap,
  ShortTableHeap,
  StaleMappingImporter,
  UndeclaredAsyncImporter,
  UnfencedImporter,
  UnsyncedHeap,
  WrongDirectionImporter,
  WrongErrnoHeap,
  WrongExpNameHeap,
};
