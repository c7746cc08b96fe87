// createKernel: the composition root. A kernel is a value: memory, files, processes, plugins.

import { type DependencyContainer, container as rootContainer } from "tsyringe";
import { type KernelConfig, type KernelConfigInput, kernelConfigSchema } from "./config.js";
import { checkConfig } from "./config-keys.js";
import { DmaMappingApi } from "./dma/mapping.js";
import { installDmaBufFiles } from "./dma-buf/bufinfo.js";
import { DmaBufCore, type DmaBufHost } from "./dma-buf/core.js";
import { KernelConfigError } from "./errors/kernel-config-error.js";
import { KernelError } from "./errors/kernel-error.js";
import { FaultInjection } from "./fault/fault-injection.js";
import { FenceRegistry } from "./fence/dma-fence.js";
import { SwSync } from "./fence/sw-sync.js";
import { type DmaHeapHost, DmaHeapRegistry } from "./heap/dma-heap.js";
import { KernelLog } from "./kernel-log.js";
import { BuddyAllocator } from "./mm/buddy.js";
import { CmaArea } from "./mm/cma.js";
import { CoherentCpuPort, type CpuPort } from "./mm/cpu-port.js";
import { HugeTlb } from "./mm/hugetlb.js";
import { PageFrames } from "./mm/page-frames.js";
import { PageOwners } from "./mm/page-owner.js";
import { PhysicalMemory } from "./mm/physical-memory.js";
import { MemoryReservations } from "./mm/reserve.js";
import { SgTableAllocator } from "./mm/sg-alloc.js";
import { ShmemFs, type ShmemHost } from "./mm/shmem.js";
import type { CpuCacheHooks } from "./plugin/hosts.js";
import { KERNEL, type PluginClass } from "./plugin/metadata.js";
import { registerPlugins } from "./plugin/registry.js";
import { type KernelProfile, PROFILES } from "./profile.js";
import { type ReportOptions, renderKernelReport } from "./report/html.js";
import { SimClock } from "./time/clock.js";
import { TraceRecorder } from "./trace/recorder.js";
import { O_RDONLY, O_WRONLY } from "./uapi/fcntl.js";
import { UdmabufDevice, type UdmabufHost } from "./udmabuf/udmabuf.js";
import { AnonInodeFs } from "./vfs/anon-inode.js";
import { CharDevRegistry } from "./vfs/chrdev.js";
import type { File, FileTable } from "./vfs/file.js";
import { devNull } from "./vfs/mem-devices.js";
import { Namespace, StaticDir, textFile } from "./vfs/namespace.js";
import { Process, type ProcessHost } from "./vfs/process.js";
import { installProcfs } from "./vfs/procfs.js";

/** CMA areas are aligned to the pageblock (CMA_MIN_ALIGNMENT_BYTES): 2 MiB. */
export const CMA_MIN_ALIGNMENT_BYTES = 2 * 1024 * 1024;

/** Options for {@link Kernel.spawn}. */
export interface SpawnOptions {
  /** Command name (`comm`); default `"proc<pid>"`. */
  name?: string;
  /** User id; default 0 (root). */
  uid?: number;
  /** Group id; default the uid. */
  gid?: number;
  /**
   * Open fds 0, 1 and 2 on /dev/null first, as a process started from a shell has stdin,
   * stdout and stderr (so its first own fd is 3). Default false: the fd table starts empty.
   */
  stdio?: boolean;
}

/**
 * Counts of everything a call could leak. Take one before and after a failing call: a
 * failure must leave them equal.
 */
