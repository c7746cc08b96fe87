// shmem-backed GEM objects (drm_gem_shmem_object): dumb buffers, fake mmap offsets, PRIME export.

import {
  type Device,
  type DeviceHost,
  DMA_ATTR_SKIP_CPU_SYNC,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaBufOps,
  type DmaDirection,
  type File,
  KernelError,
  KernelMapping,
  SgTable,
  type ShmemInode,
  type ShmemPin,
  shmemInodeOf,
  type Vma,
} from "@dmabuf/core";
import { DRM_FILE_PAGE_OFFSET_START_BYTES, DRM_RDWR, O_RDONLY, O_RDWR } from "@dmabuf/core/uapi";
import type { DrmGemObject } from "./drm-node.js";

/**
 * One GEM object over an internal tmpfs file (`shmem_file_setup("drm mm object")`): its pages
 * are allocated when first needed (mmap, PRIME attach, vmap) and held while any of those uses
 * lasts (`pages_use_count`); they stay in the file until the object is freed with its last
 * reference (handles, exported dma-buf, mappings).
 */
export class GemShmemObject implements DrmGemObject {
  /** Size in bytes (page aligned). */
  readonly size: number;
  /** The backing file; the object holds its one reference. */
  readonly file: File;
  /** The backing file's inode. */
  readonly inode: ShmemInode;
  /** The dma-buf exported from it while it has handles (`obj->dma_buf`). */
  dmaBuf: DmaBuf<GemShmemObject> | null = null;
  /** First page of its fake mmap offset (`vma_node`), once MAP_DUMB or a dma-buf mmap made one. */
  offsetPage: number | null = null;
  #refs = 1;
  #handles = 0;
  #pagesUse = 0;
  #pin: ShmemPin | null = null;

  /**
   * @param dev - the device's GEM state
   * @param size - page-aligned size in bytes
   */
  constructor(
    readonly dev: GemShmemDevice,
    size: number,
  ) {
    this.size = size;
    this.file = dev.host.shmem.createFile("drm mm object", { uid: 0, gid: 0 }, 0o777, null);
    this.inode = shmemInodeOf(this.file) as ShmemInode;
    this.inode.size = size;
  }

  /** References held (handles' object, the dma-buf, mappings); 0 once freed. */
  get refCount(): number {
    return this.#refs;
  }
  /** Handles in every open file. */
  get handleCount(): number {
    return this.#handles;
  }
  /** The page frames while pages are held (`shmem->pages`), else null. */
  get pfns(): Float64Array | null {
    return this.#pin?.pfns ?? null;
  }

  /** `drm_gem_object_get`. */
  get(): void {
    this.#refs++;
  }

