// struct vm_area_struct: one mapping of a file into a process, with its page table.

import { KernelError } from "../errors/kernel-error.js";
import { MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import type { File } from "../vfs/file.js";
import type { CpuCaching } from "./caching.js";
import { PageTable } from "./page-table.js";

/**
 * Methods a driver may set on a mapping from its mmap method (`struct vm_operations_struct`).
 */
export interface VmaOperations {
  /**
   * Provide the page frame for page `pgoff` of the mapping (counted from the start of the
   * file, i.e. including `vma.pgoff`). Called on the first touch of a page that the driver did
   * not insert at mmap time. **Optional**: without it such a touch raises SIGBUS.
   * @returns the page frame number, or `-1` to raise SIGBUS
   */
  fault?(vma: Vma, pgoff: number): number;
  /**
   * A copy of the mapping was made (mremap moves a mapping by copying it, then closing the
   * old one). Called with the new VMA, which already carries these ops. **Optional**.
   */
  open?(vma: Vma): void;
  /** The mapping goes away (munmap, exit, or the old half of an mremap). **Optional**. */
  close?(vma: Vma): void;
}

/**
 * One mapping of a file: `[start, end)` in a process's address space, `pgoff` pages into the
 * file. Drivers populate its page table from their mmap method with {@link Vma.remapPfnRange}
 * or {@link Vma.insertPfn}, or lazily through {@link VmaOperations.fault}.
 */
export class Vma {
  /** Page frame backing each page of the mapping (sparse: nothing is allocated per page). */
  readonly pages: PageTable;
  /** Fault handler and friends, set by the driver's mmap method. */
  ops: VmaOperations | undefined;
  /** Driver-private data (`vm_private_data`). */
  privateData: unknown;
  /** VM_PFNMAP: raw page frames were mapped (remapPfnRange/insertPfn); no struct pages. */
  pfnmap = false;
  /** Private copies of pages written through a MAP_PRIVATE mapping, by page index. */
  readonly cowPages = new Map<number, Uint8Array>();
  /**
   * VM_MAYWRITE: mprotect may add PROT_WRITE. mmap clears it for a shared mapping of a file not
   * open for writing; a driver's mmap method may clear it too (a write-sealed memfd does).
   */
  mayWrite = true;
  /**
   * The memory type of the mapping (the caching bits of `vm_page_prot`): `cached` unless the
   * driver's mmap method changes it, as Linux drivers do with `vma->vm_page_prot =
   * pgprot_writecombine(vma->vm_page_prot)` (`"write-combine"`) or `pgprot_noncached`
   * (`"uncached"`). Every load and store through the mapping goes to the CPU port with it, so
   * a cache model lets uncached and write-combine accesses bypass the cache.
   * Set by: the driver's mmap method (**optional**; before the first access). Kept by mremap.
   */
  caching: CpuCaching = "cached";

  /**
   * @param start - first address
   * @param length - page-aligned length
   * @param pgoff - offset into the file, in pages
   * @param prot - PROT_* bits
   * @param flags - MAP_* bits
   * @param file - the mapped file (the mapping holds a reference to it)
   * @param pageSize - the kernel's page size
   */
  constructor(
    readonly start: number,
    readonly length: number,
    public pgoff: number,
    public prot: number,
    readonly flags: number,
    public file: File,
    readonly pageSize: number,
  ) {
    this.pages = new PageTable(length / pageSize);
  }

  /**
   * A dense copy of the page table, -1 where no frame is mapped: for inspection and tests.
   * Allocates one entry per page of the mapping; the syscall paths never call it.
   */
  get pfns(): Float64Array {
    const out = new Float64Array(this.pageCount).fill(-1);
    for (const [page, pfn] of this.pages.populated()) out[page] = pfn;
    return out;
  }

  /** One past the last address. */
  get end(): number {
    return this.start + this.length;
  }
  /** Number of pages the mapping spans. */
  get pageCount(): number {
    return this.pages.pageCount;
  }
  /** VM_SHARED: writes reach the file's pages. */
  get shared(): boolean {
    return (this.flags & MAP_SHARED) !== 0;
  }
  /** A private mapping that may become writable: writes get private copies (copy-on-write). */
  get isCow(): boolean {
    return !this.shared;
  }
  /** The `rwxs`/`rwxp` permission string /proc/PID/maps prints. */
  get permissions(): string {
    return (
      (this.prot & PROT_READ ? "r" : "-") +
      (this.prot & PROT_WRITE ? "w" : "-") +
      (this.prot & PROT_EXEC ? "x" : "-") +
      (this.shared ? "s" : "p")
    );
  }

  /**
   * Maps `size` bytes of physically contiguous frames starting at `pfn` at address `addr`
   * (`remap_pfn_range`). Called by a driver's mmap method.
   * @throws KernelError EINVAL when the range leaves the mapping, is not page aligned, or, on a
   * copy-on-write (private) mapping, does not cover the whole mapping in one call.
   */
  remapPfnRange(addr: number, pfn: number, size: number): void {
    const ps = this.pageSize;
    if (addr % ps !== 0 || size % ps !== 0 || addr < this.start || addr + size > this.end) {
      throw new KernelError("EINVAL", "remap_pfn_range", "range outside the mapping");
    }
    if (!Number.isSafeInteger(pfn) || pfn < 0) {
      throw new KernelError("EINVAL", "remap_pfn_range", `bad page frame ${pfn}`);
    }
    if (this.isCow && (addr !== this.start || size !== this.length)) {
      throw new KernelError("EINVAL", "remap_pfn_range", "partial remap of a private mapping");
    }
    const first = (addr - this.start) / ps;
    this.pages.setRun(first, pfn, size / ps);
    this.pfnmap = true;
  }

  /**
   * Maps one page frame at `addr` (`vmf_insert_pfn`), typically from a fault handler.
   * @throws KernelError EINVAL when `addr` is outside the mapping.
   */
  insertPfn(addr: number, pfn: number): void {
    const ps = this.pageSize;
    if (addr < this.start || addr >= this.end) {
      throw new KernelError("EINVAL", "vmf_insert_pfn", "address outside the mapping");
    }
    if (!Number.isSafeInteger(pfn) || pfn < 0) {
      throw new KernelError("EINVAL", "vmf_insert_pfn", `bad page frame ${pfn}`);
    }
    this.pages.set(Math.floor((addr - this.start) / ps), pfn);
    this.pfnmap = true;
  }
}
