// The DMA mapping API: map, unmap and sync sg tables for a device (dma_map_sgtable & co).

import { KernelBug } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import type { KernelLog } from "../kernel-log.js";
import type { PhysicalMemory } from "../mm/physical-memory.js";
import type { SgTable } from "../mm/sg-table.js";
import { DmaAddressSpace, type DmaExtent, IovaAllocator } from "./address-space.js";
import { DMA_ATTR_SKIP_CPU_SYNC } from "./attrs.js";
import { DirectDmaBus, type DmaBus } from "./bus.js";
import { DmaDebug } from "./debug.js";
import type { Device } from "./device.js";
import {
  DMA_BIDIRECTIONAL,
  DMA_DIRECTION_NAMES,
  type DmaDirection,
  isValidDirection,
} from "./direction.js";
import { DmaPort } from "./port.js";

/**
 * Cache maintenance the platform performs for non-coherent devices. The default platform is
 * coherent and does nothing; `@dmabuf/devices` installs a cache model here.
 */
export interface DmaSyncHooks {
  /** Make device writes in [phys, phys+length) visible to the CPU (invalidate). */
  syncForCpu(dev: Device, phys: number, length: number, dir: DmaDirection): void;
  /** Make CPU writes in [phys, phys+length) visible to the device (clean). */
  syncForDevice(dev: Device, phys: number, length: number, dir: DmaDirection): void;
}

/** No cache maintenance: every device is coherent. */
export const coherentSyncHooks: DmaSyncHooks = {
  syncForCpu() {},
  syncForDevice() {},
};

/** What {@link DmaMappingApi} needs besides the page size. */
export interface DmaMappingOptions {
  /** The RAM the default bus reaches; without it device ports cannot move bytes. */
  readonly memory?: PhysicalMemory;
  /** Where DMA-API debugging prints. */
  readonly log?: KernelLog;
  /** The virtual clock, for report times. */
  readonly now?: () => number;
}

/** One live mapping of a table for a device. */
interface MappingRecord {
  readonly dev: Device;
  readonly dir: DmaDirection;
  readonly extents: DmaExtent[];
  /** First IOVA of the mapping, or -1 without an IOMMU. */
  readonly iova: number;
  /** The DMA segments the mapping produced (restored if a stacked mapping goes first). */
  readonly dmaAddress: Float64Array;
  readonly dmaLength: Float64Array;
}

/** The largest IOVA the model hands out (a 52-bit input address space). */
const IOVA_LIMIT = 2 ** 52;

/**
 * Length of the leading run of DMA segments that are contiguous in bus address space
 * (`drm_prime_get_contiguous_size`): a contiguous-only importer needs it to equal the buffer's
 * size. 0 for an unmapped table.
 */
export function dmaContiguousSize(sgt: SgTable): number {
  const n = sgt.nents;
  if (n === 0) return 0;
  const addr = sgt.dmaAddress;
  const len = sgt.dmaLength;
  let size = len[0] as number;
  let expected = (addr[0] as number) + size;
  for (let i = 1; i < n; i++) {
    if (addr[i] !== expected) break;
    size += len[i] as number;
    expected += len[i] as number;
  }
  return size;
}

/**
 * The DMA mapping API of one kernel. Without an IOMMU the bus address is the physical address
 * (dma-direct): a page above the device's dma mask cannot be mapped, and every CPU entry
 * becomes one DMA segment. Behind an IOMMU a mapping gets an IOVA range below the mask, and
 * entries that meet on page boundaries merge into DMA segments of at most the device's
 * `maxSegmentSize`, so a scattered buffer can look contiguous to the device.
 *
 * DMA-API debugging ({@link DmaMappingApi.debug}) tracks every live mapping and reports unmaps
 * of tables never mapped or already unmapped, unmaps by another device or in another
 * direction, syncs of unmapped tables or in a direction the mapping lacks, and importers
 * detaching with live mappings.
 *
 * Devices reach memory through their {@link DmaPort} ({@link DmaMappingApi.port}): bus
 * addresses are checked against the dma mask, translated through the device's live mappings
 * (the IOMMU's page table, or identity), and the access goes over {@link DmaMappingApi.bus}.
 */
export class DmaMappingApi {
  /** The platform's cache maintenance. */
  hooks: DmaSyncHooks = coherentSyncHooks;
  /** The path from devices to RAM (a cache model swaps in a snooping bus). */
  bus: DmaBus;
  /** DMA-API debugging (CONFIG_DMA_API_DEBUG). */
  readonly debug: DmaDebug;
  /** Fault injection (the kernel's `faults`): an injected failure makes IOVA allocation fail. */
  faults: { shouldFail(point: "iova"): boolean } | undefined;

