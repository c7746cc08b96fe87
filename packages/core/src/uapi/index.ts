// include/uapi: every constant, request code and struct layout user space passes to the kernel.

export * from "./dma-buf.js";
export * from "./dma-heap.js";
export * from "./drm.js";
export * from "./drm-mode.js";
export * from "./fcntl.js";
export * from "./ioctl.js";
export * from "./magic.js";
export * from "./memfd.js";
export * from "./mman.js";
export * from "./poll.js";
export * from "./sw-sync.js";
export * from "./sync-file.js";
export * from "./udmabuf.js";
export * from "./user-copy.js";
export * from "./videodev2.js";
