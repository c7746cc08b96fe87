// dma-buf: buffers, attachments, the exporter/importer contracts and the in-kernel API.

export { renderBufinfo } from "./bufinfo.js";
export { DMABUF_FS_DEV, DMABUF_FS_MNT_ID, DmaBufCore, type DmaBufHost } from "./core.js";
export { DmaBuf, DmaBufAttachment } from "./dma-buf.js";
export { type ExportInfo, exportInfoSchema } from "./export-info.js";
export { KernelMapping } from "./kernel-mapping.js";
export type { DmaBufAttachOps, DmaBufOps } from "./ops.js";
