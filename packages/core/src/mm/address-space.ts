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
/** The lowest address a mapping may use (`mmap_min_addr`). */
const MMAP_MIN = 0x10000;
/** TASK_SIZE on x86-64 (4-level paging): no mapping can be longer. */
export const TASK_SIZE = 0x7ffffffff000;
/**
 * The MAP_* bits `do_mmap` accepts with MAP_SHARED_VALIDATE (`LEGACY_MAP_MASK`): MAP_SHARED,
 * MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS, MAP_GROWSDOWN, MAP_DENYWRITE, MAP_EXECUTABLE,
 * MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB,
 * MAP_UNINITIALIZED. No file of the model adds `mmap_supported_flags` (MAP_SYNC).
 */
const LEGACY_MAP_MASK =
  0x01 |
  0x02 |
  0x10 |
  0x20 |
  0x100 |
  0x800 |
  0x1000 |
  0x2000 |
  0x4000 |
  0x8000 |
  0x10000 |
  0x20000 |
  0x40000 |
  0x4000000;

/** A free range `[start, end)` between two mappings, above the lowest mapping. */
interface Hole {
  start: number;
  end: number;
}

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
  /** The live mappings (insertion order; sorted only when listed). */
  readonly #maps = new Set<Mapping>();
  /** Everything in `[MMAP_MIN, #floor)` is free: the lowest mapping starts at `#floor`. */
  #floor = MMAP_TOP;
  /** The free ranges above `#floor`, sorted by address, never adjacent to each other. */
  readonly #holes: Hole[] = [];

  /** @param host - the kernel (page size, CPU port) */
  constructor(private readonly host: AddressSpaceHost) {}

  /** The live mappings, lowest address first. */
  mappings(): readonly Mapping[] {
    return [...this.#maps].sort((a, b) => a.address - b.address);
  }

  /** The number of live mappings. */
  get count(): number {
    return this.#maps.size;
  }

  /** Whether `mapping` is a live mapping of this address space. */
  has(mapping: Mapping): boolean {
    return this.#maps.has(mapping);
  }

  /**
   * mmap(2) of `file`.
   * @throws KernelError as {@link Process.mmap}.
   */
  mmap(file: File, length: number, prot: number, flags: number, offset: number): Mapping {
    const ps = this.host.pageSize;
    if (length === 0) throw new KernelError("EINVAL", "mmap", "zero length");
    // size_t: a negative length is a huge one, and PAGE_ALIGN of the last page wraps to 0.
    if (length < 0 || length > TASK_SIZE) {
      throw new KernelError("ENOMEM", "mmap", "length beyond the address space");
    }
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
    if (type !== MAP_PRIVATE && (flags & ~LEGACY_MAP_MASK) !== 0) {
      // MAP_SHARED drops unknown bits; MAP_SHARED_VALIDATE refuses them.
      if (type === MAP_SHARED_VALIDATE) {
        throw new KernelError("EOPNOTSUPP", "mmap", `unsupported flags 0x${flags.toString(16)}`);
      }
    }
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
    this.#take(start, len);
    this.#maps.add(m);
    return m;
  }

  /**
   * The start of the highest free range of `len` bytes below the mmap top (the top-down search
   * of `unmapped_area_topdown`). Walks the holes above the lowest mapping, highest first, then
   * falls back below it: nothing is sorted or copied per call.
   * @throws KernelError ENOMEM when no range is large enough.
   */
  #findGap(len: number): number {
    const holes = this.#holes;
    for (let i = holes.length - 1; i >= 0; i--) {
      const h = holes[i] as Hole;
      if (h.end - h.start >= len) return h.end - len;
    }
    if (this.#floor - len < MMAP_MIN) {
      throw new KernelError("ENOMEM", "mmap", "address space full");
    }
    return this.#floor - len;
  }

  /** Index of the first hole whose start is at or above `addr`. */
  #holeIndex(addr: number): number {
    const holes = this.#holes;
    let lo = 0;
    let hi = holes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((holes[mid] as Hole).start < addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Marks `[start, start + len)` (a range #findGap returned) as mapped. */
  #take(start: number, len: number): void {
    const end = start + len;
    if (end <= this.#floor) {
      // Below the lowest mapping: the range between them becomes a hole.
      if (end < this.#floor) this.#holes.splice(0, 0, { start: end, end: this.#floor });
      this.#floor = start;
      return;
    }
    const i = this.#holeIndex(start + 1) - 1;
    const h = this.#holes[i] as Hole;
    if (h.start === start && h.end === end) this.#holes.splice(i, 1);
    else if (h.start === start) h.start = end;
    else if (h.end === end) h.end = start;
    else {
      this.#holes.splice(i + 1, 0, { start: end, end: h.end });
      h.end = start;
    }
  }

  /** Marks `[start, end)` as free again. */
  #release(start: number, end: number): void {
    const holes = this.#holes;
    if (start === this.#floor) {
      const next = holes[0];
      if (next && next.start === end) {
        this.#floor = next.end;
        holes.shift();
      } else this.#floor = end;
      return;
    }
    const i = this.#holeIndex(start);
    const before = holes[i - 1];
    const after = holes[i];
    const joinsBefore = before !== undefined && before.end === start;
    const joinsAfter = after !== undefined && after.start === end;
    if (joinsBefore && joinsAfter) {
      before.end = after.end;
      holes.splice(i, 1);
    } else if (joinsBefore) before.end = end;
    else if (joinsAfter) after.start = start;
    else holes.splice(i, 0, { start, end });
  }

  /**
   * munmap(2) of a whole mapping; drops the mapping's file reference.
   * @throws KernelError EINVAL when the mapping is not (or no longer) mapped here.
   */
  munmap(mapping: Mapping): void {
    if (!this.#maps.delete(mapping)) {
      throw new KernelError("EINVAL", "munmap", "not a mapping of this process");
    }
    this.#release(mapping.vma.start, mapping.vma.end);
    mapping.markUnmapped();
    try {
      mapping.vma.ops?.close?.(mapping.vma);
    } finally {
      mapping.vma.file.put();
    }
  }

  /**
   * mremap(2) of a whole mapping with MREMAP_MAYMOVE.
   * @throws KernelError as {@link Process.mremap}.
   */
  mremap(mapping: Mapping, newLength: number): Mapping {
    if (!this.#maps.has(mapping) || !(newLength > 0)) throw new KernelError("EINVAL", "mremap");
    const old = mapping.vma;
    const len = Math.ceil(newLength / old.pageSize) * old.pageSize;
    if (len > old.length && old.pfnmap) {
      throw new KernelError("EFAULT", "mremap", "cannot grow a PFN mapping");
    }
    const start = len > old.length ? this.#findGap(len) : old.start;
    const vma = new Vma(start, len, old.pgoff, old.prot, old.flags, old.file, old.pageSize);
    const kept = Math.min(vma.pageCount, old.pageCount);
    vma.pages.copyFrom(old.pages, kept);
    vma.ops = old.ops;
    vma.privateData = old.privateData;
    vma.pfnmap = old.pfnmap;
    vma.mayWrite = old.mayWrite;
    vma.caching = old.caching;
    for (const [page, copy] of old.cowPages) if (page < kept) vma.cowPages.set(page, copy);
    vma.ops?.open?.(vma);
    old.ops?.close?.(old);
    const m = new Mapping(vma, this.host);
    if (start !== old.start) {
      this.#take(start, len);
      this.#release(old.start, old.end);
    } else if (len < old.length) this.#release(old.start + len, old.end);
    mapping.markUnmapped();
    this.#maps.delete(mapping);
    this.#maps.add(m);
    return m;
  }

  /**
   * mprotect(2) of a whole mapping.
   * @throws KernelError as {@link Process.mprotect}.
   */
  mprotect(mapping: Mapping, prot: number): void {
    if (!this.#maps.has(mapping)) {
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
    if (!this.#maps.has(mapping)) throw new KernelError("EINVAL", "madvise");
    const vma = mapping.vma;
    if (advice >= MADV_NORMAL && advice <= MADV_WILLNEED) return;
    if (advice !== MADV_DONTNEED) throw new KernelError("EINVAL", "madvise", `advice ${advice}`);
    if (vma.pfnmap) throw new KernelError("EINVAL", "madvise", "PFN mapping");
    vma.pages.clear();
    vma.cowPages.clear();
  }

  /** Unmaps everything (exit). */
  unmapAll(): void {
    for (const m of [...this.#maps]) this.munmap(m);
  }
}
