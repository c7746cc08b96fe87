// @dmabuf/heaps-system: the system DMA-BUF heap plugin (/dev/dma_heap/system).

export { SystemHeap, type SystemHeapBuffer } from "./system-heap.js";
