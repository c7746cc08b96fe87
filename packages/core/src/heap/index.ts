// heap: the DMA-BUF heap framework.

export {
  DMA_HEAP_MAJOR,
  DmaHeap,
  type DmaHeapExportInfo,
  type DmaHeapHost,
  DmaHeapRegistry,
  NUM_HEAP_MINORS,
} from "./dma-heap.js";
export { HeapAttachments } from "./heap-attachments.js";
export type { DmaHeapHandle, DmaHeapOps, HeapCapabilities } from "./ops.js";
