// The CPU's path to physical memory: every CPU access (user mappings, vmap) goes through a port.

import type { CpuCaching } from "./caching.js";
import type { PhysicalMemory } from "./physical-memory.js";

/**
 * How the CPU reaches physical memory. The default port is fully coherent and goes straight
 * to RAM; `@dmabuf/devices` supplies a write-back cache model that implements the same
 * interface, so every CPU access in the model can be observed and checked.
 *
 * Every access carries the memory type of the mapping it goes through ({@link CpuCaching},
 * default `cached`): user mappings pass their VMA's, kernel mappings their own. A port with
 * caches must let an access that is not `cached` bypass them (no line allocated, straight to
 * RAM); a port without caches may ignore it.
 */
export interface CpuPort {
  /**
   * Copies `length` bytes at physical address `phys` into `dst` at `dstOffset`.
   * @param caching - the memory type of the mapping the load goes through (default `cached`)
   */
  read(
    phys: number,
    length: number,
    dst: Uint8Array,
    dstOffset: number,
    caching?: CpuCaching,
  ): void;
  /**
   * Stores `src` at physical address `phys`.
   * @param caching - the memory type of the mapping the store goes through (default `cached`)
   */
  write(phys: number, src: Uint8Array, caching?: CpuCaching): void;
  /**
   * Stores `length` copies of `value` at `phys`.
   * @param caching - the memory type of the mapping the store goes through (default `cached`)
   */
  fill(phys: number, length: number, value: number, caching?: CpuCaching): void;
  /**
   * Optional. The RAM that single loads and stores may reach directly, bypassing this port
   * (through {@link PhysicalMemory.pageBacking}), or `null` when every access must go through
   * `read`/`write`/`fill`.
   *
   * Called by: user-space runtimes that serve many small accesses (`@dmabuf/wasm`), once per
   * page they cache; they ask again after anything that may have swapped the port or armed an
   * observer (a syscall). A port that sees, counts or reorders accesses (a cache model) must
   * not implement it, or must return `null`.
   *
   * @returns the memory, or `null`
   */
  directMemory?(): PhysicalMemory | null;
}

/** The default CPU port: no cache, every access goes straight to RAM. */
export class CoherentCpuPort implements CpuPort {
  /** @param memory - the RAM the CPU reaches */
  constructor(private readonly memory: PhysicalMemory) {}
  /** {@inheritDoc CpuPort.read} */
  read(phys: number, length: number, dst: Uint8Array, dstOffset: number): void {
    this.memory.read(phys, length, dst, dstOffset);
  }
  /** {@inheritDoc CpuPort.write} */
  write(phys: number, src: Uint8Array): void {
    this.memory.write(phys, src);
  }
  /** {@inheritDoc CpuPort.fill} */
  fill(phys: number, length: number, value: number): void {
    this.memory.fill(phys, length, value);
  }
  /**
   * The RAM itself, unless something observes writes into it (then `null`: stores must reach
   * {@link PhysicalMemory.write} so the observer is told). A subclass that overrides `read` or
   * `write` must override this too.
   * @returns the memory, or `null`
   */
  directMemory(): PhysicalMemory | null {
    return this.memory.writeObserver === null ? this.memory : null;
  }
}
