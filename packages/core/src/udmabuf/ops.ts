// udmabuf's dma_buf_ops: a dma-buf over pinned memfd pages, with the misc device's own mapping.

import type { Device } from "../dma/device.js";
import { DMA_BIDIRECTIONAL, type DmaDirection } from "../dma/direction.js";
import type { DmaMappingApi } from "../dma/mapping.js";
import type { DmaBuf, DmaBufAttachment } from "../dma-buf/dma-buf.js";
import { KernelMapping } from "../dma-buf/kernel-mapping.js";
import type { DmaBufOps } from "../dma-buf/ops.js";
import { KernelError } from "../errors/kernel-error.js";
import type { CpuHolder } from "../mm/mapping.js";
import type { SgTableAllocator } from "../mm/sg-alloc.js";
import type { SgTable } from "../mm/sg-table.js";
import type { ShmemInode, ShmemPin } from "../mm/shmem.js";
import type { Vma } from "../mm/vma.js";
import type { KernelProfile } from "../profile.js";

/** What the udmabuf exporter needs from its kernel. */
export interface UdmabufOpsHost extends CpuHolder {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Behaviour switches of the kernel version (`udmabufFolios`, `udmabufVmap`). */
  readonly profile: KernelProfile;
  /** The DMA mapping API. */
  readonly dma: DmaMappingApi;
  /** sg-table allocation (fails as `kernel.faults` says). */
  readonly sg: SgTableAllocator;
}

/** One memfd range a udmabuf holds: the memfd's inode and the pin on its pages. */
export interface UdmabufPin {
  /** The memfd's inode (it outlives the memfd's fds while pinned). */
  readonly inode: ShmemInode;
  /** The pinned pages. */
  readonly pin: ShmemPin;
}

/** A udmabuf's private data (`struct udmabuf`): the pinned pages, in buffer order. */
export class Udmabuf {
  /** Pages in the buffer. */
  readonly pagecount: number;
  /** The frame of each page, in buffer order. */
  readonly pfns: Float64Array;
  /** The memfd pins, in item order; released with the buffer. */
  readonly pins: readonly UdmabufPin[];
  /**
   * The misc device's own mapping of the pages, made by the first CPU-access begin (in that
   * call's direction) and kept until release; null before.
   */
  sg: SgTable | null = null;

  /** @param pins - the pinned ranges, in item order */
  constructor(pins: readonly UdmabufPin[]) {
    this.pins = pins;
    let n = 0;
    for (const p of pins) n += p.pin.pfns.length;
    this.pagecount = n;
    this.pfns = new Float64Array(n);
    let at = 0;
    for (const p of pins) {
      this.pfns.set(p.pin.pfns, at);
      at += p.pin.pfns.length;
    }
  }
}

/**
 * The exporter methods of /dev/udmabuf buffers (`udmabuf_ops`). The buffer's pages are the
 * memfd's own page-cache pages, pinned, so the buffer and the memfd always see the same bytes.
 *
 * @remarks DMA-API debugging reports the misc device's own mapping when it is synced or
 * unmapped in another direction than the first SYNC START mapped it in (Linux's udmabuf does
 * exactly that); for this device such reports are recorded and logged, never thrown.
 */
export class UdmabufOps implements DmaBufOps<Udmabuf> {
  /**
   * 6.1: the core caches each attachment's first mapping (`cache_sgt_mapping`); ignored by
   * the 6.18 profile, as udmabuf no longer sets it.
   */
  readonly cacheSgtMapping = true;
  /**
   * Map the whole buffer into the kernel (`vm_map_ram` of the pinned pages). Called by
   * {@link DmaBufCore.vmap} for the first user. **Optional**: present only under profiles with
   * `udmabufVmap` (6.2+); Linux 6.1's udmabuf has none, so dma_buf_vmap fails with EINVAL there.
   */
  readonly vmap?: (buf: DmaBuf<Udmabuf>) => KernelMapping;
  /**
   * Tear down the kernel mapping (nothing to free in the model). Called by
   * {@link DmaBufCore.vunmap} for the last user. **Optional**: present with `vmap`.
   */
  readonly vunmap?: (buf: DmaBuf<Udmabuf>, map: KernelMapping) => void;

  /**
   * @param host - the kernel
   * @param device - the misc device `udmabuf` (CPU access maps the pages for it)
   */
  constructor(
    private readonly host: UdmabufOpsHost,
    readonly device: Device,
  ) {
    if (host.profile.udmabufVmap) {
      this.vmap = (buf) => new KernelMapping(buf.priv.pfns, host.pageSize, host);
      this.vunmap = () => {};
    }
  }

