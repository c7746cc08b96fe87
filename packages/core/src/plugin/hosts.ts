// The plugin seam: the frozen host objects heaps, exporters and devices are constructed with.

import type { DmaBus } from "../dma/bus.js";
import type { DmaMappingApi, DmaSyncHooks } from "../dma/mapping.js";
import type { DmaBufCore } from "../dma-buf/core.js";
import { KernelError } from "../errors/kernel-error.js";
import type { FenceRegistry } from "../fence/dma-fence.js";
import type { DmaHeap, DmaHeapExportInfo } from "../heap/dma-heap.js";
import type { Kernel } from "../kernel.js";
import type { KernelLog } from "../kernel-log.js";
import type { BuddyAllocator } from "../mm/buddy.js";
import type { CmaArea } from "../mm/cma.js";
import type { CpuPort } from "../mm/cpu-port.js";
import type { PhysicalMemory } from "../mm/physical-memory.js";
import type { MemoryReservations } from "../mm/reserve.js";
import type { SgTableAllocator } from "../mm/sg-alloc.js";
import type { ShmemFs } from "../mm/shmem.js";
import type { KernelProfile } from "../profile.js";
import type { SimClock } from "../time/clock.js";
import type { DeviceNode, Node } from "../vfs/namespace.js";
import type { Process } from "../vfs/process.js";

/**
 * What every plugin host gives: the services any heap, exporter or device uses. Members keep
 * the names they have on {@link Kernel}, so code moving from the kernel to a host reads the
 * same. A host is a frozen object: a plugin cannot replace a kernel service through it.
 */
export interface PluginHost {
  /**
   * Page size in bytes. Fixed for the kernel's life.
   * Context: any.
   */
  readonly pageSize: number;
  /**
   * Behaviour switches of the kernel version the plugin runs on (e.g. `cmaHeapPerArea`).
   * Context: any; read-only.
   */
  readonly profile: KernelProfile;
  /**
   * The kernel log (dmesg): `log.warn(text)`, `log.log(level, text)`.
   * Context: any. Library code logs here, never to the console.
   */
  readonly log: KernelLog;
  /**
   * The kernel's deterministic virtual clock: `clock.now`, `clock.schedule(delay, fn)`.
   * Context: any; scheduled callbacks run when a test advances the clock.
   */
  readonly clock: SimClock;
  /**
   * The in-kernel dma-buf API (`dma_buf_export`, attach/map, fds, move notification).
   * Context: any; its members document their own locking rules.
   */
  readonly dmaBuf: DmaBufCore;
  /**
   * The DMA mapping API (`dma_map_sgtable`, syncs, device registration).
   * Context: any.
   */
  readonly dma: DmaMappingApi;
  /**
   * sg-table allocation (`sg_alloc_table`: `sg.alloc(nents)`, `sg_alloc_table_from_pages`:
   * `sg.fromPages(pfns, maxSegment)`, a heap's `dup_sg_table`: `sg.dup(table)`). Fault
   * injection can fail any of them with KernelError ENOMEM; pass it on and free what was
   * taken, as the Linux heaps do.
   * Context: any.
   */
  readonly sg: SgTableAllocator;
  /**
   * The CPU's path to memory in force (the coherent port, or an installed CPU cache model);
   * read it at each use rather than keeping it, since a cache model may be installed later.
   * Context: any. Used by kernel mappings (`new KernelMapping(pfns, pageSize, host)`).
   */
  readonly cpu: CpuPort;
  /**
   * The process whose syscall is running (`current`), or `undefined` outside a syscall.
   * Context: any; valid for the duration of the call the plugin was called from.
   */
  readonly current: Process | undefined;
  /**
   * Whether the current process has a fatal signal pending (`fatal_signal_pending(current)`);
   * false outside a syscall. Long allocations check it between steps and fail with EINTR (or
   * what their Linux counterpart returns).
   * Context: process context.
   */
  fatalSignalPending(): boolean;
}

/**
 * The host a heap plugin is constructed with (`new Heap(host, config)`): the page allocator,
 * the CMA areas and boot reservations, RAM for scrubbing, heap registration, and everything of
 * {@link PluginHost}.
 */
