// Kernel version profiles: the handful of behaviour differences between Linux 6.1, 6.6, 6.12 and 6.18.

/** A kernel version the model can reproduce. */
export type KernelVersion = "6.18" | "6.12" | "6.6" | "6.1";

/**
 * The behaviour switches of one kernel version. Profiles are data: code asks the profile,
 * never the version string.
 */
export interface KernelProfile {
  /** The version this profile reproduces. */
  readonly version: KernelVersion;
  /**
   * 6.1: attachments whose dynamic-ness differs from the exporter's are mapped at attach time
   * and cached, `cacheSgtMapping` is honoured and a direction conflict gives EBUSY.
   */
  readonly sgtCaching: boolean;
  /** /sys/kernel/dmabuf/buffers exists (CONFIG_DMABUF_SYSFS_STATS, up to 6.19). */
  readonly sysfsStats: boolean;
  /**
   * readdir of a devtmpfs directory such as /dev/dma_heap lists the newest entry first
   * (6.1: dcache order); 6.18 lists entries in creation order (stable directory offsets).
   */
  readonly devtmpfsNewestFirst: boolean;
  /**
   * CMA heaps (6.18): `default_cma_region` for the default area plus one heap per CMA area
   * under the area's name. Without it (up to 6.16) only the default area has a heap, under the
   * area's name ("reserved").
   */
  readonly cmaHeapPerArea: boolean;
  /**
   * When dma_resv_add_fence replaces an entry of the same context (usage ≥ the new one):
   * `"later-or-same"` — the new fence is later or the very same fence (mainline since 6.7, and
   * the stable backports); `"later"` — only a strictly later fence, so re-adding the same
   * fence takes a second slot (6.0 to 6.6 as tagged); `"none"` — whatever the seqno (the
   * model's 6.1 profile).
   */
  readonly resvAddSeqnoCheck: "none" | "later" | "later-or-same";
  /**
   * Once a fence has signalled its names read back as `detached-driver` / `signaled-timeline`
   * (bufinfo, SYNC_IOC_FILE_INFO, sync_file names; ~6.16+). 6.1 keeps the driver's names.
   */
  readonly fenceNamesDetachOnSignal: boolean;
  /** Fence deadline hints: SYNC_IOC_SET_DEADLINE and SW_SYNC_GET_DEADLINE exist (6.3+). */
  readonly fenceDeadlines: boolean;
  /**
   * memfd_create accepts MFD_NOEXEC_SEAL and MFD_EXEC, and F_SEAL_EXEC exists (6.3+). 6.1
   * refuses both flags and the seal with EINVAL.
   */
  readonly memfdExec: boolean;
  /**
   * F_ADD_SEALS uses only the low 32 bits of its argument (`1 << 32` adds nothing); 6.1 refuses
   * an argument above 0xffffffff with EINVAL.
   */
  readonly sealArgLow32: boolean;
  /**
   * udmabuf after its folio rework (6.11): the pages are pinned with memfd_pin_folios
   * (hugetlb pages are allocated when pinned instead of having to be present), each device
   * mapping has one sg entry per page and mmap is a PFN mapping. Before it (6.1, 6.6)
   * contiguous pages are coalesced into one entry and pages fault in one at a time.
   */
  readonly udmabufFolios: boolean;
  /**
   * udmabuf has vmap (`vmap_udmabuf`, 6.2+); 6.1 has none, so dma_buf_vmap fails with EINVAL.
   */
  readonly udmabufVmap: boolean;
  /**
   * With `udmabufFolios`: the first fault on a udmabuf mapping inserts every page of the
   * mapping (~6.13+); 6.12 inserts only the faulting page.
   */
  readonly udmabufPrefault: boolean;
}