  /**
   * A fresh table of the buffer's pages, DMA-mapped for `dev` (`get_sg_table`): one entry per
   * page (6.18), or physically contiguous pages coalesced into one entry (6.1's
   * `sg_alloc_table_from_pages`).
   */
  #sgTable(dev: Device, priv: Udmabuf, dir: DmaDirection): SgTable {
    const ps = this.host.pageSize;
    let sgt: SgTable;
    if (this.host.profile.udmabufFolios) {
      sgt = this.host.sg.alloc(priv.pagecount);
      for (const pfn of priv.pfns) sgt.append(pfn, ps);
    } else {
      sgt = this.host.sg.fromPages(priv.pfns);
    }
    this.host.dma.mapSgtable(dev, sgt, dir);
    return sgt;
  }

  /**
   * Build a new table for the attachment's device and map it (`map_udmabuf`). Called by
   * {@link DmaBufCore.mapAttachment}. **Required**. Every call makes a new table.
   * @throws KernelError the DMA mapping error (EIO above the dma mask, ENOMEM out of IOVA).
   * @see dma_buf_map_attachment
   */
  mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    return this.#sgTable(attachment.dev, attachment.dmabuf.priv as Udmabuf, dir);
  }

  /**
   * Unmap and free a table from `mapDmaBuf` (`unmap_udmabuf`). Called by
   * {@link DmaBufCore.unmapAttachment}. **Required**.
   */
  unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    this.host.dma.unmapSgtable(attachment.dev, sgt, dir);
  }

  /**
   * Free the buffer (`release_udmabuf`): unmap the misc device's own table as
   * DMA_BIDIRECTIONAL (whatever direction it was mapped in, as Linux does), then drop every
   * page pin; pages whose memfd is gone are freed now. Called once by the core after the last
   * reference. **Required**.
   */
  release(buf: DmaBuf<Udmabuf>): void {
    const priv = buf.priv;
    if (priv.sg) {
      this.host.dma.unmapSgtable(this.device, priv.sg, DMA_BIDIRECTIONAL);
      priv.sg = null;
    }
    for (const { inode, pin } of priv.pins) inode.unpin(pin);
  }

  /**
   * SYNC START (`begin_cpu_udmabuf`): the first call maps the pages for the misc device in
   * direction `dir` and keeps that table; later calls sync it for the CPU. Called by
   * {@link DmaBufCore.beginCpuAccess}. **Optional**.
   * @throws KernelError the DMA mapping error of the first call.
   */
  beginCpuAccess(buf: DmaBuf<Udmabuf>, dir: DmaDirection): void {
    const priv = buf.priv;
    if (!priv.sg) priv.sg = this.#sgTable(this.device, priv, dir);
    else this.host.dma.syncSgtableForCpu(this.device, priv.sg, dir);
  }

  /**
   * SYNC END (`end_cpu_udmabuf`): sync the misc device's table for the device. Called by
   * {@link DmaBufCore.endCpuAccess}. **Optional**.
   * @throws KernelError EINVAL when no SYNC START ever ran (there is no table yet).
   */
  endCpuAccess(buf: DmaBuf<Udmabuf>, dir: DmaDirection): void {
    const priv = buf.priv;
    if (!priv.sg) throw new KernelError("EINVAL", "end_cpu_udmabuf", "no SYNC START before");
    this.host.dma.syncSgtableForDevice(this.device, priv.sg, dir);
  }

  /**
   * Set up a user mapping (`mmap_udmabuf`): shared mappings only; pages fault in from the
   * pinned frames (6.1: one page per fault; 6.12: a PFN mapping, one page per fault; 6.18: the
   * whole range pre-faulted on first touch). A touch past the buffer (after mremap grew the mapping) raises SIGBUS.
   * Called by mmap() after the core's range check. **Optional**.
   * @throws KernelError EINVAL for a MAP_PRIVATE mapping.
   */
  mmap(buf: DmaBuf<Udmabuf>, vma: Vma): void {
    if (!vma.shared) throw new KernelError("EINVAL", "mmap", "udmabuf mappings must be shared");
    const priv = buf.priv;
    vma.privateData = priv;
    if (!this.host.profile.udmabufFolios) {
      vma.ops = {
        fault: (_vma, pgoff) => (pgoff < priv.pagecount ? (priv.pfns[pgoff] as number) : -1),
      };
      return;
    }
    vma.pfnmap = true;
    const prefault = this.host.profile.udmabufPrefault;
    vma.ops = {
      fault(v, pgoff) {
        if (pgoff >= priv.pagecount) return -1;
        if (!prefault) return priv.pfns[pgoff] as number;
        for (let i = 0; i < v.pageCount; i++) {
          const p = v.pgoff + i;
          if (p < priv.pagecount && v.pages.get(i) < 0) v.pages.set(i, priv.pfns[p] as number);
        }
        return priv.pfns[pgoff] as number;
      },
    };
  }
}
