// @dmabuf/heaps-cma: contiguous-memory DMA-BUF heaps — the CMA heap and carveout heaps.

export {
  type CarveoutConfig,
  type CarveoutConfigInput,
  CarveoutHeap,
  type CarveoutRegionConfig,
  carveoutConfigSchema,
  carveoutRegionSchema,
} from "./carveout-heap.js";
export { CMA_ALIGNMENT, CmaHeap, cmaHeapAlignOrder, DEFAULT_CMA_HEAP_NAME } from "./cma-heap.js";
export { type ContiguousRun, expectContiguous, isPhysicallyContiguous } from "./contiguity.js";
export type { ContiguousBuffer } from "./contiguous-buffer.js";
export {
  FRAGMENTATION_DEBUGFS_DIR,
  type FragmentationSeed,
  fragmentationStats,
  type HeapFragmentation,
  type SeedOptions,
  seedFragmentation,
} from "./fragmentation.js";
export { GenPool, type GenPoolAlgorithm } from "./gen-pool.js";
export type { PfnRun } from "./region.js";
