// KernelConfigError: createKernel was given a configuration it cannot boot.

/** An invalid {@link createKernel} configuration; the message lists every problem. */
export class KernelConfigError extends Error {
  /** Stable code. */
  readonly code = "KERNEL_CONFIG_INVALID";
  /** @param message - the prettified zod issues */
  constructor(message: string) {
    super(message);
    this.name = "KernelConfigError";
  }
}