/** Every profile, by version. */
export const PROFILES: Readonly<Record<KernelVersion, KernelProfile>> = {
  "6.18": {
    version: "6.18",
    sgtCaching: false,
    sysfsStats: true,
    devtmpfsNewestFirst: false,
    cmaHeapPerArea: true,
    resvAddSeqnoCheck: "later-or-same",
    fenceNamesDetachOnSignal: true,
    fenceDeadlines: true,
    memfdExec: true,
    sealArgLow32: true,
    udmabufFolios: true,
    udmabufVmap: true,
    udmabufPrefault: true,
  },
  // Read in Debian's linux-source-6.12 (6.12.118): sg_table caching still present, the
  // dma_resv_add_fence seqno check, memfd_fcntl with an unsigned int argument, udmabuf on
  // memfd_pin_folios with one sg entry per page, a PFN mapping faulted one page at a time and
  // vmap; shmem (devtmpfs) directories with stable offsets; no detached fence names yet.
  "6.12": {
    version: "6.12",
    sgtCaching: true,
    sysfsStats: true,
    devtmpfsNewestFirst: false,
    cmaHeapPerArea: false,
    resvAddSeqnoCheck: "later-or-same",
    fenceNamesDetachOnSignal: false,
    fenceDeadlines: true,
    memfdExec: true,
    sealArgLow32: true,
    udmabufFolios: true,
    udmabufVmap: true,
    udmabufPrefault: false,
  },
  // Linux 6.6 as tagged (v6.6, 2023-10-30), each fact from the commit that made it and its
  // release (kernel sources and the lists' merge records; see SPEC "Kernel versions"):
  // - sg-table caching: still in drivers/dma-buf/dma-buf.c (dma_buf_map_attachment honours
  //   ops->cache_sgt_mapping; 6.12 still has it).
  // - dma_resv_add_fence (drivers/dma-buf/dma-resv.c) replaces a same-context entry only when
  //   dma_fence_is_later(fence, old): a3f7c10a269d "dma-buf/dma-resv: check if the new fence
  //   is really later" (6.0-rc3). The later-or-same form is 95ba893c9f4f (2023-11-15, v6.7,
  //   backported to 6.6.y/6.1.y): not in v6.6.
  // - memfd_fcntl (mm/memfd.c) takes an unsigned int argument: "memfd: pass argument of
  //   memfd_fcntl as int" (mm tree, spring 2023, before 6.6), so F_ADD_SEALS uses the low 32
  //   bits.
  // - MFD_NOEXEC_SEAL/MFD_EXEC and F_SEAL_EXEC (mm/memfd.c memfd_create) and fence deadlines
  //   (drivers/dma-buf/sync_file.c sync_file_ioctl_set_deadline): 6.3.
  // - shmem stable directory offsets (mm/shmem.c with fs/libfs.c simple_offset_*):
  //   a2e459555c5f "shmem: stable directory offsets" (vfs.readdir, 6.6-rc1; its fixes were
  //   backported to linux-6.6.y), so devtmpfs lists in creation order.
  // - udmabuf (drivers/dma-buf/udmabuf.c): pages pinned with shmem_read_mapping_page /
  //   find_get_page_flags (hugetlb pages must be present), get_sg_table coalescing with
  //   sg_alloc_table_from_pages, udmabuf_vm_fault one page per fault; memfd_pin_folios is
  //   6.11. vmap_udmabuf (vm_map_ram of the pinned pages) exists: "udmabuf: Add vmap and
  //   vunmap methods to udmabuf_ops", drm-misc-next for 6.2. Prefaulting is 6.13+.
  // - CMA heap per area (6.17) and detached fence names (~6.16) come later.
  "6.6": {
    version: "6.6",
    sgtCaching: true,
    sysfsStats: true,
    devtmpfsNewestFirst: false,
    cmaHeapPerArea: false,
    resvAddSeqnoCheck: "later",
    fenceNamesDetachOnSignal: false,
    fenceDeadlines: true,
    memfdExec: true,
    sealArgLow32: true,
    udmabufFolios: false,
    udmabufVmap: true,
    udmabufPrefault: false,
  },
  "6.1": {
    version: "6.1",
    sgtCaching: true,
    sysfsStats: true,
    devtmpfsNewestFirst: true,
    cmaHeapPerArea: false,
    resvAddSeqnoCheck: "none",
    fenceNamesDetachOnSignal: false,
    fenceDeadlines: false,
    memfdExec: false,
    sealArgLow32: false,
    udmabufFolios: false,
    udmabufVmap: false,
    udmabufPrefault: false,
  },
};
