// Shared fixtures of the dma-buf tests: kernels, a recording exporter, devices and texts.

import { Device } from "../dma/device.js";
import { DMA_DIRECTION_NAMES, type DmaDirection } from "../dma/direction.js";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel, type Kernel } from "../kernel.js";
import { SgTable } from "../mm/sg-table.js";
import type { Vma } from "../mm/vma.js";
import type { KernelVersion } from "../profile.js";
import { O_RDWR } from "../uapi/fcntl.js";
import type { DmaBuf, DmaBufAttachment } from "./dma-buf.js";
import { KernelMapping } from "./kernel-mapping.js";
import type { DmaBufOps } from "./ops.js";

/** Page size of every test kernel. */
export const PS = 4096;

/** The bufinfo text of a kernel without buffers (observed `environment.bufinfo_at_start`). */
export const BUFINFO_EMPTY =
  "\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n\nTotal 0 objects, 0 bytes\n";

/** Path of the debugfs buffer list. */
export const BUFINFO = "/sys/kernel/debug/dma_buf/bufinfo";
/** Path of the sysfs buffer statistics. */
export const SYSFS_BUFFERS = "/sys/kernel/dmabuf/buffers";

/** Boots a small kernel with the reference page exporter. */
export function boot(options: { profile?: KernelVersion; moveNotify?: boolean } = {}): {
  kernel: Kernel;
  pages: PageExporter;
} {
  const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter], ...options });
  return { kernel, pages: kernel.plugin(PageExporter) };
}

/** A DMA-capable device. */
export function device(name: string): Device {
  return new Device({ name });
}

/** Private data of a {@link recordingOps} buffer. */
export interface RecordingPriv {
  /** One frame per page. */
  readonly pfns: Float64Array;
  /** Every exporter op call, in order, e.g. `"map gpu DMA_TO_DEVICE"`. */
  readonly calls: string[];
  /** Times `release` ran. */
  releases: number;
}

/** How {@link recordingOps} builds its table. */
export interface RecordingOptions {
  /** Provide `pin`/`unpin` (a dynamic exporter). */
  pin?: boolean;
  /** 6.1 `cache_sgt_mapping`. */
  cacheSgtMapping?: boolean;
  /** Ops to leave out. */
  omit?: readonly (keyof DmaBufOps)[];
  /** Ops to replace (their calls are not recorded unless they record themselves). */
  override?: Partial<DmaBufOps<RecordingPriv>>;
}

const dirName = (dir: DmaDirection): string => DMA_DIRECTION_NAMES[dir];

/**
 * An exporter ops table over real pages that records every call in `priv.calls` and builds a
 * fresh, DMA-mapped sg table for every map.
 */
export function recordingOps(
  kernel: Kernel,
  options: RecordingOptions = {},
): DmaBufOps<RecordingPriv> {
  const privOf = (a: DmaBufAttachment) => a.dmabuf.priv as RecordingPriv;
  const ops: DmaBufOps<RecordingPriv> = {
    attach(buf, a) {
      buf.priv.calls.push(`attach ${a.dev.name}`);
    },
    detach(buf, a) {
      buf.priv.calls.push(`detach ${a.dev.name}`);
    },
    mapDmaBuf(a, dir) {
      privOf(a).calls.push(`map ${a.dev.name} ${dirName(dir)}`);
      const sgt = SgTable.fromPfnRuns(kernel.pageSize, privOf(a).pfns);
      kernel.dma.mapSgtable(a.dev, sgt, dir);
      return sgt;
    },
    unmapDmaBuf(a, sgt, dir) {
      privOf(a).calls.push(`unmap ${a.dev.name} ${dirName(dir)}`);
      kernel.dma.unmapSgtable(a.dev, sgt, dir);
    },
    release(buf) {
      buf.priv.calls.push("release");
      buf.priv.releases++;
      for (const pfn of buf.priv.pfns) kernel.buddy.freePages(pfn, 0);
    },
    beginCpuAccess(buf, dir) {
      buf.priv.calls.push(`begin ${dirName(dir)}`);
    },
    endCpuAccess(buf, dir) {
      buf.priv.calls.push(`end ${dirName(dir)}`);
    },
    mmap(buf, vma: Vma) {
      buf.priv.calls.push(`mmap ${vma.pgoff}+${vma.pageCount}`);
      for (let i = 0; i < vma.pageCount; i++) {
        vma.remapPfnRange(
          vma.start + i * kernel.pageSize,
          buf.priv.pfns[vma.pgoff + i] as number,
          kernel.pageSize,
        );
      }
    },
    vmap(buf) {
      buf.priv.calls.push("vmap");
      return new KernelMapping(buf.priv.pfns, kernel.pageSize, kernel);
    },
    vunmap(buf) {
      buf.priv.calls.push("vunmap");
    },
  };
  if (options.pin) {
    ops.pin = (a) => {
      privOf(a).calls.push(`pin ${a.dev.name}`);
    };
    ops.unpin = (a) => {
      privOf(a).calls.push(`unpin ${a.dev.name}`);
    };
  }
  if (options.cacheSgtMapping) ops.cacheSgtMapping = true;
  for (const name of options.omit ?? []) delete (ops as Partial<DmaBufOps<RecordingPriv>>)[name];
  Object.assign(ops, options.override ?? {});
  return ops;
}

/** Fresh private data over `pages` newly allocated, zeroed pages. */
export function recordingPriv(kernel: Kernel, pages: number): RecordingPriv {
  const pfns = new Float64Array(pages);
  for (let i = 0; i < pages; i++) pfns[i] = kernel.buddy.allocPages(0, { zero: true });
  return { pfns, calls: [], releases: 0 };
}

/** Exports a {@link recordingOps} buffer of `pages` pages (default 2) with file flags O_RDWR. */
export function exportRecording(
  kernel: Kernel,
  options: RecordingOptions & { pages?: number; flags?: number; expName?: string } = {},
): DmaBuf<RecordingPriv> {
  const priv = recordingPriv(kernel, options.pages ?? 2);
  return kernel.dmaBuf.export({
    expName: options.expName ?? "recorder",
    ops: recordingOps(kernel, options),
    size: (options.pages ?? 2) * kernel.pageSize,
    flags: options.flags ?? O_RDWR,
    priv,
  });
}

/** The path column of /proc/PID/maps starts at this column (seq_pad to 72, then a space). */
export const MAPS_PATH_COLUMN = 73;
