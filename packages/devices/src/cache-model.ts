// A write-back CPU data cache in front of RAM, wired to the DMA sync calls and the device bus.

import {
  type CpuCaching,
  type CpuPort,
  createDeviceHost,
  type Device,
  type DeviceHost,
  DMA_TO_DEVICE,
  type DmaBufferLabel,
  type DmaBus,
  type DmaDirection,
  type DmaSyncHooks,
  device,
  installedCpuCache,
  type Kernel,
  KernelError,
  PhysicalMemory,
  type PluginProbe,
} from "@dmabuf/core";
import * as z from "zod";
import { CPU_ACCESS_COST_NS } from "./access-cost.js";
import { locateBuffer } from "./buffer-locator.js";
import {
  CoherencyChecker,
  CoherencyViolation,
  type CoherencyViolationKind,
  type ViolationBuffer,
  violationBuffer,
} from "./coherency.js";
import { LineSet, LineTags } from "./line-set.js";
import { SetAssociativeLru } from "./residency.js";

const isPowerOfTwo = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Configuration of the cache model (the `config` of its plugin entry). */
export const cacheModelConfigSchema = z
  .strictObject({
    /**
     * `checking` (default): lines are never evicted, so every missing sync is caught
     * deterministically. `realistic`: a finite set-associative cache with LRU replacement, so
     * a missing sync shows up as stale data only when the line is still cached — as on
     * hardware.
     */
    mode: z
      .enum(["checking", "realistic"], { error: 'mode must be "checking" or "realistic"' })
      .default("checking"),
    /** Line size in bytes: a power of two from 8 to 4096 (and at most the page size). */
    lineSize: z
      .number()
      .int()
      .refine((n) => isPowerOfTwo(n) && n >= 8 && n <= 4096, {
        error: "lineSize must be a power of two from 8 to 4096",
      })
      .default(64),
    /** Capacity in bytes (realistic mode): a multiple of lineSize × associativity. */
    capacity: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Ways per set (realistic mode). */
    associativity: z.number().int().positive().default(8),
    /**
     * What a sync for the device does to the CPU's lines: `clean` (arm64: write back, keep
     * them) or `flush` (write back and drop them for DMA_FROM_DEVICE and DMA_BIDIRECTIONAL, as
     * platforms that invalidate before a device writes do). A sync for the CPU always
     * invalidates, except for DMA_TO_DEVICE.
     */
    syncForDevice: z
      .enum(["clean", "flush"], { error: 'syncForDevice must be "clean" or "flush"' })
      .default("clean"),
    /** Look for missing syncs (default true). */
    checker: z.boolean().default(true),
    /** Throw on the first violation instead of collecting (default false). */
    fatal: z.boolean().default(false),
    /**
     * Make DMA-API debugging's detach-with-live-mappings report throw (default false: like
     * every DMA-API debugging report it is a warning in the kernel log and a report entry).
     */
    dmaDebugFatal: z.boolean().default(false),
  })
  .refine((c) => c.capacity % (c.lineSize * c.associativity) === 0, {
    error: "capacity must be a multiple of lineSize × associativity",
  });

/** Input accepted as cache model configuration. */
export type CacheModelConfigInput = z.input<typeof cacheModelConfigSchema>;
/** Validated cache model configuration. */
export type CacheModelConfig = z.output<typeof cacheModelConfigSchema>;

/** Counters of what the cache did. */
export interface CacheStats {
  /** Lines fetched from RAM (read misses and write-allocate). */
  lineFills: number;
  /** Dirty lines written back to RAM (clean, flush, eviction, snoop). */
  writeBacks: number;
  /** Lines evicted to make room (realistic mode). */
  evictions: number;
  /** Lines dropped by invalidate or flush. */
  invalidated: number;
  /**
   * CPU accesses (port calls) through uncached or write-combine mappings: each went straight
   * to RAM without allocating a line.
   */
  uncachedAccesses: number;
  /**
   * Virtual nanoseconds the CPU's accesses cost, per line spanned (realistic mode only; 0 in
   * checking mode): {@link CPU_ACCESS_COST_NS} `hit` for a line already cached, `miss` for a
   * line fetched, `uncached` for a line reached through an uncached or write-combine mapping.
   * A counter only: it never advances the kernel's clock.
   */
  accessNs: number;
}