export interface KernelSnapshot {
  /** Free pages in the page allocator. */
  readonly freePages: number;
  /** Open files (all kinds). */
  readonly files: number;
  /** Live dma-bufs. */
  readonly buffers: number;
  /** Sum of every dma-buf's file reference count. */
  readonly bufferRefs: number;
  /** Attachments across all buffers. */
  readonly attachments: number;
  /**
   * Attachments by holder: `<buffer inode>:<device name>` → count (keys sorted), so a
   * leaked attachment names the buffer and the device holding it.
   */
  readonly attachmentsByHolder: Readonly<Record<string, number>>;
  /** Live device mappings across all attachments. */
  readonly deviceMappings: number;
  /** vmap users across all buffers. */
  readonly vmaps: number;
  /**
   * vmap users by buffer inode (keys sorted; buffers without a vmap left out). As in Linux,
   * `dma_buf_vmap` does not record its caller: the buffer is the holder named.
   */
  readonly vmapsByBuffer: Readonly<Record<string, number>>;
  /** User mappings across all processes. */
  readonly userMappings: number;
  /** Open fds across all processes. */
  readonly fds: number;
  /** Open fds by process, `<pid> (<comm>)` → count (processes without fds left out). */
  readonly fdsByProcess: Readonly<Record<string, number>>;
  /** Live DMA mappings (`dma_map_sgtable`) across all devices. */
  readonly dmaMappings: number;
  /** Bytes of IOVA space in use across all IOMMU domains. */
  readonly iovaBytes: number;
  /** Pages in use across all CMA areas. */
  readonly cmaPages: number;
  /** Huge pages in use across all hugetlb pools. */
  readonly hugePages: number;
  /**
   * Callbacks queued on fences (`dma_fence_add_callback`) that have neither run nor been
   * removed.
   */
  readonly fenceCallbacks: number;
  /** Those callbacks by fence timeline, `<driver>:<timeline>:<context>` → count (sorted). */
  readonly fenceCallbacksByTimeline: Readonly<Record<string, number>>;
  /**
   * What plugins report of their private pools through {@link PluginAccounting}, by the
   * names they give (e.g. `carveout/video` in bytes).
   */
  readonly pools: Readonly<Record<string, number>>;
}

/**
 * The accounting hook of a plugin that keeps memory of its own (a carveout region, a page
 * pool): the kernel calls it for every {@link Kernel.snapshot}, so a leak from the pool shows
 * up in the snapshot like any other. **Optional**; implemented by the plugin class.
 */
export interface PluginAccounting {
  /**
   * What the plugin's private pools hold now, by name (stable names, such as
   * `carveout/<region>`; values in whatever unit the name implies, compared before and after).
   * Called from {@link Kernel.snapshot}; must not change anything.
   */
  accounting(): Readonly<Record<string, number>>;
}

/**
 * One simulated Linux kernel. Create it with {@link createKernel}; nothing is shared between
 * kernels, so tests can make thousands.
 */
export class Kernel implements ProcessHost, DmaBufHost, DmaHeapHost, ShmemHost, UdmabufHost {
  /** The validated configuration. */
  readonly config: KernelConfig;
  /** Behaviour switches of the kernel version. */
  readonly profile: KernelProfile;
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Simulated physical RAM (sparse). */
  readonly memory: PhysicalMemory;
  /** Page-frame metadata. */
  readonly frames: PageFrames;
  /** The page allocator. */
  readonly buddy: BuddyAllocator;
  /** Deterministic virtual time. */
  readonly clock = new SimClock();
  /**
   * Fault injection at every allocation point: fail the Nth page, IOVA or sg-table allocation, or
   * kill the running process after N page allocations (see {@link FaultInjection}).
   */
  readonly faults: FaultInjection = new FaultInjection(() => this.current);
  /**
   * sg-table allocation (`sg_alloc_table`, `sg_alloc_table_from_pages`, `dup_sg_table`),
   * failing as {@link Kernel.faults} says; plugins reach it as `host.sg`.
   */
  readonly sg: SgTableAllocator;
  /** Who allocated the pages in use (`page_owner`), for leak reports. */
  readonly pageOwners = new PageOwners();
  /** The kernel log (dmesg). */
  readonly log: KernelLog;
  /** The event trace (off until `trace.start()`); export it with `toTraceEventFile`. */
  readonly trace = new TraceRecorder(
    () => this.clock.now,
    () => this.#current,
  );
  /** Every path the kernel serves. */
  readonly namespace = new Namespace();
  /** Character-device minors drivers hold, per major (DRM cards, V4L2 nodes). */
  readonly chrdevs = new CharDevRegistry();
  /** The DMA mapping API. */
  readonly dma: DmaMappingApi;
  /** The in-kernel dma-buf API. */
  readonly dmaBuf: DmaBufCore;
  /** Files without a path (sync_file). */
  readonly anonInodes: AnonInodeFs;
  /** Fence contexts, the stub fence and what fences use (clock, profile, log). */
  readonly fences: FenceRegistry;
  /** sw_sync timelines (/sys/kernel/debug/sync/sw_sync and sync/info). */
  readonly swSync: SwSync;
  /** Regions taken out of RAM at boot (CMA areas, carveouts). */
  readonly reservations: MemoryReservations;
  /** Every CMA area, in reservation order (regions first, then the `cma=` area). */
  readonly cmaAreas: CmaArea[] = [];
  /** The default CMA area (`dma_contiguous_default_area`): the `cma=` area if configured. */
  readonly defaultCmaArea: CmaArea | undefined;
  /** The huge page pools (2 MiB filled from the `hugepages` setting; 1 GiB empty). */
  readonly hugetlb: HugeTlb;
  /** The internal tmpfs and hugetlbfs mounts memfd_create makes its files on. */
  readonly shmem: ShmemFs;
  /** /dev/udmabuf, unless the configuration leaves it out (`udmabuf.enabled: false`). */
  readonly udmabuf: UdmabufDevice | undefined;
  /** The DMA-BUF heap framework. */
  readonly heaps: DmaHeapRegistry;
  /** Permission bits of /dev/dma_heap nodes. */
  readonly heapNodeMode: number;
  /** CONFIG_DMABUF_MOVE_NOTIFY. */
  readonly moveNotify: boolean;
  /** This kernel's dependency-injection container (a child of tsyringe's root). */
  readonly container: DependencyContainer;
  /** The CPU's path to memory; a cache model replaces it through `DeviceHost.installCpuCache`. */
  cpu: CpuPort;
  /**
   * The CPU cache port installed on this kernel ({@link Kernel.installCpuCache}), or
   * `undefined`. Unlike {@link Kernel.cpu}, it still names the cache when something wrapped
   * the CPU port afterwards. It lives in the kernel value, so every copy of this package
   * (a plugin that bundles its own) finds the same cache.
   */
  get cpuCache(): CpuPort | undefined {
    return this.#cpuCache;
  }
  /** Live files, for leak accounting. */
  readonly files: FileTable & { readonly size: number };