export interface HeapHost extends PluginHost {
  /**
   * The page allocator (`alloc_pages`/`__free_pages`): `buddy.allocPages(order, { zero })`
   * returns a head frame or -1; `buddy.freePages(pfn, order)`.
   * Context: any; allocation never sleeps in the model.
   */
  readonly buddy: BuddyAllocator;
  /**
   * Physical RAM, for scrubbing pages the heap hands out (`memory.zero(phys, length)`).
   * Context: any. Writes bypass the CPU cache, as a DMA-coherent clear does.
   */
  readonly memory: PhysicalMemory;
  /**
   * Every CMA area of the kernel, in reservation order. Optional use: only heaps that declare
   * CMA backing touch them.
   * Context: any.
   */
  readonly cmaAreas: readonly CmaArea[];
  /**
   * The default CMA area (`dma_contiguous_default_area`), if the kernel has one.
   * Context: any.
   */
  readonly defaultCmaArea: CmaArea | undefined;
  /**
   * Boot-time reservations: `reservations.reserve({ name, size, base?, alignBytes })` takes a
   * carveout out of RAM. Optional use, by heaps that declare a carveout region.
   * Context: `probe` only (boot).
   * @throws KernelError from `reserve` (EINVAL, EBUSY, ENOMEM).
   */
  readonly reservations: MemoryReservations;
  /**
   * Adds a heap (`dma_heap_add`): /dev/dma_heap/<name> appears. A plugin declaring one heap
   * name is added by the kernel; a plugin that serves several regions calls this from `probe`.
   * Context: `probe`.
   * @throws KernelError EINVAL (bad name or ops), EEXIST (name taken), EBUSY (no minor left).
   */
  addHeap(info: DmaHeapExportInfo): DmaHeap;
  /**
   * Installs a read-only file, typically under /sys/kernel/debug (e.g. a fragmentation view).
   * Context: `probe`.
   */
  installFile(path: string, node: Node): void;
}

/**
 * The host an exporter plugin is constructed with (`new Exporter(host, config)`): the page
 * allocator and everything of {@link PluginHost}.
 */
export interface ExporterHost extends PluginHost {
  /** {@inheritDoc HeapHost.buddy} */
  readonly buddy: BuddyAllocator;
}

/** What a CPU cache model installs besides its {@link CpuPort}: see {@link DeviceHost.installCpuCache}. */
export interface CpuCacheHooks {
  /** The DMA sync operations (clean before device access, invalidate before CPU access). */
  readonly sync: DmaSyncHooks;
  /** The bus devices reach RAM over (snooping coherent devices). */
  readonly bus: DmaBus;
  /**
   * Called after bytes of RAM were written behind the CPU's back (by the kernel itself, not
   * through the CPU port or a device), so the cache can drop its copy.
   */
  onMemoryWrite(phys: number, length: number): void;
}

/**
 * The host a device plugin is constructed with (`new Device(host, config)`): fences, RAM, the
 * process list (to name buffers in reports), the move-notify switch, CPU cache installation,
 * and everything of {@link PluginHost}. Devices register with `host.dma.addDevice(spec)` from
 * `probe`.
 */
export interface DeviceHost extends PluginHost {
  /** Fence contexts (`dma_fence_context_alloc`) and what fences use. Context: any. */
  readonly fences: FenceRegistry;
  /**
   * Physical RAM, as devices see it behind the CPU (a cache model keeps its shadow of it).
   * Context: any.
   */
  readonly memory: PhysicalMemory;
  /** CONFIG_DMABUF_MOVE_NOTIFY: whether dynamic importers get move notifications. */
  readonly moveNotify: boolean;
  /**
   * The kernel's internal tmpfs (`shmem_file_setup`): `shmem.createFile(name, owner, perm,
   * null)` makes an unlinked file whose pages are allocated on first use and accounted as any
   * memfd's, as GEM objects get their backing store. Optional use.
   * Context: any.
   */
  readonly shmem: ShmemFs;
  /** Live processes by pid, for naming a buffer in a report (read-only). Context: any. */
  processes(): ReadonlyMap<number, Process>;
  /**
   * Installs a CPU cache model: `port` becomes the CPU's path to memory ({@link PluginHost.cpu}
   * and the kernel's `cpu`), the DMA sync calls and device bus go through `hooks`, and RAM
   * writes from the kernel are reported to `hooks.onMemoryWrite`. The one way a plugin changes
   * how memory is reached; a kernel takes one cache model for its life.
   * Context: `probe`.
   * @throws KernelError EEXIST when the kernel already has a CPU cache installed.
   */
  installCpuCache(port: CpuPort, hooks: CpuCacheHooks): void;
  /**
   * Creates a character device node at `path` (as a driver's `device_create` makes devtmpfs
   * show it), e.g. /dev/dri/card0 or /dev/video0, with a fresh inode number; opening it gives
   * a file with `fops` and `privateData`. Optional use, by devices with a user-space interface.
   * Context: `probe`.
   */
  installDevice(
    path: string,
    node: Pick<DeviceNode, "mode" | "rdev" | "fops" | "privateData"> &
      Partial<Pick<DeviceNode, "uid" | "gid">>,
  ): void;
  /**
   * Takes the lowest free minor of `major` in [`from`, `to`) from the kernel's char-device
   * registry, as `drm_minor_alloc` (xa_alloc) and V4L2's `devnode_find` do: numbering is per
   * kernel, and a minor given back is the next one handed out. Optional use, by devices that
   * number their nodes at probe.
   * Context: `probe`.
   * @throws KernelError ENOSPC when every minor of the range is held.
   */
  allocMinor(major: number, from: number, to: number): number;
  /**
   * Removes the device node at `path` (`device_destroy`): later opens fail with ENOENT, files
   * already open keep working, and the node's minor goes back to the registry.
   * Context: any (device removal).
   * @throws KernelError ENOENT when nothing is installed at `path`.
   */
  removeDevice(path: string): void;
}