/** One run of device-written lines: who wrote it, which buffer, and its physical origin. */
interface WriteRecord {
  readonly dev: Device;
  readonly buffer: DmaBufferLabel | undefined;
  /** `phys - offset` of the run: offsets in the buffer are `phys - base`. */
  readonly base: number;
  /**
   * The write landed while DMA_BUF_IOCTL_SYNC START (dma_buf_begin_cpu_access) of this buffer
   * was waiting for the fences, after the exporter's cache maintenance had run.
   */
  readonly duringSyncStart: boolean;
}

/**
 * The cache model installed on `kernel`, if any: the CPU cache its device host installed,
 * found even when something wrapped `kernel.cpu` afterwards.
 */
export function cacheModelOf(kernel: Kernel): CacheModel | undefined {
  const port = installedCpuCache(kernel);
  return port instanceof CacheModel ? port : undefined;
}

/**
 * Installs a cache model on a running kernel (what listing {@link CacheModel} in `plugins`
 * does at boot).
 * @throws KernelError EEXIST when the kernel has one already; ZodError on a bad config.
 */
export function installCacheModel(kernel: Kernel, config: CacheModelConfigInput = {}): CacheModel {
  const model = new CacheModel(createDeviceHost(kernel), config);
  model.probe();
  return model;
}

/**
 * The CPU's write-back data cache, physically indexed, with a coherency checker. Installed
 * (by `probe`, or {@link installCacheModel}) it becomes the kernel's CPU port, so every CPU
 * access to RAM — user mappings, vmaps — goes through it; it becomes the DMA sync hooks
 * (sync for device = clean, or flush with `syncForDevice: "flush"`; sync for CPU =
 * invalidate unless DMA_TO_DEVICE, as arm64 does);
 * and it becomes the device bus: coherent devices snoop (a device read sees dirty CPU lines,
 * a device write flushes and drops them), non-coherent devices go straight to RAM and are
 * checked. Memory the kernel rewrites behind the CPU port (page zeroing on allocation) drops
 * its cached lines.
 *
 * Line data lives in a sparse shadow of RAM; which lines are cached, dirty or written by a
 * device since their last invalidate are chunked bitmaps keyed by line number, so every
 * operation costs in proportion to the lines it touches (and a clean, the dirty lines in its
 * range), never to the size of a buffer or of RAM. In realistic mode a CPU access is the same
 * as one line at a time, in ascending order — statistics, write-backs and findings included —
 * but only the lines it can leave cached go through the cache's copy: the lines the access
 * itself pushes out again are read from, or written to, RAM directly (and counted as filled,
 * written back and evicted), so a fill larger than the cache costs about one pass over RAM.
 *
 * Violations name the buffer: a device access knows it from the caller (the importer's
 * attachment); a CPU access after a device write takes it from that write's record; an
 * invalidate that drops dirty lines looks the address up among the live buffers' device
 * mappings, vmaps and user mappings (only when reporting).
 */
@device({ name: "cpu-cache", configSchema: cacheModelConfigSchema })
export class CacheModel implements CpuPort, PluginProbe {
  /** The validated configuration. */
  readonly config: CacheModelConfig;
  /** The coherency checker. */
  readonly checker: CoherencyChecker;
  /** Line size in bytes. */
  readonly lineSize: number;
  /** What the cache did. */
  readonly stats: CacheStats = {
    lineFills: 0,
    writeBacks: 0,
    evictions: 0,
    invalidated: 0,
    uncachedAccesses: 0,
    accessNs: 0,
  };
  /** The device bus the model installs (snooping coherent devices, checking the others). */
  readonly bus: DmaBus;
  /** The DMA sync hooks the model installs (clean, invalidate). */
  readonly syncHooks: DmaSyncHooks;

  readonly #ram: PhysicalMemory;
  readonly #shadow: PhysicalMemory;
  readonly #valid: LineSet;
  readonly #dirty: LineSet;
  readonly #devWritten: LineSet;
  readonly #writers: LineTags;
  readonly #records: WriteRecord[] = [];
  readonly #recordIds = new Map<string, number>();
  readonly #deviceIds = new Map<Device, number>();
  readonly #lru: SetAssociativeLru | null;
  #busy = 0;
  #probed = false;