  readonly #live = new WeakMap<SgTable, MappingRecord[]>();
  readonly #unmapped = new WeakSet<SgTable>();
  readonly #spaces = new WeakMap<Device, DmaAddressSpace>();
  readonly #iova = new Map<Device, IovaAllocator>();
  readonly #ports = new WeakMap<Device, DmaPort>();
  readonly #liveByDevice = new Map<Device, number>();
  readonly #devices: Device[] = [];

  /**
   * @param pageSize - the kernel's page size
   * @param options - RAM for the default bus, the log and clock for debug reports
   */
  constructor(
    readonly pageSize: number,
    options: DmaMappingOptions = {},
  ) {
    const memory = options.memory;
    this.bus = memory ? new DirectDmaBus(memory) : noMemoryBus;
    this.debug = new DmaDebug(options.log, options.now);
  }

  /**
   * Registers a device with the platform (`device_add`), so it can be found by name.
   * @throws KernelError EEXIST when a device of that name exists.
   */
  addDevice(dev: Device): void {
    if (this.findDevice(dev.name)) {
      throw new KernelError("EEXIST", "device_add", `device ${dev.name} exists`);
    }
    this.#devices.push(dev);
  }

  /** Registered devices, in registration order. */
  devices(): readonly Device[] {
    return this.#devices;
  }

  /** The registered device called `name`, if any. */
  findDevice(name: string): Device | undefined {
    return this.#devices.find((d) => d.name === name);
  }

  /** The port through which `dev` reaches memory (one per device). */
  port(dev: Device): DmaPort {
    let p = this.#ports.get(dev);
    if (!p) {
      p = new DmaPort(dev, this);
      this.#ports.set(dev, p);
    }
    return p;
  }

