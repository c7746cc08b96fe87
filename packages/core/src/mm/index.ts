// Models memory management: physical RAM, page-frame metadata, the buddy allocator, sg tables.

export {
  type AllocPagesOptions,
  BuddyAllocator,
  type BuddyAllocatorOptions,
  BuddyError,
  type BuddyErrorCode,
  MAX_ORDER,
} from "./buddy.js";
export { CPU_CACHINGS, type CpuCaching } from "./caching.js";
export { CmaArea, type FreeRunStats } from "./cma.js";
export { CoherentCpuPort, type CpuPort } from "./cpu-port.js";
export {
  HUGE_PAGE_SIZE_1G,
  HUGE_PAGE_SIZE_2M,
  HugePagePool,
  HugeTlb,
} from "./hugetlb.js";
export { type CpuHolder, Mapping } from "./mapping.js";
export {
  FRAME_SECTION_SHIFT,
  frameSectionShift,
  MAX_PAGE_FRAMES,
  PageFrames,
  PG_BUDDY,
  PG_CMA,
  PG_HEAD,
  PG_RESERVED,
} from "./page-frames.js";
export { bufferInWords, type PageOwnerHolding, PageOwners } from "./page-owner.js";
export { PageTable } from "./page-table.js";
export { forEachPhysRun } from "./phys-runs.js";
export { PhysicalMemory, type PhysicalMemoryOptions } from "./physical-memory.js";
export { MemoryReservations, type ReservedRegion, type ReserveRequest } from "./reserve.js";
export { SgTableAllocator } from "./sg-alloc.js";
export { SgTable } from "./sg-table.js";
export {
  HUGETLBFS_DEV,
  SHMEM_DEV,
  SHMEM_MNT_ID,
  ShmemFs,
  type ShmemHost,
  ShmemInode,
  type ShmemPin,
  shmemInodeOf,
} from "./shmem.js";
export { Vma, type VmaOperations } from "./vma.js";