  /** `drm_gem_object_put`: the last reference frees the object and its backing file. */
  put(): void {
    if (--this.#refs > 0) return;
    this.dev.removeOffset(this);
    this.dev.live.delete(this);
    this.file.put();
  }

  /**
   * `drm_gem_shmem_get_pages`: the first use pins every page of the file (allocating them).
   * @throws KernelError ENOMEM when a page cannot be had (nothing is left pinned).
   */
  getPages(): Float64Array {
    if (this.#pin === null) {
      this.#pin = this.inode.pin(0, this.size / this.dev.host.pageSize, true);
    }
    this.#pagesUse++;
    return this.#pin.pfns;
  }

  /** `drm_gem_shmem_put_pages`: the last use gives the pages back to the file. */
  putPages(): void {
    if (--this.#pagesUse > 0 || this.#pin === null) return;
    this.inode.unpin(this.#pin);
    this.#pin = null;
  }

  /** {@inheritDoc DrmGemObject.handleOpened} */
  handleOpened(): void {
    this.#handles++;
    this.get();
  }

  /** {@inheritDoc DrmGemObject.handleClosed} */
  handleClosed(): void {
    if (--this.#handles === 0 && this.dmaBuf) {
      // drm_gem_object_exported_dma_buf_free: the object lets go of its cached export.
      const buf = this.dmaBuf;
      this.dmaBuf = null;
      this.dev.host.dmaBuf.put(buf);
    }
    this.put();
  }

  /** {@inheritDoc DrmGemObject.exportDmaBuf} */
  exportDmaBuf(flags: number): DmaBuf {
    const core = this.dev.host.dmaBuf;
    if (this.#handles === 0) throw new KernelError("ENOENT", "drm_gem_prime_handle_to_fd");
    if (this.dmaBuf) return core.getDmaBuf(this.dmaBuf);
    const buf = core.export({
      expName: "drm",
      owner: this.dev.owner,
      ops: this.dev.ops,
      size: this.size,
      flags: flags & DRM_RDWR ? O_RDWR : O_RDONLY,
      priv: this,
    });
    this.get(); // the dma-buf's reference on the object, dropped at its release
    this.dmaBuf = buf;
    return core.getDmaBuf(buf);
  }
}

/**
 * The GEM state of one DRM device whose objects are shmem-backed (vgem's
 * `DRM_GEM_SHMEM_DRIVER_OPS`): dumb buffer creation, the fake mmap offsets of its objects
 * (`vma_offset_manager`, best fit from 4 GiB) and the dma-buf ops of its PRIME exports
 * (`drm_gem_prime_dmabuf_ops`: attach pins the pages, a mapping is built from them with
 * contiguous pages merged, mmap and vmap hold the pages; no CPU-access hooks).
 */
export class GemShmemDevice {
  /** The exporter methods of the device's PRIME exports. */
  readonly ops: DmaBufOps<GemShmemObject>;
  /** Objects not yet freed. */
  readonly live = new Set<GemShmemObject>();
  readonly #offsets: GemShmemObject[] = [];

  /**
   * @param host - the device host
   * @param device - the DRM device (`obj->dev->dev`, whose segment limit splits sg entries)
   * @param owner - the driver module, for the exported buffers' owner
   * @param mapWc - whether CPU mappings (mmap and vmap) of its objects are write-combined
   * (`drm_gem_shmem_object.map_wc`: vgem sets it, having no CPU-access hooks to sync with)
   */
  constructor(
    readonly host: DeviceHost,
    readonly device: Device,
    readonly owner: string,
    readonly mapWc = false,
  ) {
    this.ops = gemPrimeOps(this);
  }

  /**
   * Creates an object of `size` bytes (page aligned) with no pages yet; the caller owns its
   * reference.
   */
  create(size: number): GemShmemObject {
    const obj = new GemShmemObject(this, size);
    this.live.add(obj);
    return obj;
  }

  /**
   * `drm_gem_create_mmap_offset`: gives `obj` a fake offset if it has none (the smallest free
   * range that fits, lowest first). @returns the offset in bytes
   */
  mmapOffset(obj: GemShmemObject): number {
    const ps = this.host.pageSize;
    if (obj.offsetPage === null) {
      const pages = obj.size / ps;
      const sorted = [...this.#offsets].sort(
        (a, b) => (a.offsetPage as number) - (b.offsetPage as number),
      );
      let best = -1;
      let bestLen = Number.POSITIVE_INFINITY;
      let at = DRM_FILE_PAGE_OFFSET_START_BYTES / ps;
      for (const o of sorted) {
        const hole = (o.offsetPage as number) - at;
        if (hole >= pages && hole < bestLen) {
          best = at;
          bestLen = hole;
        }
        at = (o.offsetPage as number) + o.size / ps;
      }
      obj.offsetPage = best >= 0 ? best : at;
      this.#offsets.push(obj);
    }
    return obj.offsetPage * ps;
  }

  /** `drm_gem_free_mmap_offset`, at the object's release. */
  removeOffset(obj: GemShmemObject): void {
    const i = this.#offsets.indexOf(obj);
    if (i >= 0) this.#offsets.splice(i, 1);
    obj.offsetPage = null;
  }

  /**
   * `drm_vma_offset_exact_lookup_locked`: the object whose offset starts at page `pgoff` and
   * spans at least `pages` pages.
   */
  lookupOffset(pgoff: number, pages: number): GemShmemObject | undefined {
    return this.#offsets.find(
      (o) => o.offsetPage === pgoff && pages <= o.size / this.host.pageSize && o.refCount > 0,
    );
  }

  /**
   * `drm_gem_mmap_obj` + `drm_gem_shmem_mmap`: the mapping holds a reference and a use of the
   * pages, both dropped at its close; the pages are inserted one per fault (a PFN mapping),
   * page `i` of the mapping being page `i` of the object (the shmem fault handler counts from
   * the mapping's start, not from its offset).
   * @throws KernelError EINVAL when the mapping is longer than the object or is a private
   * writable (copy-on-write) one; ENOMEM from the page allocation.
   */
  mmap(obj: GemShmemObject, vma: Vma): void {
    if (obj.size < vma.length) throw new KernelError("EINVAL", "drm_gem_mmap_obj", "too long");
    if (!vma.shared && vma.mayWrite) {
      throw new KernelError("EINVAL", "drm_gem_shmem_mmap", "copy-on-write mapping");
    }
    const pfns = obj.getPages();
    obj.get();
    if (this.mapWc) vma.caching = "write-combine";
    vma.pfnmap = true;
    vma.privateData = obj;
    const pages = obj.size / this.host.pageSize;
    vma.ops = {
      fault: (v, pgoff) => {
        const i = pgoff - v.pgoff;
        return i < pages ? (pfns[i] as number) : -1;
      },
      open: () => {
        obj.getPages();
        obj.get();
      },
      close: () => {
        obj.putPages();
        obj.put();
      },
    };
  }
}

/**
 * The dma-buf ops of a GEM export (`drm_gem_prime_dmabuf_ops`). As `drm_gem_map_dma_buf` and
 * `drm_gem_unmap_dma_buf` do, an importer's table is mapped and unmapped with
 * DMA_ATTR_SKIP_CPU_SYNC: a GEM export does no cache maintenance at map time (and has no
 * begin/end_cpu_access), so CPU coherency is the drivers' concern (vgem maps write-combined).
 */
function gemPrimeOps(dev: GemShmemDevice): DmaBufOps<GemShmemObject> {
  const ps = dev.host.pageSize;
  const objOf = (a: DmaBufAttachment) => a.dmabuf.priv as GemShmemObject;
  return {
    cacheSgtMapping: true,
    attach: (buf) => {
      buf.priv.getPages();
    },
    detach: (buf) => buf.priv.putPages(),
    mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
      const pfns = objOf(attachment).pfns;
      if (!pfns) throw new KernelError("EINVAL", "drm_gem_shmem_get_sg_table", "no pages");
      const sgt = dev.host.sg.fromPages(pfns);
      dev.host.dma.mapSgtable(attachment.dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
      return sgt;
    },
    unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
      dev.host.dma.unmapSgtable(attachment.dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
    },
    release: (buf) => buf.priv.put(),
    mmap: (buf, vma) => {
      dev.mmapOffset(buf.priv);
      dev.mmap(buf.priv, vma);
    },
    vmap: (buf) =>
      new KernelMapping(buf.priv.getPages(), ps, dev.host, dev.mapWc ? "write-combine" : "cached"),
    vunmap: (buf) => buf.priv.putPages(),
  };
}