  /** Live mappings of `dev` (or of every device). */
  liveMappings(dev?: Device): number {
    if (dev) return this.#liveByDevice.get(dev) ?? 0;
    let n = 0;
    for (const c of this.#liveByDevice.values()) n += c;
    return n;
  }

  /** Whether `sgt` is mapped (for `dev`, when given). */
  isMapped(sgt: SgTable, dev?: Device): boolean {
    const recs = this.#live.get(sgt);
    return recs !== undefined && (dev === undefined || recs.some((r) => r.dev === dev));
  }

  /** Bytes of IOVA space `dev` holds (0 without an IOMMU), or every device when omitted. */
  iovaBytes(dev?: Device): number {
    if (dev) return this.#iova.get(dev)?.allocatedBytes ?? 0;
    let n = 0;
    for (const a of this.#iova.values()) n += a.allocatedBytes;
    return n;
  }

  /**
   * Who holds DMA resources now, for leak reports: per device name, its live mappings and
   * the bytes of its IOVA domain in use (devices holding neither are left out).
   */
  holders(): Map<string, { mappings: number; iovaBytes: number }> {
    const out = new Map<string, { mappings: number; iovaBytes: number }>();
    for (const [dev, n] of this.#liveByDevice) out.set(dev.name, { mappings: n, iovaBytes: 0 });
    for (const [dev, a] of this.#iova) {
      const bytes = a.allocatedBytes;
      if (bytes === 0) continue;
      const h = out.get(dev.name) ?? { mappings: 0, iovaBytes: 0 };
      h.iovaBytes += bytes;
      out.set(dev.name, h);
    }
    return out;
  }

  /**
   * Maps every CPU entry of `sgt` for `dev` (`dma_map_sgtable`): fills the DMA addresses and
   * lengths, then syncs for the device unless `attrs` has {@link DMA_ATTR_SKIP_CPU_SYNC}.
   * @param attrs - DMA_ATTR_* bits (default 0); only DMA_ATTR_SKIP_CPU_SYNC changes what the
   * model does, other bits are accepted and ignored as platforms that lack them do
   * @throws KernelError EINVAL for an invalid direction; EIO when, without an IOMMU, a segment
   * lies above the device's dma mask; ENOMEM when the IOMMU has no IOVA space left. Nothing
   * stays mapped on failure.
   */
  mapSgtable(dev: Device, sgt: SgTable, dir: DmaDirection, attrs = 0): void {
    if (!isValidDirection(dir)) throw new KernelError("EINVAL", "dma_map_sgtable", "bad direction");
    const rec = dev.iommu ? this.#mapIommu(dev, sgt, dir) : this.#mapDirect(dev, sgt, dir);
    let recs = this.#live.get(sgt);
    if (!recs) {
      recs = [];
      this.#live.set(sgt, recs);
    }
    recs.push(rec);
    this.#unmapped.delete(sgt);
    this.#liveByDevice.set(dev, (this.#liveByDevice.get(dev) ?? 0) + 1);
    this.#space(dev).add(rec.extents);
    if ((attrs & DMA_ATTR_SKIP_CPU_SYNC) === 0) this.#syncForDevice(dev, sgt, dir);
  }

  #mapDirect(dev: Device, sgt: SgTable, dir: DmaDirection): MappingRecord {
    const ps = this.pageSize;
    const n = sgt.entryCount;
    for (let i = 0; i < n; i++) {
      const phys = (sgt.pfn[i] as number) * ps + (sgt.offset[i] as number);
      const len = sgt.length[i] as number;
      if (phys + len - 1 > dev.dmaMask) {
        throw new KernelError("EIO", "dma_map_sgtable", `segment ${i} above the dma mask`);
      }
    }
    const extents: DmaExtent[] = [];
    for (let i = 0; i < n; i++) {
      const phys = (sgt.pfn[i] as number) * ps + (sgt.offset[i] as number);
      const len = sgt.length[i] as number;
      sgt.setDma(i, phys, len);
      extents.push({ bus: phys, phys, length: len, dir });
    }
    sgt.setNents(n);
    this.#checkSegments(dev, sgt);
    return this.#record(dev, dir, extents, -1, sgt);
  }

  #mapIommu(dev: Device, sgt: SgTable, dir: DmaDirection): MappingRecord {
    const ps = this.pageSize;
    const n = sgt.entryCount;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const inPage = (sgt.offset[i] as number) % ps;
      total += Math.ceil((inPage + (sgt.length[i] as number)) / ps) * ps;
    }
    let iova = -1;
    if (total > 0) {
      let alloc = this.#iova.get(dev);
      if (!alloc) {
        alloc = new IovaAllocator(ps, ps);
        this.#iova.set(dev, alloc);
      }
      iova = this.faults?.shouldFail("iova")
        ? -1
        : alloc.alloc(total, Math.min(dev.dmaMask + 1, IOVA_LIMIT));
      if (iova < 0) {
        throw new KernelError("ENOMEM", "dma_map_sgtable", "IOVA space exhausted");
      }
    }
    const extents: DmaExtent[] = [];
    let cursor = iova;
    let seg = -1;
    let segAddr = 0;
    let segLen = 0;
    for (let i = 0; i < n; i++) {
      const phys = (sgt.pfn[i] as number) * ps + (sgt.offset[i] as number);
      const len = sgt.length[i] as number;
      const inPage = phys % ps;
      const bus = cursor + inPage;
      extents.push({ bus, phys, length: len, dir });
      if (seg >= 0 && segAddr + segLen === bus && segLen + len <= dev.maxSegmentSize) {
        segLen += len;
      } else {
        if (seg >= 0) sgt.setDma(seg, segAddr, segLen);
        seg++;
        segAddr = bus;
        segLen = len;
      }
      cursor += Math.ceil((inPage + len) / ps) * ps;
    }
    if (seg >= 0) sgt.setDma(seg, segAddr, segLen);
    sgt.setNents(seg + 1);
    this.#checkSegments(dev, sgt);
    return this.#record(dev, dir, extents, iova, sgt);
  }

