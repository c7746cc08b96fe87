// A kernel virtual mapping of pages (vmap / iosys_map): CPU access to a buffer from the kernel.

import type { CpuCaching } from "../mm/caching.js";
import type { CpuPort } from "../mm/cpu-port.js";
import { destination } from "../mm/mapping.js";
import { forEachPhysRun } from "../mm/phys-runs.js";

/**
 * A virtually contiguous kernel mapping of a list of page frames, as `vmap()` returns and
 * `struct iosys_map` carries. Loads and stores go through the CPU port in force, with the
 * mapping's memory type ({@link KernelMapping.caching}).
 *
 * @example
 * ```ts
 * // A heap whose CPU mappings are write-combined (vmap(pages, n, VM_MAP, pgprot_writecombine(PAGE_KERNEL))):
 * vmap: (buf) => new KernelMapping(buf.priv.pfns, host.pageSize, host, "write-combine"),
 * ```
 */
export class KernelMapping {
  /** Length of the mapping in bytes. */
  readonly length: number;

  /**
   * @param pfns - the frames, in mapping order
   * @param pageSize - page size in bytes
   * @param host - gives the CPU port
   * @param caching - the memory type of the mapping (vmap's `prot`): `cached` (`PAGE_KERNEL`,
   * the default), `write-combine` (`pgprot_writecombine(PAGE_KERNEL)`) or `uncached`
   */
  constructor(
    readonly pfns: Float64Array,
    readonly pageSize: number,
    private readonly host: { readonly cpu: CpuPort },
    readonly caching: CpuCaching = "cached",
  ) {
    this.length = pfns.length * pageSize;
  }

  /**
   * Loads `length` bytes at `offset`.
   *
   * @param dst - Optional destination, for a caller that reads often and reuses one array; a
   * new array is allocated when omitted.
   * @param dstOffset - Where in `dst` the bytes go (default 0).
   * @returns The bytes read: the new array, or the view of `dst` that was written.
   * @throws RangeError if the range lies outside the mapping or the destination outside `dst`.
   */
  read(offset = 0, length = this.length - offset, dst?: Uint8Array, dstOffset = 0): Uint8Array {
    this.#checkRange(offset, length);
    const out = dst === undefined ? new Uint8Array(length) : destination(dst, dstOffset, length);
    this.#walk(offset, length, (phys, len, at) =>
      this.host.cpu.read(phys, len, out, at, this.caching),
    );
    return out;
  }

  /** Stores `bytes` at `offset`. */
  write(offset: number, bytes: Uint8Array): void {
    this.#walk(offset, bytes.length, (phys, len, at) =>
      this.host.cpu.write(phys, bytes.subarray(at, at + len), this.caching),
    );
  }

  /** Stores `length` copies of `value` at `offset`. */
  fill(value: number, offset = 0, length = this.length - offset): void {
    this.#walk(offset, length, (phys, len) => this.host.cpu.fill(phys, len, value, this.caching));
  }

  /** Calls `fn` once per physically contiguous run of [offset, offset+length). */
  #walk(offset: number, length: number, fn: (phys: number, len: number, at: number) => void): void {
    this.#checkRange(offset, length);
    forEachPhysRun(this.pageSize, offset, length, (page) => this.pfns[page] as number, fn);
  }

  #checkRange(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.length) {
      throw new RangeError("access outside the kernel mapping");
    }
  }
}