  readonly #openFiles = new Set<File>();
  readonly #processes = new Map<number, Process>();
  readonly #plugins = new Map<PluginClass, unknown>();
  #cpuCache: CpuPort | undefined;
  #nextPid = 1;
  #nextPseudoIno = 1000;
  #current: Process | undefined;

  /** @internal Use {@link createKernel}. */
  constructor(config: KernelConfig) {
    // debugfs is mounted 0700 root: only root may walk into it.
    this.namespace.install("/sys/kernel/debug", new StaticDir(0o700));
    this.config = config;
    this.profile = PROFILES[config.profile];
    this.pageSize = config.pageSize;
    this.moveNotify = config.moveNotify;
    this.heapNodeMode = config.heapNodeMode;
    this.memory = new PhysicalMemory({
      bytes: config.ram,
      pageSize: config.pageSize,
      ...(config.sectionBytes ? { sectionBytes: config.sectionBytes } : {}),
    });
    this.frames = new PageFrames(this.memory.pageCount);
    this.buddy = new BuddyAllocator(this.memory, this.frames);
    this.buddy.faults = this.faults;
    this.buddy.owners = this.pageOwners;
    this.sg = new SgTableAllocator(config.pageSize, this.faults);
    this.cpu = new CoherentCpuPort(this.memory);
    this.reservations = new MemoryReservations(this.buddy, this.pageSize);
    for (const r of config.cma.regions) {
      this.cmaAreas.push(this.#reserveCma(r.name, r.size, r.base));
    }
    if (config.cma.size !== undefined) {
      this.defaultCmaArea = this.#reserveCma("reserved", config.cma.size, undefined);
      this.cmaAreas.push(this.defaultCmaArea);
    }
    this.hugetlb = new HugeTlb(this.buddy, this.pageSize, config.hugepages);
    this.log = new KernelLog(() => this.clock.now, this.trace);
    const huge = this.hugetlb.defaultPool.total;
    if (huge < config.hugepages) {
      this.log.warn(
        `hugetlb: only ${huge} of ${config.hugepages} huge pages of 2 MiB were allocated`,
      );
    }
    this.dma = new DmaMappingApi(config.pageSize, {
      memory: this.memory,
      log: this.log,
      now: () => this.clock.now,
    });
    this.dma.faults = this.faults;
    const open = this.#openFiles;
    this.files = {
      add: (f) => open.add(f),
      delete: (f) => open.delete(f),
      get size() {
        return open.size;
      },
    };
    this.anonInodes = new AnonInodeFs(this);
    this.fences = new FenceRegistry({
      clock: this.clock,
      profile: this.profile,
      log: this.log,
      anonInodes: this.anonInodes,
      signalPending: () => this.#current?.fatalSignalPending ?? false,
      trace: this.trace,
    });
    this.dmaBuf = new DmaBufCore(this);
    this.shmem = new ShmemFs(this);
    this.container = rootContainer.createChildContainer();
    this.container.registerInstance(Kernel, this);
    this.container.registerInstance(KERNEL, this);
    this.namespace.install("/dev/null", devNull(this.nextPseudoIno()));
    this.heaps = new DmaHeapRegistry(this);
    installDmaBufFiles(this.namespace, this.dmaBuf, this.profile.sysfsStats);
    this.swSync = new SwSync(this.fences);
    this.swSync.install(this.namespace);
    installProcfs(this.namespace, {
      processes: () => this.#processes,
      current: () => this.#current,
    });
    this.#plugins = registerPlugins(this, config.plugins);
    this.udmabuf = config.udmabuf.enabled ? new UdmabufDevice(this, config.udmabuf) : undefined;
  }

  #reserveCma(name: string, size: number, base: number | undefined): CmaArea {
    const region = this.reservations.reserve({
      name,
      size,
      alignBytes: CMA_MIN_ALIGNMENT_BYTES,
      ...(base !== undefined ? { base } : {}),
    });
    const area = new CmaArea(name, region.basePfn, region.pageCount);
    area.faults = this.faults;
    area.owners = this.pageOwners;
    const dir = `/sys/kernel/debug/cma/${name}`;
    this.namespace.install(
      `${dir}/base_pfn`,
      textFile(() => `${area.basePfn}\n`),
    );
    this.namespace.install(
      `${dir}/count`,
      textFile(() => `${area.count}\n`),
    );
    this.namespace.install(
      `${dir}/order_per_bit`,
      textFile(() => `${area.orderPerBit}\n`),
    );
    this.namespace.install(
      `${dir}/used`,
      textFile(() => `${area.usedPages}\n`),
    );
    this.namespace.install(
      `${dir}/maxchunk`,
      textFile(() => `${area.freeRunStats().largestFreeRun}\n`),
    );
    this.namespace.install(
      `${dir}/bitmap`,
      textFile(() => `${area.bitmapWords().join(" ")}\n`),
    );
    return area;
  }

