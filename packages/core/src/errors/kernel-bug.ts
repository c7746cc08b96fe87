// KernelBug and KernelSignal: conditions where Linux would BUG(), WARN or kill the task.

import type { BugCode, SignalCode } from "./catalog.js";

/**
 * A condition on which Linux would `BUG()` or which DMA-API debugging reports: a contract
 * broken by a plugin or an in-kernel caller (releasing a vmapped buffer, unmapping a table
 * twice, …), as opposed to bad input from user space, which is a {@link KernelError}.
 *
 * @remarks The `code` is one of {@link BugCode}; the catalog in `docs/errors.md` explains each.
 */
export class KernelBug extends Error {
  /** Stable code naming the broken rule. */
  readonly code: BugCode;
  /**
   * @param code - the broken rule
   * @param detail - what happened, in words
   */
  constructor(code: BugCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = "KernelBug";
    this.code = code;
  }
}

/**
 * A signal delivered to the process for a memory access, e.g. `SIGBUS` when a mapping is
 * touched past the pages its exporter can provide.
 */
export class KernelSignal extends Error {
  /** The signal's name. */
  readonly code: SignalCode;
  /** The faulting virtual address. */
  readonly address: number;
  /**
   * @param code - the signal
   * @param address - the faulting address
   * @param detail - what happened, in words
   */
  constructor(code: SignalCode, address: number, detail: string) {
    super(`${code} at 0x${address.toString(16)}: ${detail}`);
    this.name = "KernelSignal";
    this.code = code;
    this.address = address;
  }
}
