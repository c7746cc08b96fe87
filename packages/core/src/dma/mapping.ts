// The DMA mapping API: map, unmap and sync sg tables for a device (dma_map_sgtable & co).

import { KernelError } from "../errors/kernel-error.js";
import type { SgTable } from "../mm/sg-table.js";
import type { Device } from "./device.js";
import { type DmaDirection, isValidDirection } from "./direction.js";

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

/**
 * The DMA mapping API of one kernel. Without an IOMMU the bus address is the physical
 * address (dma-direct); a page above the device's dma mask cannot be mapped.
 */
export class DmaMappingApi {
  /** The platform's cache maintenance. */
  hooks: DmaSyncHooks = coherentSyncHooks;

  /** @param pageSize - the kernel's page size */
  constructor(readonly pageSize: number) {}

  /**
   * Maps every CPU entry of `sgt` for `dev` (`dma_map_sgtable`): fills the DMA address and
   * length of each entry, then syncs for the device.
   * @throws KernelError EINVAL for an invalid direction; EIO when a segment lies above the
   * device's dma mask (nothing stays mapped).
   */
  mapSgtable(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    if (!isValidDirection(dir)) throw new KernelError("EINVAL", "dma_map_sgtable", "bad direction");
    const ps = this.pageSize;
    const n = sgt.entryCount;
    for (let i = 0; i < n; i++) {
      const phys = (sgt.pfn[i] as number) * ps + (sgt.offset[i] as number);
      const len = sgt.length[i] as number;
      if (phys + len - 1 > dev.dmaMask) {
        sgt.setNents(0);
        throw new KernelError("EIO", "dma_map_sgtable", `segment ${i} above the dma mask`);
      }
      sgt.setDma(i, phys, len);
    }
    sgt.setNents(n);
    this.syncSgtableForDevice(dev, sgt, dir);
  }

  /** Unmaps `sgt` (`dma_unmap_sgtable`), syncing for the CPU first. */
  unmapSgtable(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    this.syncSgtableForCpu(dev, sgt, dir);
    sgt.setNents(0);
  }

  /** Makes the device's writes visible to the CPU (`dma_sync_sgtable_for_cpu`). */
  syncSgtableForCpu(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    if (dev.coherent) return;
    sgt.forEachRange(this.pageSize, (phys, len) => this.hooks.syncForCpu(dev, phys, len, dir));
  }

  /** Makes the CPU's writes visible to the device (`dma_sync_sgtable_for_device`). */
  syncSgtableForDevice(dev: Device, sgt: SgTable, dir: DmaDirection): void {
    if (dev.coherent) return;
    sgt.forEachRange(this.pageSize, (phys, len) => this.hooks.syncForDevice(dev, phys, len, dir));
  }
}