  /** Starts a user-space process. */
  spawn(options: SpawnOptions = {}): Process {
    const pid = this.#nextPid++;
    const uid = options.uid ?? 0;
    const proc = new Process(this, pid, options.name ?? `proc${pid}`, uid, options.gid ?? uid);
    this.#processes.set(pid, proc);
    if (options.stdio) {
      proc.open("/dev/null", O_RDONLY);
      proc.open("/dev/null", O_WRONLY);
      proc.open("/dev/null", O_WRONLY);
    }
    return proc;
  }

  /** Live processes by pid. */
  processes(): ReadonlyMap<number, Process> {
    return this.#processes;
  }

  /** The process whose syscall is running (`current`), if any. */
  get current(): Process | undefined {
    return this.#current;
  }

  /** {@inheritDoc ProcessHost.runAs} */
  runAs<T>(proc: Process, fn: () => T): T {
    const prev = this.#current;
    this.#current = proc;
    try {
      return fn();
    } finally {
      this.#current = prev;
    }
  }

  /** {@inheritDoc ProcessHost.reap} */
  reap(proc: Process): void {
    this.#processes.delete(proc.pid);
  }

  /** {@inheritDoc ProcessHost.reportExitFault} */
  reportExitFault(proc: Process, what: string, file: File, error: unknown): void {
    const buf = this.dmaBuf.fromFile(file);
    const op = what === "munmap" ? "vm_operations.close or release" : "release";
    const owner = buf ? `exporter ${buf.expName}, ${op}` : `file ${op}`;
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.log.log(
      "err",
      `exit: pid ${proc.pid} (${proc.name}): ${what} of ${file.identity.path()} (${owner}) failed: ${why}`,
    );
  }

  /** {@inheritDoc ProcessHost.nextPseudoIno} */
  nextPseudoIno(): number {
    return this.#nextPseudoIno++;
  }

  /**
   * Installs a CPU cache model: `port` becomes {@link Kernel.cpu} and {@link Kernel.cpuCache},
   * the DMA API syncs through `hooks.sync` and devices reach RAM over `hooks.bus`, and writes
   * the kernel makes to RAM behind the CPU are reported to `hooks.onMemoryWrite`. At most one
   * per kernel, for the kernel's life. A device plugin calls it as
   * `DeviceHost.installCpuCache` from `probe`.
   * Context: `probe` (boot, or adding a device to a running kernel).
   * @throws KernelError EEXIST when the kernel has a CPU cache already (nothing changes).
   */
  installCpuCache(port: CpuPort, hooks: CpuCacheHooks): void {
    if (this.#cpuCache) {
      throw new KernelError("EEXIST", "cpu_cache_install", "the kernel has a CPU cache");
    }
    this.#cpuCache = port;
    this.cpu = port;
    this.dma.hooks = hooks.sync;
    this.dma.bus = hooks.bus;
    this.memory.writeObserver = (phys, length) => hooks.onMemoryWrite(phys, length);
  }