/**
 * The CPU cache port installed on `kernel` through {@link DeviceHost.installCpuCache}, if
 * any: {@link Kernel.cpuCache}. Unlike reading `kernel.cpu`, it still finds the cache when
 * something wrapped the CPU port afterwards.
 */
export function installedCpuCache(kernel: Kernel): CpuPort | undefined {
  return kernel.cpuCache;
}

function baseHost(k: Kernel): PluginHost {
  return {
    pageSize: k.pageSize,
    profile: k.profile,
    log: k.log,
    clock: k.clock,
    dmaBuf: k.dmaBuf,
    dma: k.dma,
    sg: k.sg,
    get cpu() {
      return k.cpu;
    },
    get current() {
      return k.current;
    },
    fatalSignalPending: () => k.current?.fatalSignalPending ?? false,
  };
}

/**
 * Builds the frozen {@link HeapHost} of a kernel. `createKernel` does this for every heap
 * plugin it lists; call it to construct a heap by hand (`new MyHeap(createHeapHost(kernel))`).
 */
export function createHeapHost(k: Kernel): HeapHost {
  return Object.freeze(
    Object.defineProperties(baseHost(k), {
      buddy: { value: k.buddy, enumerable: true },
      memory: { value: k.memory, enumerable: true },
      cmaAreas: { value: Object.freeze([...k.cmaAreas]), enumerable: true },
      defaultCmaArea: { value: k.defaultCmaArea, enumerable: true },
      reservations: { value: k.reservations, enumerable: true },
      addHeap: { value: (info: DmaHeapExportInfo) => k.heaps.add(info), enumerable: true },
      installFile: {
        value: (path: string, node: Node) => k.namespace.install(path, node),
        enumerable: true,
      },
    }) as HeapHost,
  );
}

/**
 * Builds the frozen {@link ExporterHost} of a kernel, as `createKernel` does for every exporter
 * plugin it lists.
 */
export function createExporterHost(k: Kernel): ExporterHost {
  return Object.freeze(
    Object.defineProperties(baseHost(k), {
      buddy: { value: k.buddy, enumerable: true },
    }) as ExporterHost,
  );
}

/**
 * Builds the frozen {@link DeviceHost} of a kernel, as `createKernel` does for every device
 * plugin it lists; use it to add a device to a running kernel.
 */
export function createDeviceHost(k: Kernel): DeviceHost {
  return Object.freeze(
    Object.defineProperties(baseHost(k), {
      fences: { value: k.fences, enumerable: true },
      memory: { value: k.memory, enumerable: true },
      moveNotify: { value: k.moveNotify, enumerable: true },
      shmem: { value: k.shmem, enumerable: true },
      processes: { value: () => k.processes(), enumerable: true },
      installDevice: {
        value: (path: string, node: Parameters<DeviceHost["installDevice"]>[1]) =>
          k.namespace.install(path, {
            kind: "chr",
            uid: 0,
            gid: 0,
            nonseekable: false,
            ...node,
            ino: k.nextPseudoIno(),
          }),
        enumerable: true,
      },
      allocMinor: {
        value: (major: number, from: number, to: number) => k.chrdevs.alloc(major, from, to),
        enumerable: true,
      },
      removeDevice: {
        value: (path: string) => {
          const node = k.namespace.uninstall(path);
          if (!node) throw new KernelError("ENOENT", "device_destroy", path);
          if (node.kind === "chr") k.chrdevs.free(node.rdev[0], node.rdev[1]);
        },
        enumerable: true,
      },
      installCpuCache: {
        value: (port: CpuPort, hooks: CpuCacheHooks) => k.installCpuCache(port, hooks),
        enumerable: true,
      },
    }) as DeviceHost,
  );
}
