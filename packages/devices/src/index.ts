// @dmabuf/devices: device models, the CPU cache model and the coherency checker.

export { CPU_ACCESS_COST_NS } from "./access-cost.js";
export { type BufferLocation, locateBuffer } from "./buffer-locator.js";
export {
  CacheModel,
  type CacheModelConfig,
  type CacheModelConfigInput,
  type CacheStats,
  cacheModelConfigSchema,
  cacheModelOf,
  installCacheModel,
} from "./cache-model.js";
export { Camera, type CameraConfigInput, cameraConfigSchema, framePattern } from "./camera.js";
export { cameraV4l2 } from "./camera-v4l2.js";
export {
  CoherencyChecker,
  type CoherencyError,
  CoherencyViolation,
  type CoherencyViolationKind,
  isCoherencyError,
  type ViolationBuffer,
} from "./coherency.js";
export {
  type DeviceConfigInput,
  type DeviceImportOptions,
  DeviceModel,
  deviceConfigSchema,
  deviceSpec,
  ImportedBuffer,
} from "./device-model.js";
export {
  type DrmDriverHooks,
  type DrmDriverInfo,
  DrmFile,
  type DrmGemObject,
  drmFileOperations,
  drmMinor,
  drmRdev,
} from "./drm-node.js";
export { dumbIoctl } from "./dumb-buffers.js";
export { DmaEngine, type EngineJob, transferTime } from "./engine.js";
export { GemShmemDevice, GemShmemObject } from "./gem-shmem.js";
export { LineSet, LineTags } from "./line-set.js";
export {
  MemcpyEngine,
  type MemcpyEngineConfigInput,
  memcpyEngineConfigSchema,
} from "./memcpy-engine.js";
export { SetAssociativeLru } from "./residency.js";
export { Scanout, type ScanoutConfigInput, scanoutConfigSchema } from "./scanout.js";
export {
  SCANOUT_CONNECTOR_ID,
  SCANOUT_CRTC_ID,
  SCANOUT_ENCODER_ID,
  scanoutKms,
} from "./scanout-kms.js";
export { SgEngine, type SgEngineConfigInput, sgEngineConfigSchema } from "./sg-engine.js";
export { Vgem, type VgemConfigInput, vgemConfigSchema } from "./vgem.js";
