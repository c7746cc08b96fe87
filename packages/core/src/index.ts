// @dmabuf/core: an executable model of the Linux DMA-BUF subsystem. This is its public surface.

import "reflect-metadata";

export * from "./config.js";
export * from "./dma/index.js";
export * from "./dma-buf/index.js";
export * from "./errors/index.js";
export { type PageBuffer, PageExporter, type PageExporterHost } from "./examples/page-exporter.js";
export * from "./fault/index.js";
export * from "./fence/index.js";
export * from "./heap/index.js";
export {
  CMA_MIN_ALIGNMENT_BYTES,
  createKernel,
  Kernel,
  type KernelSnapshot,
  type PluginAccounting,
  type SpawnOptions,
} from "./kernel.js";
export * from "./kernel-log.js";
export * from "./mm/index.js";
export {
  type CpuCacheHooks,
  createDeviceHost,
  createExporterHost,
  createHeapHost,
  type DeviceHost,
  type ExporterHost,
  type HeapHost,
  installedCpuCache,
  type PluginHost,
} from "./plugin/hosts.js";
export {
  type DeviceMetadata,
  device,
  type ExporterMetadata,
  exporter,
  type HeapMetadata,
  heap,
  KERNEL,
  PLUGIN_CONFIG,
  type PluginClass,
  type PluginDecorator,
  type PluginMetadata,
  type PluginProbe,
  pluginMetadata,
} from "./plugin/metadata.js";
export {
  checkDeviceContract,
  checkExporterContract,
  checkHeapContract,
  type PluginEntry,
} from "./plugin/registry.js";
export * from "./profile.js";
export * from "./report/index.js";
export { SimClock } from "./time/clock.js";
export * from "./trace/index.js";
export * from "./udmabuf/index.js";
export * from "./user/index.js";
export * from "./vfs/index.js";