  /**
   * @param host - the device host of the kernel whose CPU this cache fronts
   * @param config - {@link CacheModelConfigInput} (the plugin entry's config)
   * @throws ZodError on an invalid configuration; RangeError when the line is larger than a page
   */
  constructor(
    readonly host: DeviceHost,
    config?: unknown,
  ) {
    this.config = cacheModelConfigSchema.parse(config ?? {});
    this.lineSize = this.config.lineSize;
    const ram = host.memory;
    if (this.lineSize > ram.pageSize) throw new RangeError("lineSize exceeds the page size");
    this.#ram = ram;
    this.#shadow = new PhysicalMemory({
      bytes: ram.bytes,
      pageSize: ram.pageSize,
      sectionBytes: ram.sectionBytes,
    });
    const lines = ram.bytes / this.lineSize;
    this.#valid = new LineSet(lines);
    this.#dirty = new LineSet(lines);
    this.#devWritten = new LineSet(lines);
    this.#writers = new LineTags(lines);
    this.#lru =
      this.config.mode === "realistic"
        ? new SetAssociativeLru(this.config.capacity / this.lineSize, this.config.associativity)
        : null;
    this.checker = new CoherencyChecker(host.log);
    this.checker.enabled = this.config.checker;
    this.checker.fatal = this.config.fatal;
    this.bus = {
      read: (dev, phys, length, dst, dstOffset, buffer, offset) =>
        this.#deviceRead(dev, phys, length, buffer, offset, () =>
          this.#ram.read(phys, length, dst, dstOffset),
        ),
      write: (dev, phys, src, buffer, offset) =>
        this.#deviceWrite(dev, phys, src.length, buffer, offset, () => this.#ram.write(phys, src)),
      fill: (dev, phys, length, value, buffer, offset) =>
        this.#deviceWrite(dev, phys, length, buffer, offset, () =>
          this.#ram.fill(phys, length, value),
        ),
      copy: (dev, dstPhys, srcPhys, length, dstBuffer, dstOffset, srcBuffer, srcOffset) =>
        this.#deviceRead(dev, srcPhys, length, srcBuffer, srcOffset, () =>
          this.#deviceWrite(dev, dstPhys, length, dstBuffer, dstOffset, () =>
            this.#ram.copy(dstPhys, srcPhys, length),
          ),
        ),
    };
    this.syncHooks = {
      syncForCpu: (dev, phys, length, dir) => this.#syncForCpu(dev, phys, length, dir),
      syncForDevice: (_dev, phys, length, dir) => {
        if (this.config.syncForDevice === "flush" && dir !== DMA_TO_DEVICE)
          this.flush(phys, length);
        else this.clean(phys, length);
      },
    };
  }

  /**
   * Installs the model on its kernel through {@link @dmabuf/core!index.DeviceHost.installCpuCache}:
   * CPU port, DMA sync hooks, device bus, and the RAM write observer; with `dmaDebugFatal`,
   * DMA-API debugging's detach report throws.
   * @throws KernelError EEXIST when the kernel already has a CPU cache (the model is then not
   * installed).
   */
  probe(): void {
    const host = this.host;
    if (this.#probed) {
      throw new KernelError("EEXIST", "cache_model_install", "the model is installed already");
    }
    try {
      host.installCpuCache(this, {
        sync: this.syncHooks,
        bus: this.bus,
        onMemoryWrite: (phys, length) => this.#external(phys, length),
      });
    } catch (e) {
      if (e instanceof KernelError && e.code === "EEXIST") {
        throw new KernelError("EEXIST", "cache_model_install", "the kernel has a cache model");
      }
      throw e;
    }
    this.#probed = true;
    if (this.config.dmaDebugFatal) host.dma.debug.fatal.add("DMA_API_DETACH_MAPPED");
  }

  // --- CPU port -------------------------------------------------------------------------

  /**
   * Loads `length` bytes at physical address `phys` into `dst` at `dstOffset` (the CPU
   * port's read): through the cache, fetching missing lines, unless `caching` says otherwise.
   * Called by user and kernel mappings with their memory type.
   * @param caching - the memory type of the mapping the load goes through (default `cached`)
   * @remarks An access through an uncached or write-combine mapping reads RAM directly: no
   * line is allocated (a device's writes are visible to it without a sync). Lines the cache
   * holds for the same memory are left as they are; when some of them are dirty (stores
   * through a cached alias not yet written back) the read sees stale memory, reported as an
   * `uncached-read-cpu-dirty` violation.
   */
  read(
    phys: number,
    length: number,
    dst: Uint8Array,
    dstOffset: number,
    caching: CpuCaching = "cached",
  ): void {
    if (length <= 0) return;
    if (caching !== "cached") {
      this.#uncached(phys, length);
      if (this.checker.enabled && this.#dirty.size > 0) this.#checkUncachedRead(phys, length);
      this.#ram.read(phys, length, dst, dstOffset);
      return;
    }
    const fills = this.stats.lineFills;
    const ls = this.lineSize;
    const end = phys + length;
    const l0 = this.#line(phys);
    const l1 = this.#lineEnd(end);
    this.#checkCpuAfterDevice("cpu-read-device-written", l0, l1);
    const keep = this.#touchRun(l0, l1);
    if (keep > l0) {
      // Lines [l0, keep) pass through the cache and leave it again within this read: each is
      // read where it is (the cache's copy, or RAM for a miss) instead of being fetched.
      const split = Math.min(end, keep * ls);
      let at = l0;
      const part = (a: number, b: number, from: PhysicalMemory) => {
        const p = Math.max(phys, a * ls);
        const q = Math.min(split, b * ls);
        if (q > p) from.read(p, q - p, dst, dstOffset + (p - phys));
      };
      this.#valid.forEachRun(l0, keep, (a, b) => {
        if (a > at) part(at, a, this.#ram);
        part(a, b, this.#shadow);
        this.stats.lineFills += a - at;
        at = b;
      });
      if (at < keep) part(at, keep, this.#ram);
      this.stats.lineFills += keep - at;
      this.#evict(l0, keep);
    }
    if (keep < l1) {
      const from = Math.max(phys, keep * ls);
      this.#fetch(keep, l1);
      this.#shadow.read(from, end - from, dst, dstOffset + (from - phys));
    }
    this.#charge(l1 - l0, fills);
  }

  /**
   * Stores `src` at physical address `phys` (the CPU port's write): into the cache,
   * write-allocating partly written lines and leaving the lines dirty, unless `caching` says
   * otherwise. Called by user and kernel mappings with their memory type.
   * @param caching - the memory type of the mapping the store goes through (default `cached`)
   * @remarks A store through an uncached or write-combine mapping is posted straight to RAM
   * (write-combining is modelled as a buffer drained by each store): no line is allocated,
   * nothing is checked, and lines the cache holds for the same memory are left as they are —
   * a dirty one written back later overwrites the store, as on hardware.
   */
  write(phys: number, src: Uint8Array, caching: CpuCaching = "cached"): void {
    const length = src.length;
    if (length === 0) return;
    if (caching !== "cached") {
      this.#uncached(phys, length);
      this.#busy++;
      try {
        this.#ram.write(phys, src);
      } finally {
        this.#busy--;
      }
      return;
    }
    const fills = this.stats.lineFills;
    this.#store(phys, length, (mem, p, q) => mem.write(p, src.subarray(p - phys, q - phys)));
    this.#charge(this.#lineEnd(phys + length) - this.#line(phys), fills);
  }

  /**
   * Stores `length` copies of `value` at `phys` (the CPU port's fill), as
   * {@link CacheModel.write} stores bytes.
   * @param caching - the memory type of the mapping the store goes through (default `cached`)
   * @remarks Uncached and write-combine stores go straight to RAM, as for
   * {@link CacheModel.write}.
   */
  fill(phys: number, length: number, value: number, caching: CpuCaching = "cached"): void {
    if (length <= 0) return;
    if (caching !== "cached") {
      this.#uncached(phys, length);
      this.#busy++;
      try {
        this.#ram.fill(phys, length, value);
      } finally {
        this.#busy--;
      }
      return;
    }
    const fills = this.stats.lineFills;
    this.#store(phys, length, (mem, p, q) => mem.fill(p, q - p, value));
    this.#charge(this.#lineEnd(phys + length) - this.#line(phys), fills);
  }

  /** Reports the lines of an uncached read of [phys, phys+length) that the cache holds dirty. */
  #checkUncachedRead(phys: number, length: number): void {
    const l0 = this.#line(phys);
    const l1 = this.#lineEnd(phys + length);
    if (!this.#dirty.any(l0, l1)) return;
    const ls = this.lineSize;
    const found: CoherencyViolation[] = [];
    this.#dirty.forEachRun(l0, l1, (a, b) => {
      found.push(
        this.#violation(
          "uncached-read-cpu-dirty",
          a * ls,
          (b - a) * ls,
          undefined,
          0,
          "CPU",
          "CPU",
        ),
      );
    });
    for (const v of found) this.checker.record(v);
  }

  /** Counts an uncached access of [phys, phys+length) and charges its lines (realistic mode). */
  #uncached(phys: number, length: number): void {
    this.stats.uncachedAccesses++;
    if (this.#lru) {
      const lines = this.#lineEnd(phys + length) - this.#line(phys);
      this.stats.accessNs += lines * CPU_ACCESS_COST_NS.uncached;
    }
  }

  /** Charges a cached access of `lines` lines, of which those filled since `fillsBefore` missed. */
  #charge(lines: number, fillsBefore: number): void {
    if (!this.#lru) return;
    const misses = this.stats.lineFills - fillsBefore;
    this.stats.accessNs +=
      misses * CPU_ACCESS_COST_NS.miss + (lines - misses) * CPU_ACCESS_COST_NS.hit;
  }

  /**
   * A CPU store of [phys, phys+length): `put(mem, p, q)` writes its bytes [p, q) into `mem`.
   * Lines only partly written are fetched first (write-allocate); in realistic mode the lines
   * the store itself pushes out of the cache again go straight to RAM, written back as they
   * leave.
   */
  #store(
    phys: number,
    length: number,
    put: (mem: PhysicalMemory, p: number, q: number) => void,
  ): void {
    const ls = this.lineSize;
    const end = phys + length;
    const l0 = this.#line(phys);
    const l1 = this.#lineEnd(end);
    // Lines the write covers whole simply replace what a device wrote; a line written only in
    // part merges with the cache's copy, which is stale unless it was invalidated.
    if (this.#devWritten.size > 0) {
      if (phys % ls !== 0) {
        this.#checkCpuAfterDevice("cpu-write-device-written", l0, l0 + 1);
      }
      if (end % ls !== 0 && (l1 - 1 !== l0 || phys % ls === 0)) {
        this.#checkCpuAfterDevice("cpu-write-device-written", l1 - 1, l1);
      }
      this.#devWritten.removeRange(l0, l1);
    }
    // Write-allocate: a line only partly written is fetched first — the last one at its turn,
    // after the lines before it may have pushed it out.
    const headPart = phys % ls !== 0;
    if (headPart && !this.#valid.has(l0)) this.#fetch(l0, l0 + 1);
    const keep = this.#touchRun(l0, l1);
    if (end % ls !== 0 && !this.#valid.has(l1 - 1)) this.#fetch(l1 - 1, l1);
    if (keep > l0) {
      // Lines [l0, keep) are written and evicted again by this store: dirty, so written back.
      const split = keep * ls;
      let p = phys;
      if (headPart) {
        p = (l0 + 1) * ls;
        put(this.#shadow, phys, p);
        this.#copy(this.#shadow, this.#ram, l0 * ls, ls);
      }
      if (split > p) {
        this.#busy++;
        try {
          put(this.#ram, p, split);
        } finally {
          this.#busy--;
        }
      }
      this.#dirty.removeRange(l0, keep);
      this.#valid.removeRange(l0, keep);
      this.stats.writeBacks += keep - l0;
      this.stats.evictions += keep - l0;
    }
    if (keep < l1) {
      put(this.#shadow, Math.max(phys, keep * ls), end);
      this.#valid.addRange(keep, l1);
      this.#dirty.addRange(keep, l1);
    }
  }

  // --- cache maintenance ----------------------------------------------------------------

  /**
   * Writes back the dirty lines of [phys, phys+length) (whole lines); they stay cached.
   * @returns the number of lines written back
   */
  clean(phys: number, length: number): number {
    if (length <= 0 || this.#dirty.size === 0) return 0;
    const l0 = this.#line(phys);
    const l1 = this.#lineEnd(phys + length);
    const ls = this.lineSize;
    let n = 0;
    this.#dirty.forEachRun(l0, l1, (a, b) => {
      this.#copy(this.#shadow, this.#ram, a * ls, (b - a) * ls);
      n += b - a;
    });
    if (n > 0) this.#dirty.removeRange(l0, l1);
    this.stats.writeBacks += n;
    return n;
  }

  /**
   * Drops the lines of [phys, phys+length) from the cache, dirty or not (lines only partly
   * covered are written back first). Dirty lines dropped whole are a `cpu-dirty-discarded`
   * violation when the checker is on.
   * @param by - the device whose sync for the CPU invalidates, for the report
   * @returns the number of lines dropped
   */
  invalidate(phys: number, length: number, by?: Device): number {
    if (length <= 0) return 0;
    const ls = this.lineSize;
    const end = phys + length;
    if (phys % ls !== 0) this.clean(phys, 1);
    if (end % ls !== 0) this.clean(end - 1, 1);
    const l0 = this.#line(phys);
    const l1 = this.#lineEnd(end);
    if (this.checker.enabled && this.#dirty.any(l0, l1)) {
      const found: CoherencyViolation[] = [];
      this.#dirty.forEachRun(l0, l1, (a, b) => {
        const p = a * ls;
        const q = b * ls;
        found.push(
          this.#violation("cpu-dirty-discarded", p, q - p, undefined, 0, "CPU", by?.name ?? "CPU"),
        );
      });
      for (const v of found) this.checker.record(v);
    }
    return this.#drop(l0, l1);
  }

  /**
   * Writes back and drops the lines of [phys, phys+length) (clean + invalidate).
   * @returns the number of lines dropped
   */
  flush(phys: number, length: number): number {
    if (length <= 0) return 0;
    this.clean(phys, length);
    return this.#drop(this.#line(phys), this.#lineEnd(phys + length));
  }

  /** Drops lines [l0, l1): not cached, not dirty, no device write pending. */
  #drop(l0: number, l1: number): number {
    const lru = this.#lru;
    if (lru)
      this.#valid.forEachRun(l0, l1, (a, b) => {
        for (let l = a; l < b; l++) lru.remove(l);
      });
    this.#dirty.removeRange(l0, l1);
    this.#devWritten.removeRange(l0, l1);
    const n = this.#valid.removeRange(l0, l1);
    this.stats.invalidated += n;
    return n;
  }

  // --- introspection --------------------------------------------------------------------

  /** Whether the line holding `phys` is cached. */
  isCached(phys: number): boolean {
    return this.#valid.has(this.#line(phys));
  }
  /** Whether the line holding `phys` is dirty. */
  isDirty(phys: number): boolean {
    return this.#dirty.has(this.#line(phys));
  }
  /** Whether a non-coherent device wrote the line holding `phys` since its last invalidate. */
  isDeviceWritten(phys: number): boolean {
    return this.#devWritten.has(this.#line(phys));
  }
  /** Number of cached lines. */
  get cachedLines(): number {
    return this.#valid.size;
  }
  /** Number of dirty lines. */
  get dirtyLines(): number {
    return this.#dirty.size;
  }

  // --- the device side ------------------------------------------------------------------

  #deviceRead(
    dev: Device,
    phys: number,
    length: number,
    buffer: DmaBufferLabel | undefined,
    offset: number,
    access: () => void,
  ): void {
    if (dev.coherent) {
      // The interconnect snoops: dirty CPU lines are supplied (written back) first.
      this.clean(phys, length);
    } else {
      this.#checkDeviceVsDirty("device-read-cpu-dirty", dev, phys, length, buffer, offset);
    }
    this.#busy++;
    try {
      access();
    } finally {
      this.#busy--;
    }
  }

  #deviceWrite(
    dev: Device,
    phys: number,
    length: number,
    buffer: DmaBufferLabel | undefined,
    offset: number,
    access: () => void,
  ): void {
    if (length <= 0) return;
    if (dev.coherent) {
      // Snooped: the CPU's copies are written back (partial lines merge) and dropped.
      this.flush(phys, length);
    } else {
      this.#checkDeviceVsDirty("device-write-cpu-dirty", dev, phys, length, buffer, offset);
    }
    this.#busy++;
    try {
      access();
    } finally {
      this.#busy--;
    }
    if (!dev.coherent && this.checker.enabled) {
      const l0 = this.#line(phys);
      const l1 = this.#lineEnd(phys + length);
      this.#devWritten.addRange(l0, l1);
      const starting = this.host.dma.debug.within("begin_cpu_access");
      const racing = starting !== undefined && (!buffer || starting.ino === buffer.ino);
      this.#writers.setRange(l0, l1, this.#recordId(dev, buffer, phys - offset, racing));
    }
  }

  #checkDeviceVsDirty(
    kind: CoherencyViolationKind,
    dev: Device,
    phys: number,
    length: number,
    buffer: DmaBufferLabel | undefined,
    offset: number,
  ): void {
    if (!this.checker.enabled || this.#dirty.size === 0) return;
    const l0 = this.#line(phys);
    const l1 = this.#lineEnd(phys + length);
    if (!this.#dirty.any(l0, l1)) return;
    const ls = this.lineSize;
    const found: CoherencyViolation[] = [];
    this.#dirty.forEachRun(l0, l1, (a, b) => {
      const p = a * ls;
      const q = b * ls;
      found.push(this.#violation(kind, p, q - p, buffer, offset + (p - phys), "CPU", dev.name));
    });
    for (const v of found) this.checker.record(v);
  }

  /** CPU access to lines a device wrote since their last invalidate: report and consume. */
  #checkCpuAfterDevice(kind: CoherencyViolationKind, l0: number, l1: number): void {
    const dw = this.#devWritten;
    if (dw.size === 0 || !this.checker.enabled || !dw.any(l0, l1)) return;
    const ls = this.lineSize;
    const found: CoherencyViolation[] = [];
    const emit = (a: number, b: number, tag: number) => {
      const p = a * ls;
      const q = b * ls;
      const rec = this.#records[tag - 1];
      found.push(
        this.#violation(
          rec?.duringSyncStart ? "device-write-during-sync-start" : kind,
          p,
          q - p,
          rec?.buffer,
          rec ? p - rec.base : 0,
          rec?.dev.name ?? "a device",
          "CPU",
        ),
      );
    };
    dw.forEachRun(l0, l1, (a, b) => {
      let start = a;
      let tag = this.#writers.get(a);
      for (let l = a + 1; l < b; l++) {
        const t = this.#writers.get(l);
        if (t !== tag) {
          emit(start, l, tag);
          start = l;
          tag = t;
        }
      }
      emit(start, b, tag);
    });
    for (const v of found) this.checker.record(v);
    dw.removeRange(l0, l1);
  }

  #violation(
    kind: CoherencyViolationKind,
    phys: number,
    length: number,
    buffer: DmaBufferLabel | undefined,
    offset: number,
    writer: string,
    reader: string,
  ): CoherencyViolation {
    let buf: ViolationBuffer | null = buffer ? violationBuffer(buffer) : null;
    let off = offset;
    if (!buf) {
      const found = locateBuffer(this.host, phys);
      buf = found ? violationBuffer(found.buffer) : null;
      off = found ? found.offset : phys;
    }
    return new CoherencyViolation(
      kind,
      buf,
      off,
      length,
      phys,
      writer,
      reader,
      this.host.clock.now,
    );
  }

  #recordId(
    dev: Device,
    buffer: DmaBufferLabel | undefined,
    base: number,
    duringSyncStart: boolean,
  ): number {
    let devId = this.#deviceIds.get(dev);
    if (devId === undefined) {
      devId = this.#deviceIds.size;
      this.#deviceIds.set(dev, devId);
    }
    const key = `${devId}:${buffer?.ino ?? -1}:${base}:${duringSyncStart ? 1 : 0}`;
    let id = this.#recordIds.get(key);
    if (id === undefined) {
      this.#records.push({ dev, buffer, base, duringSyncStart });
      id = this.#records.length;
      this.#recordIds.set(key, id);
    }
    return id;
  }

  // --- DMA sync and the RAM observer ----------------------------------------------------

  #syncForCpu(dev: Device, phys: number, length: number, dir: DmaDirection): void {
    // Data the device only read cannot be stale in the CPU's cache: nothing to drop.
    if (dir === DMA_TO_DEVICE) return;
    this.invalidate(phys, length, dev);
  }

  /** RAM changed behind the CPU port (page zeroing): its lines are stale, drop them. */
  #external(phys: number, length: number): void {
    if (this.#busy > 0) return;
    const ls = this.lineSize;
    const end = phys + length;
    // Lines only partly rewritten keep the CPU's bytes outside the range.
    if (phys % ls !== 0) this.clean(phys, 1);
    if (end % ls !== 0) this.clean(end - 1, 1);
    this.#drop(this.#line(phys), this.#lineEnd(end));
  }

  // --- helpers ----------------------------------------------------------------------------

  #line(phys: number): number {
    return Math.floor(phys / this.lineSize);
  }

  #lineEnd(end: number): number {
    return Math.ceil(end / this.lineSize);
  }

  /** Brings lines [l0, l1) into the cache from RAM where they are not cached yet. */
  #fetch(l0: number, l1: number): void {
    const ls = this.lineSize;
    this.#valid.forEachGap(l0, l1, (a, b) => {
      this.#copy(this.#ram, this.#shadow, a * ls, (b - a) * ls);
      this.#valid.addRange(a, b);
      this.stats.lineFills += b - a;
    });
  }

  /**
   * Marks lines [l0, l1) used in ascending order (realistic mode). Lines evicted before the
   * run reaches them (other lines, or lines of the run pushed out before their turn) leave
   * now, dirty ones written back with what they hold before the access; they are gathered into
   * runs of consecutive lines.
   * @returns the first line of the run that stays cached: lines [l0, returned) are evicted
   *   again by the run itself after their turn, which the caller completes. l0 without a
   *   finite cache.
   */
  #touchRun(l0: number, l1: number): number {
    const lru = this.#lru;
    if (!lru) return l0;
    const keep = lru.touchRun(l0, l1, this.#onEvict);
    this.#flushEvicted();
    return keep;
  }

  /** The run of consecutive lines evicted so far by the current touch ([start, end)). */
  #evictStart = -1;
  #evictEnd = -1;
  readonly #onEvict = (line: number): void => {
    if (this.#evictStart >= 0 && line === this.#evictEnd) {
      this.#evictEnd++;
      return;
    }
    this.#flushEvicted();
    this.#evictStart = line;
    this.#evictEnd = line + 1;
  };

  #flushEvicted(): void {
    if (this.#evictStart < 0) return;
    const a = this.#evictStart;
    this.#evictStart = -1;
    this.#evict(a, this.#evictEnd);
  }

  /** Lines [a, b) left the cache: dirty ones are written back, all stop being cached. */
  #evict(a: number, b: number): void {
    const ls = this.lineSize;
    if (b === a + 1) {
      if (this.#dirty.has(a)) {
        this.#copy(this.#shadow, this.#ram, a * ls, ls);
        this.stats.writeBacks++;
        this.#dirty.removeRange(a, b);
      }
      this.#valid.removeRange(a, b);
      this.stats.evictions++;
      return;
    }
    this.#dirty.forEachRun(a, b, (s, e) => {
      this.#copy(this.#shadow, this.#ram, s * ls, (e - s) * ls);
      this.stats.writeBacks += e - s;
    });
    this.#dirty.removeRange(a, b);
    this.#valid.removeRange(a, b);
    this.stats.evictions += b - a;
  }

  /** Copies bytes between RAM and the shadow, without backing zeros. */
  #copy(from: PhysicalMemory, to: PhysicalMemory, phys: number, length: number): void {
    this.#busy++;
    try {
      from.copyTo(to, phys, length);
    } finally {
      this.#busy--;
    }
  }
}
