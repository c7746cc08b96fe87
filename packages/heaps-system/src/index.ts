// @dmabuf/heaps-system: the system DMA-BUF heaps (/dev/dma_heap/system and system-uncached).

export { SystemHeap, type SystemHeapBuffer } from "./system-heap.js";
export { SystemUncachedHeap } from "./system-uncached-heap.js";
