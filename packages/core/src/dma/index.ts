// dma: devices, the DMA mapping API with IOMMU and DMA-API debugging, and device ports.

export { DmaAddressSpace, type DmaExtent, IovaAllocator } from "./address-space.js";
export { DMA_ATTR_SKIP_CPU_SYNC } from "./attrs.js";
export { DirectDmaBus, type DmaBufferLabel, type DmaBus } from "./bus.js";
export {
  DMA_DEBUG_CODES,
  DmaDebug,
  type DmaDebugCode,
  type DmaDebugReport,
} from "./debug.js";
export { Device, type DeviceSpec, deviceSpecSchema } from "./device.js";
export * from "./direction.js";
export {
  coherentSyncHooks,
  DmaMappingApi,
  type DmaMappingOptions,
  type DmaSyncHooks,
  dmaContiguousSize,
} from "./mapping.js";
export { DmaPort } from "./port.js";