  #record(
    dev: Device,
    dir: DmaDirection,
    extents: DmaExtent[],
    iova: number,
    sgt: SgTable,
  ): MappingRecord {
    const n = sgt.nents;
    return {
      dev,
      dir,
      extents,
      iova,
      dmaAddress: sgt.dmaAddress.slice(0, n),
      dmaLength: sgt.dmaLength.slice(0, n),
    };
  }

  /** DMA-API debug: a segment longer than the device accepts. */
  #checkSegments(dev: Device, sgt: SgTable): void {
    for (let i = 0; i < sgt.nents; i++) {
      const len = sgt.dmaLength[i] as number;
      if (len > dev.maxSegmentSize) {
        const detail = `mapping sg segment longer than device claims to support [len=${len}] [max=${dev.maxSegmentSize}]`;
        this.debug.report(dev, new KernelBug("DMA_API_SEGMENT_TOO_LONG", detail), detail);
        return;
      }
    }
  }

  /**
   * Unmaps `sgt` (`dma_unmap_sgtable`), syncing for the CPU first (unless `attrs` has
   * {@link DMA_ATTR_SKIP_CPU_SYNC}) and releasing its IOVA range. DMA-API debugging checks it
   * whatever the attributes, and does not compare them with the map's (as in Linux).
   * @param attrs - DMA_ATTR_* bits (default 0)
   * @throws KernelBug (DMA-API debugging) DMA_API_UNMAP_NOT_MAPPED for a table never mapped,
   * DMA_API_DOUBLE_UNMAP for one already unmapped, DMA_API_UNMAP_WRONG_DEV when only
   * another device mapped it, DMA_API_UNMAP_WRONG_DIR when `dir` differs from the
   * mapping's; a non-fatal report leaves the table as it is (or, for a direction mismatch,
   * unmaps it anyway, as Linux does).
   */
  unmapSgtable(dev: Device, sgt: SgTable, dir: DmaDirection, attrs = 0): void {
    const recs = this.#live.get(sgt);
    if (!recs) {
      if (this.#unmapped.has(sgt)) {
        const detail = "device driver tries to free DMA memory it has already freed";
        this.debug.report(dev, new KernelBug("DMA_API_DOUBLE_UNMAP", detail), detail);
      } else {
        const detail = "device driver tries to free DMA memory it has not allocated";
        this.debug.report(dev, new KernelBug("DMA_API_UNMAP_NOT_MAPPED", detail), detail);
      }
      return;
    }
    let idx = recs.length - 1;
    while (idx >= 0 && (recs[idx] as MappingRecord).dev !== dev) idx--;
    if (idx < 0) {
      const detail = `device driver frees DMA memory mapped for ${(recs[0] as MappingRecord).dev.name}`;
      this.debug.report(dev, new KernelBug("DMA_API_UNMAP_WRONG_DEV", detail), detail);
      return;
    }
    const rec = recs[idx] as MappingRecord;
    if (rec.dir !== dir) {
      const detail = `device driver frees DMA memory with different direction [mapped as ${DMA_DIRECTION_NAMES[rec.dir]}] [unmapped as ${DMA_DIRECTION_NAMES[dir]}]`;
      this.debug.report(dev, new KernelBug("DMA_API_UNMAP_WRONG_DIR", detail), detail);
    }
    if ((attrs & DMA_ATTR_SKIP_CPU_SYNC) === 0) this.#syncForCpu(dev, sgt, dir);
    this.#space(dev).remove(rec.extents);
    if (rec.iova >= 0) this.#iova.get(dev)?.free(rec.iova);
    recs.splice(idx, 1);
    const left = (this.#liveByDevice.get(dev) ?? 1) - 1;
    if (left === 0) this.#liveByDevice.delete(dev);
    else this.#liveByDevice.set(dev, left);
    const top = recs[recs.length - 1];
    if (!top) {
      this.#live.delete(sgt);
      this.#unmapped.add(sgt);
      sgt.setNents(0);
      return;
    }
    // A stacked mapping of the same table is still live: its segments are the table's again.
    const n = top.dmaAddress.length;
    for (let i = 0; i < n; i++) {
      sgt.setDma(i, top.dmaAddress[i] as number, top.dmaLength[i] as number);
    }
    sgt.setNents(n);
  }

  /**
   * Makes the device's writes visible to the CPU (`dma_sync_sgtable_for_cpu`).
   * @throws KernelBug (DMA-API debugging) DMA_API_SYNC_NOT_MAPPED, DMA_API_SYNC_WRONG_DIR.
   */
  syncSgtableForCpu(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    this.#checkSync(dev, sgt, dir, "dma_sync_sgtable_for_cpu");
    this.#syncForCpu(dev, sgt, dir);
  }

  /**
   * Makes the CPU's writes visible to the device (`dma_sync_sgtable_for_device`).
   * @throws KernelBug (DMA-API debugging) DMA_API_SYNC_NOT_MAPPED, DMA_API_SYNC_WRONG_DIR.
   */
  syncSgtableForDevice(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    this.#checkSync(dev, sgt, dir, "dma_sync_sgtable_for_device");
    this.#syncForDevice(dev, sgt, dir);
  }

  /**
   * DMA-API debugging at `dma_buf_detach`: an importer must unmap before it detaches.
   * Called by the dma-buf core with the attachment's live mapping count.
   * @throws KernelBug DMA_API_DETACH_MAPPED when `liveMappings > 0` and that code is fatal.
   */
  checkDetach(dev: Device, liveMappings: number): void {
    if (liveMappings <= 0) return;
    const detail = `device detaches from a dma-buf with ${liveMappings} live mappings`;
    this.debug.report(dev, new KernelBug("DMA_API_DETACH_MAPPED", detail), detail);
  }

  /**
   * Translates the bus range [bus, bus+length) of `dev` into physical runs, as (phys, length)
   * pairs, for a device read or (`write`) write: checked against the dma mask, then looked up
   * in the device's live mappings (the IOMMU page table; without an IOMMU, identity — and,
   * with debugging on, only inside a live mapping whose direction allows the access).
   * @throws KernelBug DMA_FAULT_BEYOND_MASK when the range exceeds the dma mask;
   * DMA_FAULT_DIRECTION when the mappings there do not allow the access (a write into a
   * DMA_TO_DEVICE mapping, a read of a DMA_FROM_DEVICE one); DMA_FAULT_UNMAPPED when part of
   * it is not mapped for the device (an IOMMU fault, or an access after unmap).
   */
  resolve(dev: Device, bus: number, length: number, write: boolean): number[] {
    const out: number[] = [];
    if (length <= 0) return out;
    if (!Number.isSafeInteger(bus) || bus < 0 || bus + length - 1 > dev.dmaMask) {
      throw new KernelBug(
        "DMA_FAULT_BEYOND_MASK",
        `${dev.name}: bus range 0x${bus.toString(16)}+${length} exceeds the dma mask 0x${dev.dmaMask.toString(16)}`,
      );
    }
    if (!dev.iommu && !this.debug.enabled) {
      out.push(bus, length);
      return out;
    }
    const [done, denied] = this.#space(dev).resolve(bus, length, write, out);
    if (done < length && denied) {
      throw new KernelBug(
        "DMA_FAULT_DIRECTION",
        `${dev.name}: ${write ? "write to" : "read from"} bus address 0x${(bus + done).toString(16)}, mapped only ${write ? "for the device to read" : "for the device to write"}`,
      );
    }
    if (done < length) {
      throw new KernelBug(
        "DMA_FAULT_UNMAPPED",
        `${dev.name}: bus address 0x${(bus + done).toString(16)} is not mapped for the device`,
      );
    }
    return out;
  }

  #checkSync(dev: Device, sgt: SgTable, dir: DmaDirection, fn: string): void {
    if (!this.debug.enabled) return;
    const rec = this.#live.get(sgt)?.findLast((r) => r.dev === dev);
    if (!rec) {
      const detail = `${fn}: device driver tries to sync DMA memory it has not allocated`;
      this.debug.report(dev, new KernelBug("DMA_API_SYNC_NOT_MAPPED", detail), detail);
      return;
    }
    if (rec.dir !== DMA_BIDIRECTIONAL && rec.dir !== dir) {
      const detail = `${fn}: device driver syncs DMA memory with different direction [mapped as ${DMA_DIRECTION_NAMES[rec.dir]}] [synced as ${DMA_DIRECTION_NAMES[dir]}]`;
      this.debug.report(dev, new KernelBug("DMA_API_SYNC_WRONG_DIR", detail), detail);
    }
  }

  #syncForCpu(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    if (dev.coherent) return;
    sgt.forEachRange(this.pageSize, (phys, len) => this.hooks.syncForCpu(dev, phys, len, dir));
  }

  #syncForDevice(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    if (dev.coherent) return;
    sgt.forEachRange(this.pageSize, (phys, len) => this.hooks.syncForDevice(dev, phys, len, dir));
  }

  #space(dev: Device): DmaAddressSpace {
    let s = this.#spaces.get(dev);
    if (!s) {
      s = new DmaAddressSpace();
      this.#spaces.set(dev, s);
    }
    return s;
  }
}

/** The bus of a mapping API built without RAM: any device access is a programming error. */
const noMemoryBus: DmaBus = {
  read() {
    throw new TypeError("this DmaMappingApi was built without memory");
  },
  write() {
    throw new TypeError("this DmaMappingApi was built without memory");
  },
  fill() {
    throw new TypeError("this DmaMappingApi was built without memory");
  },
  copy() {
    throw new TypeError("this DmaMappingApi was built without memory");
  },
};
