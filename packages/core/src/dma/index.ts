// dma: devices and the DMA mapping API.

export { Device, type DeviceSpec, deviceSpecSchema } from "./device.js";
export * from "./direction.js";
export { coherentSyncHooks, DmaMappingApi, type DmaSyncHooks } from "./mapping.js";
