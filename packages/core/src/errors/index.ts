// errno: the Linux errno table, KernelError, KernelBug/KernelSignal and the error catalog.

export * from "./catalog.js";
export * from "./errno.js";
export * from "./kernel-bug.js";
export * from "./kernel-config-error.js";
export * from "./kernel-error.js";
export * from "./plugin-fault.js";
