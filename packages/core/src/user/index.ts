// user: helpers a user-space program would write over the raw ioctls and /proc files.

export {
  type BufferUsage,
  type DmabufDump,
  dmabufDump,
  formatDmabufDump,
  type ProcessUsage,
} from "./accounting.js";
export {
  type AllocOptions,
  allocFromHeap,
  type CpuAccess,
  setBufferName,
  syncBuffer,
  withCpuAccess,
} from "./helpers.js";
