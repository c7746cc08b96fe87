// mm/shmem.c and fs/hugetlbfs: in-memory files whose page cache fills lazily and can be pinned.

import { KernelError } from "../errors/kernel-error.js";
import type { KernelProfile } from "../profile.js";
import type { SimClock } from "../time/clock.js";
import {
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FMODE_CAN_READ,
  FMODE_CAN_WRITE,
  FMODE_LSEEK,
  FMODE_OPENED,
  FMODE_PREAD,
  FMODE_PWRITE,
  FMODE_READ,
  FMODE_WRITE,
  O_LARGEFILE,
  O_RDWR,
  S_IFREG,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from "../uapi/fcntl.js";
import { HUGETLBFS_MAGIC, TMPFS_MAGIC } from "../uapi/magic.js";
import { PROT_WRITE } from "../uapi/mman.js";
import { File, type FileOperations, type FileTable } from "../vfs/file.js";
import type { Inode } from "../vfs/inode.js";
import type { BuddyAllocator } from "./buddy.js";
import type { HugePagePool, HugeTlb } from "./hugetlb.js";
import type { CpuHolder } from "./mapping.js";
import type { Vma, VmaOperations } from "./vma.js";

/** Device of the kernel-internal tmpfs mount, as fstat and /proc/PID/maps show it ("00:01"). */
export const SHMEM_DEV: readonly [number, number] = [0, 1];
/** Device of the kernel-internal hugetlbfs mount (not observed; a plausible value). */
export const HUGETLBFS_DEV: readonly [number, number] = [0, 16];
/** Mount id fdinfo shows for files on the internal mounts (observed on 6.1 and 6.18: 0). */
export const SHMEM_MNT_ID = 0;

/** The seals that stop writes (write(), hole punching, new writable shared mappings). */
const WRITE_SEALS = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/** What the in-memory filesystems need from their kernel. */
export interface ShmemHost extends CpuHolder {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** The page allocator tmpfs pages come from. */
  readonly buddy: BuddyAllocator;
  /** The huge page pools hugetlbfs pages come from. */
  readonly hugetlb: HugeTlb;
  /** The live-file table. */
  readonly files: FileTable;
  /** The virtual clock (the wait for pins when F_SEAL_WRITE is added). */
  readonly clock: SimClock;
  /** Behaviour switches of the kernel version. */
  readonly profile: KernelProfile;
  /** The task making the current syscall (a killable wait ends on a fatal signal). */
  readonly current: { readonly fatalSignalPending: boolean } | undefined;
  /** A fresh inode number (`get_next_ino`). */
  nextPseudoIno(): number;
}

/**
 * Pages of a {@link ShmemInode} held by a pin (udmabuf's page references): returned by
 * {@link ShmemInode.pin}, given back to {@link ShmemInode.unpin}.
 */
export interface ShmemPin {
  /** The frame of each pinned base page, in file order. */
  readonly pfns: Float64Array;
  /** Page-cache entries the pin itself allocated (undone by a rollback). */
  readonly fresh: readonly { readonly index: number; readonly reserved: boolean }[];
}

/**
 * The inode of a tmpfs or hugetlbfs file (a memfd): its size, seals, and a sparse page cache
 * filled from the page allocator (tmpfs, 4 KiB entries) or a huge page pool (hugetlbfs) on
 * first write, fault or pin — reads of holes see zeros without allocating.
 *
 * Pages a pin holds outlive their place in the file: when truncation, a hole punch or the
 * file's release drops such a page from the cache it is only freed once the last pin goes,
 * as a page reference keeps a page in Linux.
 */
export class ShmemInode implements Inode {
  /** Inode number. */
  readonly ino: number;
  /** Regular file with mode 0777 (0666 with MFD_NOEXEC_SEAL). */
  readonly mode: number;
  /** Owner (the creating process). */
  readonly uid: number;
  /** Group (the creating process's). */
  readonly gid: number;
  /** The internal mount's device. */
  readonly dev: readonly [number, number];
  /** Not a device node. */
  readonly rdev: readonly [number, number] = [0, 0];
  /** Unlinked from birth. */
  readonly nlink = 0;
  /** The page (or huge page) size. */
  readonly blksize: number;
  /** Size in bytes (i_size). */
  size = 0;
  /** F_SEAL_* bits; they are only ever added. */
  seals = F_SEAL_SEAL;
  /** The huge page pool of a hugetlbfs file; null for tmpfs. */
  readonly pool: HugePagePool | null;
  /** Bytes per page-cache entry (the page size, or the huge page size). */
  readonly granule: number;

  readonly #host: ShmemHost;
  readonly #perGranule: number;
  readonly #pages = new Map<number, number>();
  readonly #pins = new Map<number, number>();
  readonly #orphans = new Set<number>();
  readonly #reserved = new Set<number>();
  readonly #vmas = new Set<Vma>();
  #writableMappings = 0;
  readonly #vmOps: VmaOperations = {
    fault: (_vma, pgoff) => this.fault(pgoff),
    open: (vma) => this.#open(vma),
    close: (vma) => this.#close(vma),
  };

  /**
   * @param host - the kernel
   * @param ino - inode number
   * @param mode - S_IFREG and permission bits
   * @param owner - uid and gid of the creator
   * @param pool - the huge page pool for a hugetlbfs file, null for tmpfs
   */
  constructor(
    host: ShmemHost,
    ino: number,
    mode: number,
    owner: { readonly uid: number; readonly gid: number },
    pool: HugePagePool | null,
  ) {
    this.#host = host;
    this.ino = ino;
    this.mode = mode;
    this.uid = owner.uid;
    this.gid = owner.gid;
    this.pool = pool;
    this.granule = pool ? pool.size : host.pageSize;
    this.#perGranule = this.granule / host.pageSize;
    this.blksize = this.granule;
    this.dev = pool ? HUGETLBFS_DEV : SHMEM_DEV;
  }

  /** Allocated 512-byte blocks: every page-cache entry counts in full. */
  get blocks(): number {
    return this.#pages.size * (this.granule / 512);
  }
  /** Live shared mappings that may write (the count F_SEAL_WRITE must find at 0). */
  get writableMappings(): number {
    return this.#writableMappings;
  }
  /** Whether any page still in the file is pinned (what F_SEAL_WRITE waits for). */
  get pinned(): boolean {
    for (const head of this.#pins.keys()) if (!this.#orphans.has(head)) return true;
    return false;
  }

  // ---- page cache ---------------------------------------------------------------------

  /** The frame of page-cache entry `index`, allocating (zeroed) on a hole; -1 when none. */
  #populate(index: number): number {
    const have = this.#pages.get(index);
    if (have !== undefined) return have;
    let pfn: number;
    if (this.pool) {
      const reserved = this.#reserved.delete(index);
      pfn = this.pool.alloc(reserved);
      if (pfn < 0 && reserved) this.#reserved.add(index);
    } else {
      pfn = this.#host.buddy.allocPages(0, { zero: true });
    }
    if (pfn >= 0) this.#pages.set(index, pfn);
    return pfn;
  }

  /** Removes entry `index` from the cache; its frame is freed unless a pin holds it. */
  #drop(index: number): void {
    const pfn = this.#pages.get(index);
    if (pfn === undefined) return;
    this.#pages.delete(index);
    if (this.#pins.has(pfn)) this.#orphans.add(pfn);
    else this.#free(pfn);
  }

  #free(head: number): void {
    if (this.pool) this.pool.release(head);
    else this.#host.buddy.freePages(head, 0);
  }

  /**
   * Takes base pages [from, to) out of every mapping's page table, so that the next touch
   * faults (SIGBUS past the end of the file); with `evenCows` private copies go too.
   */
  #unmap(from: number, to: number, evenCows: boolean): void {
    for (const vma of this.#vmas) {
      const lo = Math.max(from, vma.pgoff) - vma.pgoff;
      const hi = Math.min(to, vma.pgoff + vma.pageCount) - vma.pgoff;
      if (lo >= hi) continue;
      vma.pages.clearRange(lo, hi);
      if (evenCows)
        for (const i of vma.cowPages.keys()) if (i >= lo && i < hi) vma.cowPages.delete(i);
    }
  }

  /** Zeroes bytes [from, to) of the file where pages are present (partial-page truncation). */
  #zeroRange(from: number, to: number): void {
    const ps = this.#host.pageSize;
    for (let p = from; p < to; ) {
      const index = Math.floor(p / this.granule);
      const inG = p - index * this.granule;
      const len = Math.min(this.granule - inG, to - p);
      const pfn = this.#pages.get(index);
      if (pfn !== undefined) this.#host.cpu.fill(pfn * ps + inG, len, 0);
      p += len;
    }
  }

  // ---- file operations ----------------------------------------------------------------

  /** Reads up to `count` bytes at `pos` (holes read as zeros; nothing past the end). */
  read(pos: number, count: number): Uint8Array {
    if (!(pos < this.size) || !(count > 0)) return new Uint8Array(0);
    const ps = this.#host.pageSize;
    const n = Math.min(count, this.size - pos);
    const out = new Uint8Array(n);
    for (let at = 0; at < n; ) {
      const p = pos + at;
      const index = Math.floor(p / this.granule);
      const inG = p - index * this.granule;
      const len = Math.min(this.granule - inG, n - at);
      const pfn = this.#pages.get(index);
      if (pfn !== undefined) this.#host.cpu.read(pfn * ps + inG, len, out, at);
      at += len;
    }
    return out;
  }

  /**
   * Writes `bytes` at `pos` page by page, allocating pages and growing the file. Under
   * F_SEAL_GROW the first page-chunk ending past the end of the file stops the write: a short
   * count if something was written, else EPERM.
   * @throws KernelError EPERM (F_SEAL_WRITE or F_SEAL_FUTURE_WRITE; F_SEAL_GROW before any
   * byte); ENOMEM (no page before any byte).
   */
  write(pos: number, bytes: Uint8Array): number {
    if (bytes.length === 0) return 0;
    if (this.seals & WRITE_SEALS) throw new KernelError("EPERM", "write", "the memfd is sealed");
    const ps = this.#host.pageSize;
    let done = 0;
    while (done < bytes.length) {
      const p = pos + done;
      const index = Math.floor(p / ps);
      const inPage = p - index * ps;
      const len = Math.min(ps - inPage, bytes.length - done);
      let pfn = -1;
      try {
        if (this.seals & F_SEAL_GROW && p + len > this.size) {
          throw new KernelError("EPERM", "write", "F_SEAL_GROW: the write would grow the file");
        }
        pfn = this.#populate(index);
        if (pfn < 0) throw new KernelError("ENOMEM", "write", "no page for the file");
      } catch (e) {
        if (done > 0) break;
        throw e;
      }
      this.#host.cpu.write(pfn * ps + inPage, bytes.subarray(done, done + len));
      done += len;
      if (p + len > this.size) this.size = p + len;
    }
    return done;
  }

  /**
   * Sets the size (`shmem_setattr` / `hugetlbfs_setattr`). Shrinking frees the pages past the
   * new end, zeroes the rest of a partial last page and unmaps the dropped pages from every
   * mapping (a later touch there raises SIGBUS).
   * @throws KernelError EINVAL (hugetlbfs: not a whole number of huge pages); EPERM
   * (F_SEAL_SHRINK and smaller, F_SEAL_GROW and larger).
   */
  truncate(newSize: number): void {
    if (this.pool && newSize % this.granule !== 0) {
      throw new KernelError("EINVAL", "ftruncate", "hugetlbfs sizes are whole huge pages");
    }
    const old = this.size;
    if (
      (newSize < old && this.seals & F_SEAL_SHRINK) ||
      (newSize > old && this.seals & F_SEAL_GROW)
    ) {
      throw new KernelError("EPERM", "ftruncate", "a seal forbids this size change");
    }
    if (newSize < old) {
      const keep = Math.ceil(newSize / this.granule);
      for (const index of [...this.#pages.keys()]) if (index >= keep) this.#drop(index);
      for (const index of [...this.#reserved]) {
        if (index >= keep) {
          this.#reserved.delete(index);
          this.pool?.unreserve(1);
        }
      }
      if (newSize % this.granule !== 0) this.#zeroRange(newSize, keep * this.granule);
      this.#unmap(Math.ceil(newSize / this.#host.pageSize), Number.POSITIVE_INFINITY, true);
    }
    this.size = newSize;
  }

  /**
   * Allocates `[offset, offset+length)` (growing the file unless FALLOC_FL_KEEP_SIZE) or, with
   * FALLOC_FL_PUNCH_HOLE, frees the whole pages inside it (tmpfs also zeroes partial pages at
   * its edges). An allocation that runs out of pages gives back what it allocated.
   * @throws KernelError EPERM (hole punch under F_SEAL_WRITE or F_SEAL_FUTURE_WRITE;
   * allocation past the end under F_SEAL_GROW); ENOMEM (tmpfs) or ENOSPC (hugetlbfs) when
   * pages run out.
   */
  fallocate(mode: number, offset: number, length: number): void {
    const end = offset + length;
    const g = this.granule;
    const ps = this.#host.pageSize;
    if (mode & FALLOC_FL_PUNCH_HOLE) {
      if (this.seals & WRITE_SEALS) {
        throw new KernelError("EPERM", "fallocate", "the memfd is write-sealed");
      }
      const first = Math.ceil(offset / g);
      const last = Math.floor(end / g);
      if (!this.pool) {
        this.#zeroRange(offset, Math.min(end, first * g));
        if (last >= first) this.#zeroRange(Math.max(offset, last * g), end);
      }
      for (const index of [...this.#pages.keys()]) {
        if (index >= first && index < last) this.#drop(index);
      }
      if (last > first) this.#unmap((first * g) / ps, (last * g) / ps, false);
      return;
    }
    if (this.seals & F_SEAL_GROW && end > this.size) {
      throw new KernelError("EPERM", "fallocate", "F_SEAL_GROW: the range ends past the file");
    }
    const made: number[] = [];
    for (let index = Math.floor(offset / g); index < Math.ceil(end / g); index++) {
      if (this.#pages.has(index)) continue;
      if (this.#populate(index) < 0) {
        for (const i of made) this.#drop(i);
        if (this.pool) throw new KernelError("ENOSPC", "fallocate", "no free huge page");
        throw new KernelError("ENOMEM", "fallocate", "no page for the file");
      }
      made.push(index);
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && end > this.size) this.size = end;
  }

  /**
   * Repositions `file` (`shmem_file_llseek`): SEEK_SET/CUR/END, and SEEK_DATA/SEEK_HOLE over
   * the page cache (tmpfs; hugetlbfs treats the whole file as data).
   * @throws KernelError EINVAL (bad whence, negative result); ENXIO (SEEK_DATA/SEEK_HOLE at
   * or past the end, or no data after the offset).
   */
  llseek(file: File, offset: number, whence: number): number {
    let pos: number;
    switch (whence) {
      case SEEK_SET:
        pos = offset;
        break;
      case SEEK_CUR:
        pos = file.pos + offset;
        break;
      case SEEK_END:
        pos = this.size + offset;
        break;
      case SEEK_DATA:
      case SEEK_HOLE:
        pos = this.#seekHoleData(offset, whence);
        break;
      default:
        throw new KernelError("EINVAL", "lseek", `whence ${whence}`);
    }
    if (!(pos >= 0) || !Number.isSafeInteger(pos)) throw new KernelError("EINVAL", "lseek");
    file.pos = pos;
    return pos;
  }

  #seekHoleData(offset: number, whence: number): number {
    if (offset < 0 || offset >= this.size) throw new KernelError("ENXIO", "lseek");
    if (this.pool) return whence === SEEK_DATA ? offset : this.size;
    const g = this.granule;
    for (let index = Math.floor(offset / g); index * g < this.size; index++) {
      const present = this.#pages.has(index);
      if (whence === SEEK_DATA && present) return Math.max(offset, index * g);
      if (whence === SEEK_HOLE && !present) return Math.max(offset, index * g);
    }
    if (whence === SEEK_DATA) throw new KernelError("ENXIO", "lseek", "no data after the offset");
    return this.size;
  }

  /**
   * Sets up a mapping (`shmem_mmap` / `hugetlbfs_file_mmap`). Under F_SEAL_WRITE or
   * F_SEAL_FUTURE_WRITE a shared mapping may not write (EPERM with PROT_WRITE, else it can
   * never become writable). A hugetlbfs mapping must start on a huge page and reserves the huge
   * pages it covers. Pages fault in on first touch.
   * @throws KernelError EPERM (write-sealed); EINVAL (hugetlbfs offset not huge-page aligned);
   * ENOMEM (hugetlbfs: not enough free huge pages to reserve).
   */
  mmap(vma: Vma): void {
    if (this.seals & WRITE_SEALS && vma.shared) {
      if (vma.prot & PROT_WRITE) {
        throw new KernelError("EPERM", "mmap", "writable shared mapping of a write-sealed memfd");
      }
      vma.mayWrite = false;
    }
    if (this.pool) {
      const per = this.#perGranule;
      if (vma.pgoff % per !== 0) {
        throw new KernelError("EINVAL", "mmap", "hugetlbfs offsets are whole huge pages");
      }
      const need: number[] = [];
      const last = Math.ceil((vma.pgoff + vma.pageCount) / per);
      for (let i = vma.pgoff / per; i < last; i++) {
        if (!this.#pages.has(i) && !this.#reserved.has(i)) need.push(i);
      }
      if (!this.pool.reserve(need.length)) {
        throw new KernelError("ENOMEM", "mmap", "not enough free huge pages to reserve");
      }
      for (const i of need) this.#reserved.add(i);
    }
    vma.ops = this.#vmOps;
    vma.privateData = this;
    this.#open(vma);
  }

  #open(vma: Vma): void {
    this.#vmas.add(vma);
    if (vma.shared && vma.mayWrite) this.#writableMappings++;
  }

  #close(vma: Vma): void {
    if (this.#vmas.delete(vma) && vma.shared && vma.mayWrite) this.#writableMappings--;
  }

  /**
   * The frame behind base page `pgoff` of the file for a mapping's fault, allocating it on a
   * hole (hugetlbfs: using the mapping's reservation).
   * @returns the page frame number, or -1 (SIGBUS) past the end of the file or when no page
   * can be had
   */
  fault(pgoff: number): number {
    if (pgoff * this.#host.pageSize >= this.size) return -1;
    const index = Math.floor(pgoff / this.#perGranule);
    const head = this.#populate(index);
    return head < 0 ? -1 : head + (pgoff - index * this.#perGranule);
  }

  // ---- pins ---------------------------------------------------------------------------

  /**
   * Pins `count` base pages from page-aligned byte `offset` (udmabuf's page references). A
   * hole is filled when `allocate` is set (tmpfs always; hugetlbfs under the post-6.1
   * profile); otherwise a missing page fails. All or nothing: on failure the pages this call
   * pinned are released and those it allocated dropped again.
   * @throws KernelError EINVAL (a page at or past the end of the file, or missing); ENOMEM.
   */
  pin(offset: number, count: number, allocate: boolean): ShmemPin {
    const ps = this.#host.pageSize;
    const per = this.#perGranule;
    const pfns = new Float64Array(count);
    const fresh: { index: number; reserved: boolean }[] = [];
    let i = 0;
    try {
      for (; i < count; i++) {
        const pg = offset / ps + i;
        if (pg * ps >= this.size) {
          throw new KernelError("EINVAL", "ioctl", "range past the end of the memfd");
        }
        const index = Math.floor(pg / per);
        let head = this.#pages.get(index);
        if (head === undefined) {
          if (!allocate) throw new KernelError("EINVAL", "ioctl", "huge page not present");
          const reserved = this.#reserved.has(index);
          head = this.#populate(index);
          if (head < 0) throw new KernelError("ENOMEM", "ioctl", "no page for the memfd");
          fresh.push({ index, reserved });
        }
        this.#pins.set(head, (this.#pins.get(head) ?? 0) + 1);
        pfns[i] = head + (pg - index * per);
      }
    } catch (e) {
      this.unpin({ pfns: pfns.subarray(0, i), fresh }, true);
      throw e;
    }
    return { pfns, fresh };
  }

  /**
   * Releases a {@link ShmemInode.pin}. A page that already left the file is freed with its
   * last pin. With `rollback` the entries the pin allocated are dropped from the file again
   * (if nothing else holds them), restoring a hugetlbfs reservation they used.
   */
  unpin(pin: ShmemPin, rollback = false): void {
    const per = this.#perGranule;
    for (const pfn of pin.pfns) {
      const head = pfn - (pfn % per);
      const left = (this.#pins.get(head) ?? 1) - 1;
      if (left > 0) {
        this.#pins.set(head, left);
        continue;
      }
      this.#pins.delete(head);
      if (this.#orphans.delete(head)) this.#free(head);
    }
    if (!rollback) return;
    for (const { index, reserved } of [...pin.fresh].reverse()) {
      const head = this.#pages.get(index);
      if (head === undefined || this.#pins.has(head)) continue;
      this.#drop(index);
      if (reserved && this.pool?.reserve(1)) this.#reserved.add(index);
    }
  }

  /**
   * The last reference to the file is gone: every page not held by a pin is freed, pinned
   * ones when their pins go, and hugetlbfs reservations are returned.
   */
  release(): void {
    for (const index of [...this.#pages.keys()]) this.#drop(index);
    if (this.pool) this.pool.unreserve(this.#reserved.size);
    this.#reserved.clear();
  }
}

/** The inode behind `file` if it is a tmpfs or hugetlbfs file (a memfd), else undefined. */
export function shmemInodeOf(file: File): ShmemInode | undefined {
  return file.inode instanceof ShmemInode ? file.inode : undefined;
}

/** File methods of a tmpfs file; hugetlbfs files lack `write` (write() fails with EINVAL). */
function shmemFileOperations(withWrite: boolean): FileOperations {
  const inode = (file: File) => file.inode as ShmemInode;
  const fops: FileOperations = {
    llseek: (file, offset, whence) => inode(file).llseek(file, offset, whence),
    read(file, count) {
      const out = inode(file).read(file.pos, count);
      file.pos += out.length;
      return out;
    },
    mmap: (file, vma) => inode(file).mmap(vma),
    truncate: (file, length) => inode(file).truncate(length),
    fallocate: (file, mode, offset, length) => inode(file).fallocate(mode, offset, length),
    release: (file) => inode(file).release(),
  };
  if (withWrite) {
    fops.write = (file, bytes) => {
      const n = inode(file).write(file.pos, bytes);
      file.pos += n;
      return n;
    };
  }
  return fops;
}

/**
 * The kernel-internal tmpfs and hugetlbfs mounts of one kernel (`shm_mnt` and the hugetlbfs
 * mounts), where memfd_create makes its files.
 */
export class ShmemFs {
  readonly #tmpfsFops = shmemFileOperations(true);
  readonly #hugetlbfsFops = shmemFileOperations(false);

  /** @param host - the kernel */
  constructor(readonly host: ShmemHost) {}

  /**
   * Creates an unlinked file (`shmem_file_setup` / `hugetlb_file_setup`), open O_RDWR, whose
   * /proc path reads `/<name> (deleted)`. The caller owns its one reference.
   * @param name - the dentry name, e.g. `memfd:frames`
   * @param owner - uid and gid of the creator
   * @param perm - permission bits of the inode
   * @param pool - a huge page pool for a hugetlbfs file; null for tmpfs
   */
  createFile(
    name: string,
    owner: { readonly uid: number; readonly gid: number },
    perm: number,
    pool: HugePagePool | null,
  ): File {
    const inode = new ShmemInode(this.host, this.host.nextPseudoIno(), S_IFREG | perm, owner, pool);
    const fops = pool ? this.#hugetlbfsFops : this.#tmpfsFops;
    return new File(
      inode,
      fops,
      {
        path: () => `/${name} (deleted)`,
        mntId: SHMEM_MNT_ID,
        fsMagic: pool ? HUGETLBFS_MAGIC : TMPFS_MAGIC,
      },
      O_RDWR | O_LARGEFILE,
      FMODE_READ |
        FMODE_WRITE |
        FMODE_LSEEK |
        FMODE_PREAD |
        FMODE_PWRITE |
        FMODE_CAN_READ |
        (fops.write ? FMODE_CAN_WRITE : 0) |
        FMODE_OPENED,
      this.host.files,
    );
  }
}
