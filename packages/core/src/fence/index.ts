// fence: dma_fence, dma_fence_array, dma_resv, sync_file and sw_sync.

export {
  DmaFence,
  DmaFenceCb,
  type DmaFenceFunc,
  type DmaFenceOps,
  type FenceHost,
  FenceRegistry,
  isLaterSeqno,
  MAX_SCHEDULE_TIMEOUT,
} from "./dma-fence.js";
export { DmaFenceArray } from "./dma-fence-array.js";
export { dmaFenceUnwrap, dmaFenceUnwrapMerge } from "./dma-fence-unwrap.js";
export {
  DMA_RESV_USAGE_BOOKKEEP,
  DMA_RESV_USAGE_KERNEL,
  DMA_RESV_USAGE_NAMES,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  DmaResv,
  type DmaResvEntry,
  type DmaResvUsage,
  dmaResvUsageRw,
} from "./dma-resv.js";
export { SW_SYNC_PATH, SwSync, SwSyncPt, SYNC_INFO_PATH, SyncTimeline } from "./sw-sync.js";
export {
  isSyncFile,
  SyncFile,
  syncFileCreate,
  syncFileFdget,
  syncFileGetFence,
} from "./sync-file.js";
