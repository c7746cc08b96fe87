// A user-space view of a mapping: loads and stores walk the VMA's page table to the CPU port.

import { KernelSignal } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import { PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import type { CpuPort } from "./cpu-port.js";
import { forEachPhysRun } from "./phys-runs.js";
import type { Vma } from "./vma.js";

/**
 * The `length` bytes of `dst` from `dstOffset` that a read into a caller's array fills.
 * @throws RangeError if they lie outside `dst`
 */
export function destination(dst: Uint8Array, dstOffset: number, length: number): Uint8Array {
  if (!Number.isSafeInteger(dstOffset) || dstOffset < 0 || dstOffset + length > dst.length) {
    throw new RangeError(
      `destination range [${dstOffset}, +${length}) exceeds buffer of ${dst.length} bytes`,
    );
  }
  return dst.subarray(dstOffset, dstOffset + length);
}

/** Something that knows the CPU port in force (the kernel: the port can be swapped). */
export interface CpuHolder {
  /** The CPU's current path to memory. */
  readonly cpu: CpuPort;
}

/**
 * What mmap() returns: the mapped range of a process's address space. Every access goes
 * through the VMA's page table (faulting pages in through the driver) and the CPU port, with
 * the VMA's memory type ({@link Vma.caching}).
 *
 * @remarks Touching a page the driver cannot provide raises {@link KernelSignal} `SIGBUS`;
 * touching memory outside the mapping, after munmap, or against its protection raises
 * `SIGSEGV`.
 */
export class Mapping {
  #unmapped = false;

  /**
   * @param vma - the mapping's VMA
   * @param host - gives the CPU port in force
   */
  constructor(
    readonly vma: Vma,
    private readonly host: CpuHolder,
  ) {}

  /** The mapping's first address. */
  get address(): number {
    return this.vma.start;
  }
  /** The mapping's length in bytes (page aligned). */
  get length(): number {
    return this.vma.length;
  }
  /** False once munmap() removed it. */
  get mapped(): boolean {
    return !this.#unmapped;
  }
  /** Called by munmap(). */
  markUnmapped(): void {
    this.#unmapped = true;
  }

  /**
   * Loads `length` bytes at `offset` (default: to the end).
   *
   * @param dst - Optional destination, for a caller that reads often and reuses one array; a
   * new array is allocated when omitted.
   * @param dstOffset - Where in `dst` the bytes go (default 0).
   * @returns The bytes read: the new array, or the view of `dst` that was written.
   * @throws RangeError if the destination range lies outside `dst` (after the access checks).
   */
  read(offset = 0, length = this.length - offset, dst?: Uint8Array, dstOffset = 0): Uint8Array {
    this.#check(offset, length, PROT_READ | PROT_WRITE, "read");
    const out = dst === undefined ? new Uint8Array(length) : destination(dst, dstOffset, length);
    this.#walk(offset, length, false, (phys, len, at, cow) => {
      if (cow) out.set(cow.subarray(phys, phys + len), at);
      else this.host.cpu.read(phys, len, out, at, this.vma.caching);
    });
    return out;
  }

  /** Stores `bytes` at `offset`. */
  write(offset: number, bytes: Uint8Array): void {
    this.#check(offset, bytes.length, PROT_WRITE, "write");
    this.#walk(offset, bytes.length, true, (phys, len, at, cow) => {
      if (cow) cow.set(bytes.subarray(at, at + len), phys);
      else this.host.cpu.write(phys, bytes.subarray(at, at + len), this.vma.caching);
    });
  }

  /** Stores `length` copies of `value` at `offset` (default: the whole mapping). */
  fill(value: number, offset = 0, length = this.length - offset): void {
    this.#check(offset, length, PROT_WRITE, "write");
    this.#walk(offset, length, true, (phys, len, _at, cow) => {
      if (cow) cow.fill(value, phys, phys + len);
      else this.host.cpu.fill(phys, len, value, this.vma.caching);
    });
  }

  #check(offset: number, length: number, protNeeded: number, what: string): void {
    const addr = this.vma.start + offset;
    if (this.#unmapped) throw new KernelSignal("SIGSEGV", addr, `${what} after munmap`);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new TypeError("offset and length must be non-negative integers");
    }
    if (offset + length > this.length) {
      throw new KernelSignal("SIGSEGV", this.vma.end, `${what} past the end of the mapping`);
    }
    if ((this.vma.prot & protNeeded) === 0) {
      throw new KernelSignal("SIGSEGV", addr, `${what} denied by the mapping's protection`);
    }
  }

  /**
   * Walks [offset, offset+length), resolving frames (faulting them in) and calling `fn` once
   * per physically contiguous run, or per private (copy-on-write) page with the page's host
   * copy and the in-page offset as `phys`. A write to a private mapping copies the page first.
   */
  #walk(
    offset: number,
    length: number,
    writing: boolean,
    fn: (phys: number, len: number, at: number, cow?: Uint8Array) => void,
  ): void {
    const vma = this.vma;
    const ps = vma.pageSize;
    forEachPhysRun(
      ps,
      offset,
      length,
      (page) => {
        if (vma.cowPages.has(page)) return -1;
        const pfn = this.#frame(page);
        if (!writing || !vma.isCow) return pfn;
        const copy = new Uint8Array(ps);
        this.host.cpu.read(pfn * ps, ps, copy, 0, vma.caching);
        vma.cowPages.set(page, copy);
        return -1;
      },
      (phys, len, at) => fn(phys, len, at),
      (page, inPage, len, at) => fn(inPage, len, at, vma.cowPages.get(page)),
    );
  }

  #frame(page: number): number {
    const vma = this.vma;
    let pfn = vma.pages.get(page);
    if (pfn < 0) {
      const addr = vma.start + page * vma.pageSize;
      try {
        pfn = vma.ops?.fault?.(vma, vma.pgoff + page) ?? -1;
      } catch (e) {
        if (e instanceof KernelSignal || e instanceof KernelError) throw e;
        // A fault handler that fails is VM_FAULT_SIGBUS to the task.
        throw new KernelSignal("SIGBUS", addr, `fault handler failed: ${String(e)}`);
      }
      if (!Number.isSafeInteger(pfn) || pfn < 0) {
        // -1 means no page; anything else that is not a frame number is a bad pfn: SIGBUS.
        throw new KernelSignal(
          "SIGBUS",
          addr,
          pfn === -1 ? "no page behind this part of the mapping" : `fault handler returned ${pfn}`,
        );
      }
      vma.pages.set(page, pfn);
    }
    return pfn;
  }
}
