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
   * dma_resv_add_fence replaces an entry of the same context only when the new fence is later
   * or the same fence (mainline); 6.1 replaces it whatever the seqno.
   */
  readonly resvAddSeqnoCheck: boolean;
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
   * udmabuf after its folio rework (post-6.1): the pages are pinned with memfd_pin_folios
   * (hugetlb pages are allocated when pinned instead of having to be present), each device
   * mapping has one sg entry per page, mmap is a PFN mapping pre-faulted on first touch, and
   * vmap exists. 6.1 coalesces contiguous pages into one entry, faults pages in one at a time
   * and has no vmap (EINVAL).
   */
  readonly udmabufFolios: boolean;
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
    resvAddSeqnoCheck: true,
    fenceNamesDetachOnSignal: true,
    fenceDeadlines: true,
    memfdExec: true,
    sealArgLow32: true,
    udmabufFolios: true,
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
    resvAddSeqnoCheck: true,
    fenceNamesDetachOnSignal: false,
    fenceDeadlines: true,
    memfdExec: true,
    sealArgLow32: true,
    udmabufFolios: true,
    udmabufPrefault: false,
  },
  // Linux 6.6 as tagged: shmem's stable directory offsets arrived in 6.6; fence deadlines and
  // MFD_EXEC in 6.3; udmabuf still pins pages (its folio rework is 6.11), the seqno check in
  // dma_resv_add_fence came with 6.7 (and stable 6.6.y backports it).
  "6.6": {
    version: "6.6",
    sgtCaching: true,
    sysfsStats: true,
    devtmpfsNewestFirst: false,
    cmaHeapPerArea: false,
    resvAddSeqnoCheck: false,
    fenceNamesDetachOnSignal: false,
    fenceDeadlines: true,
    memfdExec: true,
    sealArgLow32: true,
    udmabufFolios: false,
    udmabufPrefault: false,
  },
  "6.1": {
    version: "6.1",
    sgtCaching: true,
    sysfsStats: true,
    devtmpfsNewestFirst: true,
    cmaHeapPerArea: false,
    resvAddSeqnoCheck: false,
    fenceNamesDetachOnSignal: false,
    fenceDeadlines: false,
    memfdExec: false,
    sealArgLow32: false,
    udmabufFolios: false,
    udmabufPrefault: false,
  },
};
