// @dmabuf/wasm: C programs compiled to wasm32-wasi, run as processes of a model kernel.

export { linuxAbiHeader, strerrorTable } from "./abi.js";
export { CompileError, type CompileOptions, compileC, type SourceTree } from "./compile.js";
export { instrumentMemory } from "./instrument.js";
export { IOCTL_MARSHAL, type Marshal } from "./ioctl-marshal.js";
export {
  checkImports,
  type RunOptions,
  type RunResult,
  runWasm,
  WasmImportError,
} from "./runtime.js";
export {
  type KernelSource,
  obtainKernelSource,
  selftestTree,
  UAPI_DEFINES,
  uapiIncludeTree,
} from "./selftests/kernel-sources.js";
export { REFUSED_WASI_IMPORTS } from "./wasi.js";
export type { AccessStats } from "./windows.js";
