// struct mm_struct: a process's user address space — mmap, munmap, mremap, mprotect, madvise.

import { KernelError } from "../errors/kernel-error.js";
import { FMODE_READ, FMODE_WRITE } from "../uapi/fcntl.js";
import {
  MADV_DONTNEED,
  MADV_NORMAL,
  MADV_WILLNEED,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from "../uapi/mman.js";
import type { File } from "../vfs/file.js";
import { type CpuHolder, Mapping } from "./mapping.js";
import { Vma } from "./vma.js";

/** The top of the mmap area: mappings are placed top-down below it. */
const MMAP_TOP = 0x7ffff7ff9000;

/** What an address space needs from its kernel. */
export interface AddressSpaceHost extends CpuHolder {
  /** Page size in bytes. */
  readonly pageSize: number;
}

/**
 * The mappings of one process. Each method is the body of the syscall of the same name, after
 * the process looked up the fd; the process wraps them as the current task.
 */
export class AddressSpace {
  readonly #maps: Mapping[] = [];

  /** @param host - the kernel (page size, CPU port) */
  constructor(private readonly host: AddressSpaceHost) {}

  /** The live mappings, lowest address first. */
  mappings(): readonly Mapping[] {
    return [...this.#maps].sort((a, b) => a.address - b.address);
  }

  /** Whether `mapping` is a live mapping of this address space. */
  has(mapping: Mapping): boolean {
    return this.#maps.includes(mapping);
  }

  /**
   * mmap(2) of `file`.
   * @throws KernelError as {@link Process.mmap}.
   */
  mmap(file: File, length: number, prot: number, flags: number, offset: number): Mapping {
    const ps = this.host.pageSize;
    if (length === 0) throw new KernelError("EINVAL", "mmap", "zero length");
    const len = Math.ceil(length / ps) * ps;
    const pgoff = offset / ps;
    if (!Number.isSafeInteger(pgoff + len / ps)) throw new KernelError("EOVERFLOW", "mmap");
    const type = flags & MAP_TYPE;
    if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) {
      throw new KernelError("EINVAL", "mmap", "mapping type must be shared or private");
    }
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) {
      throw new KernelError("EINVAL", "mmap", "unknown protection bits");
    }
    if ((file.fMode & FMODE_READ) === 0) {
      throw new KernelError("EACCES", "mmap", "file not open for reading");
    }
    if (type !== MAP_PRIVATE && prot & PROT_WRITE && (file.fMode & FMODE_WRITE) === 0) {
      throw new KernelError("EACCES", "mmap", "shared writable mapping of a read-only file");
    }
    // do_mmap checks the access mode before it looks for the file's mmap method.
    if (!file.fops.mmap) throw new KernelError("ENODEV", "mmap", "file cannot be mapped");
    const start = this.#findGap(len);
    const vma = new Vma(
      start,
      len,
      pgoff,
      prot,
      type === MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED,
      file,
      ps,
    );
    if (type !== MAP_PRIVATE && (file.fMode & FMODE_WRITE) === 0) vma.mayWrite = false;
    file.get();
    try {
      file.fops.mmap(file, vma);
    } catch (e) {
      vma.file.put();
      throw e;
    }
    if (vma.file !== file) {
      // The driver redirected the mapping to another file (dma_buf_mmap does this).
      file.put();
    }
    const m = new Mapping(vma, this.host);
    this.#maps.push(m);
    return m;
  }

  #findGap(len: number): number {
    let top = MMAP_TOP;
    for (const m of [...this.#maps].sort((a, b) => b.address - a.address)) {
      if (m.vma.end <= top - len) break;
      top = Math.min(top, m.vma.start);
    }
    if (top - len < 0x10000) throw new KernelError("ENOMEM", "mmap", "address space full");
    return top - len;
  }

  /**
   * munmap(2) of a whole mapping; drops the mapping's file reference.
   * @throws KernelError EINVAL when the mapping is not (or no longer) mapped here.
   */
  munmap(mapping: Mapping): void {
    const i = this.#maps.indexOf(mapping);
    if (i < 0) throw new KernelError("EINVAL", "munmap", "not a mapping of this process");
    this.#maps.splice(i, 1);
    mapping.markUnmapped();
    mapping.vma.ops?.close?.(mapping.vma);
    mapping.vma.file.put();
  }

  /**
   * mremap(2) of a whole mapping with MREMAP_MAYMOVE.
   * @throws KernelError as {@link Process.mremap}.
   */
  mremap(mapping: Mapping, newLength: number): Mapping {
    const i = this.#maps.indexOf(mapping);
    if (i < 0 || !(newLength > 0)) throw new KernelError("EINVAL", "mremap");
    const old = mapping.vma;
    const len = Math.ceil(newLength / old.pageSize) * old.pageSize;
    if (len > old.length && old.pfnmap) {
      throw new KernelError("EFAULT", "mremap", "cannot grow a PFN mapping");
    }
    const start = len > old.length ? this.#findGap(len) : old.start;
    const vma = new Vma(start, len, old.pgoff, old.prot, old.flags, old.file, old.pageSize);
    const kept = Math.min(vma.pageCount, old.pageCount);
    vma.pfns.set(old.pfns.subarray(0, kept));
    vma.ops = old.ops;
    vma.privateData = old.privateData;
    vma.pfnmap = old.pfnmap;
    vma.mayWrite = old.mayWrite;
    for (const [page, copy] of old.cowPages) if (page < kept) vma.cowPages.set(page, copy);
    vma.ops?.open?.(vma);
    old.ops?.close?.(old);
    const m = new Mapping(vma, this.host);
    mapping.markUnmapped();
    this.#maps[i] = m;
    return m;
  }

  /**
   * mprotect(2) of a whole mapping.
   * @throws KernelError as {@link Process.mprotect}.
   */
  mprotect(mapping: Mapping, prot: number): void {
    if (!this.#maps.includes(mapping)) {
      throw new KernelError("EINVAL", "mprotect", "not a mapping of this process");
    }
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) {
      throw new KernelError("EINVAL", "mprotect", "unknown protection bits");
    }
    const vma = mapping.vma;
    if (vma.shared && prot & PROT_WRITE && !vma.mayWrite) {
      throw new KernelError("EACCES", "mprotect", "file not open for writing, or write-sealed");
    }
    vma.prot = prot;
  }

  /**
   * madvise(2) over a whole mapping.
   * @throws KernelError as {@link Process.madvise}.
   */
  madvise(mapping: Mapping, advice: number): void {
    if (!this.#maps.includes(mapping)) throw new KernelError("EINVAL", "madvise");
    const vma = mapping.vma;
    if (advice >= MADV_NORMAL && advice <= MADV_WILLNEED) return;
    if (advice !== MADV_DONTNEED) throw new KernelError("EINVAL", "madvise", `advice ${advice}`);
    if (vma.pfnmap) throw new KernelError("EINVAL", "madvise", "PFN mapping");
    vma.pfns.fill(-1);
    vma.cowPages.clear();
  }

  /** Unmaps everything (exit). */
  unmapAll(): void {
    for (const m of [...this.#maps]) this.munmap(m);
  }
}