  /**
   * The instance of a registered plugin class.
   * @throws KernelError ENOENT when the class was not registered with this kernel.
   */
  plugin<T>(cls: PluginClass<T>): T {
    if (!this.#plugins.has(cls)) {
      throw new KernelError("ENOENT", "plugin", `${cls.name} is not registered`);
    }
    return this.#plugins.get(cls) as T;
  }

  /**
   * The kernel's report as one self-contained HTML page: summary (leaks at the end, peak
   * memory per heap), physical memory map, buffer lives, timeline, findings. Buffer lives and
   * the timeline need {@link Kernel.trace} started before the work.
   */
  report(options?: ReportOptions): string {
    return renderKernelReport(this, options);
  }

  /** Counts of everything a failed call must not leak. */
  snapshot(): KernelSnapshot {
    let bufferRefs = 0;
    let attachments = 0;
    let deviceMappings = 0;
    let vmaps = 0;
    const attachmentsByHolder = new Map<string, number>();
    const vmapsByBuffer = new Map<string, number>();
    for (const b of this.dmaBuf.list()) {
      bufferRefs += b.file.refCount;
      attachments += b.attachments.length;
      vmaps += b.vmappingCounter;
      if (b.vmappingCounter > 0) vmapsByBuffer.set(String(b.ino), b.vmappingCounter);
      for (const a of b.attachments) {
        deviceMappings += a.mappedCount + (a.sgt ? 1 : 0);
        const key = `${b.ino}:${a.dev.name}`;
        attachmentsByHolder.set(key, (attachmentsByHolder.get(key) ?? 0) + 1);
      }
    }
    let userMappings = 0;
    let fds = 0;
    const fdsByProcess = new Map<string, number>();
    for (const p of this.#processes.values()) {
      userMappings += p.mappingCount;
      fds += p.fdCount;
      if (p.fdCount > 0) fdsByProcess.set(`${p.pid} (${p.name})`, p.fdCount);
    }
    const callbacks = this.fences.armedCallbacks();
    let cmaPages = 0;
    for (const area of this.cmaAreas) cmaPages += area.usedPages;
    let hugePages = 0;
    for (const pool of this.hugetlb.pools) hugePages += pool.total - pool.free;
    const pools: Record<string, number> = {};
    for (const instance of this.#plugins.values()) {
      const hook = (instance as Partial<PluginAccounting> | undefined)?.accounting;
      if (typeof hook === "function") Object.assign(pools, hook.call(instance));
    }
    return {
      freePages: this.buddy.freePageCount(),
      files: this.files.size,
      buffers: this.dmaBuf.count,
      bufferRefs,
      attachments,
      attachmentsByHolder: sortedRecord(attachmentsByHolder),
      deviceMappings,
      vmaps,
      vmapsByBuffer: sortedRecord(vmapsByBuffer),
      userMappings,
      fds,
      fdsByProcess: sortedRecord(fdsByProcess),
      dmaMappings: this.dma.liveMappings(),
      iovaBytes: this.dma.iovaBytes(),
      cmaPages,
      hugePages,
      fenceCallbacks: callbacks.total,
      fenceCallbacksByTimeline: callbacks.byTimeline,
      pools,
    };
  }
}

/** A map as a plain object with its keys in sorted order (so equal maps stringify equally). */
function sortedRecord(map: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...map.keys()].sort()) out[key] = map.get(key) as number;
  return out;
}

/**
 * Boots a kernel. The configuration is validated with zod; plugins are registered in order,
 * each checked against its contract before anything of it becomes visible.
 *
 * @example
 * ```ts
 * const kernel = createKernel({ ram: "4GiB", profile: "6.1", plugins: [SystemHeap] });
 * const proc = kernel.spawn({ name: "app" });
 * ```
 * @throws KernelConfigError when the configuration is invalid or has a key it does not declare
 * (readable message naming the nearest valid key, e.g. `memory` → `ram`); whatever a
 * plugin's registration throws (KernelError with the kernel's errno).
 */
export function createKernel(config: KernelConfigInput = {}): Kernel {
  const checked = checkConfig(kernelConfigSchema, config);
  if (!checked.ok) throw new KernelConfigError(checked.message);
  return new Kernel(checked.data as KernelConfig);
}

export { KernelConfigError };
