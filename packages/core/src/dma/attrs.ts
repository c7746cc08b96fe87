// DMA mapping attributes (DMA_ATTR_*): the `attrs` of dma_map_sgtable and dma_unmap_sgtable.

/**
 * `DMA_ATTR_SKIP_CPU_SYNC` (Linux's value, bit 5): the mapping call does no cache maintenance
 * — `dma_map_sgtable` does not sync for the device and `dma_unmap_sgtable` does not sync for
 * the CPU. For memory the CPU maps uncached or write-combined (nothing of it is in the CPU
 * caches), or memory already synced for another device. Explicit
 * `dma_sync_sgtable_for_cpu/_for_device` calls still do their maintenance.
 *
 * DMA-API debugging tracks such mappings like any other (unmap and sync checks apply) and, as
 * Linux's does, does not compare the attributes of a map and its unmap.
 */
export const DMA_ATTR_SKIP_CPU_SYNC = 1 << 5;
