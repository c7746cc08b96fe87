// Mapped windows in a program's linear memory, and the per-access hooks that serve them.

import type { CpuPort, Mapping } from "@dmabuf/core";
import { PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";

/** One mmap()ed range of the program's linear memory, bound to a model mapping. */
export interface Window {
  /** First linear-memory address. */
  readonly start: number;
  /** One past the last address (start + the mapping's page-aligned length). */
  readonly end: number;
  /** The model's mapping behind it. */
  readonly mapping: Mapping;
}

/** Access counts, for the run's statistics and the bench. */
export interface AccessStats {
  /** Loads and stores that hit a window through the translation cache. */
  fast: number;
  /** Window accesses that went through the mapping (first touch, copy-on-write, page crossing). */
  slow: number;
}

const TLB_BITS = 10;
const TLB_SIZE = 1 << TLB_BITS;

/**
 * The windows of one program and the `env` hooks binaryen's `--instrument-memory` calls on
 * every load and store. An access outside every window costs one range check. An access inside
 * is served by the model: a load first copies the model's bytes into linear memory (so the real
 * load reads them), a store is written through at its real width. A direct-mapped translation
 * cache holds, per page, the physical address of shared pages already faulted in; it is dropped
 * at every syscall, the only time page tables can change in a single-threaded program.
 * Everything else (first touch, private pages, page-crossing accesses, bad protection) goes
 * through {@link Mapping.read}/{@link Mapping.write}, which fault pages in and raise
 * SIGSEGV/SIGBUS.
 */
export class Windows {
  readonly #list: Window[] = [];
  #lo = 0;
  #hi = 0;
  readonly #tlbTag = new Float64Array(TLB_SIZE).fill(-1);
  readonly #tlbPhys = new Float64Array(TLB_SIZE);
  readonly #tlbWritable = new Uint8Array(TLB_SIZE);
  readonly #scratch = new Uint8Array(8);
  readonly #scratchView = new DataView(this.#scratch.buffer);
  readonly #widths: Uint8Array[] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) =>
    this.#scratch.subarray(0, n),
  );
  #mem: Uint8Array = new Uint8Array(0);
  #pendingAddr = -1;
  #pendingBytes = 0;
  /** Access counts. */
  readonly stats: AccessStats = { fast: 0, slow: 0 };

  /**
   * @param memory - the program's memory (refetched after growth)
   * @param cpu - the CPU port in force (the cache model when one is installed)
   * @param pageSize - the model's page size (a power of two)
   */
  constructor(
    private readonly memory: () => WebAssembly.Memory,
    private readonly cpu: () => CpuPort,
    private readonly pageSize: number,
  ) {}

  /** Binds `[start, start + mapping.length)` to `mapping`. */
  add(start: number, mapping: Mapping): void {
    this.#list.push({ start, end: start + mapping.length, mapping });
    this.#bounds();
    this.flush();
  }

  /** The window starting at `start`, if any. */
  at(start: number): Window | undefined {
    return this.#list.find((w) => w.start === start);
  }

  /** Forgets a window (after munmap). */
  remove(w: Window): void {
    this.#list.splice(this.#list.indexOf(w), 1);
    this.#bounds();
    this.flush();
  }

  /** Every live window. */
  list(): readonly Window[] {
    return this.#list;
  }

  /** Drops the translation cache: page tables may have changed. */
  flush(): void {
    this.#tlbTag.fill(-1);
  }

  #bounds(): void {
    this.#lo = Math.min(...this.#list.map((w) => w.start), Number.POSITIVE_INFINITY);
    this.#hi = Math.max(...this.#list.map((w) => w.end), 0);
  }

  #find(addr: number): Window | undefined {
    for (const w of this.#list) if (addr >= w.start && addr < w.end) return w;
    return undefined;
  }

  /** Physical address for `addr` if the page is cached for this kind of access, else -1. */
  #translate(addr: number, write: boolean): number {
    const ps = this.pageSize;
    const vpage = Math.floor(addr / ps);
    const slot = vpage & (TLB_SIZE - 1);
    if (this.#tlbTag[slot] === vpage && (!write || this.#tlbWritable[slot] === 1)) {
      return (this.#tlbPhys[slot] as number) + (addr - vpage * ps);
    }
    const w = this.#find(addr);
    if (!w) return -1;
    const vma = w.mapping.vma;
    if (!w.mapping.mapped || !vma.shared || (vma.prot & PROT_READ) === 0) return -1;
    const page = Math.floor((addr - w.start) / ps);
    const pfn = vma.pages.get(page);
    if (pfn < 0) return -1;
    const writable = (vma.prot & PROT_WRITE) !== 0;
    if (write && !writable) return -1;
    this.#tlbTag[slot] = vpage;
    this.#tlbPhys[slot] = pfn * ps;
    this.#tlbWritable[slot] = writable ? 1 : 0;
    return pfn * ps + (addr - vpage * ps);
  }

  #crossesPage(addr: number, bytes: number): boolean {
    const ps = this.pageSize;
    return (addr % ps) + bytes > ps;
  }

  #mem8(): Uint8Array {
    const buf = this.memory().buffer;
    if (this.#mem.buffer !== buf) this.#mem = new Uint8Array(buf);
    return this.#mem;
  }

  /** A load of `bytes` at `addr` is about to run: bring the model's bytes in. */
  load(addr: number, bytes: number): void {
    if (addr < this.#lo || addr >= this.#hi) return;
    const mem = this.#mem8();
    if (!this.#crossesPage(addr, bytes)) {
      const phys = this.#translate(addr, false);
      if (phys >= 0) {
        this.stats.fast++;
        this.cpu().read(phys, bytes, mem, addr);
        return;
      }
    }
    const w = this.#find(addr);
    if (!w) return;
    this.stats.slow++;
    const n = Math.min(bytes, w.end - addr);
    mem.set(w.mapping.read(addr - w.start, n), addr);
    this.#tlbTag.fill(-1);
  }

  /** A store of `bytes` at `addr` is about to run; its value comes next. */
  storeAddress(addr: number, bytes: number): void {
    if (addr < this.#lo || addr >= this.#hi) {
      this.#pendingAddr = -1;
      return;
    }
    this.#pendingAddr = addr;
    this.#pendingBytes = bytes;
  }

  /** The pending store's value, as little-endian bytes in the scratch buffer: write it through. */
  #storeScratch(): void {
    const addr = this.#pendingAddr;
    this.#pendingAddr = -1;
    const bytes = this.#pendingBytes;
    const src = this.#widths[bytes] as Uint8Array;
    if (!this.#crossesPage(addr, bytes)) {
      const phys = this.#translate(addr, true);
      if (phys >= 0) {
        this.stats.fast++;
        this.cpu().write(phys, src);
        return;
      }
    }
    const w = this.#find(addr);
    if (!w) return;
    this.stats.slow++;
    w.mapping.write(addr - w.start, src.slice(0, Math.min(bytes, w.end - addr)));
    this.#tlbTag.fill(-1);
  }

  /** The `env` imports `--instrument-memory` adds. */
  hooks(): Record<string, (...args: never[]) => unknown> {
    const v = this.#scratchView;
    return {
      load_ptr: (_id: number, bytes: number, offset: number, ptr: number) => {
        this.load((ptr + offset) >>> 0, bytes);
        return ptr;
      },
      load_val_i32: (_id: number, value: number) => value,
      load_val_i64: (_id: number, value: bigint) => value,
      load_val_f32: (_id: number, value: number) => value,
      load_val_f64: (_id: number, value: number) => value,
      store_ptr: (_id: number, bytes: number, offset: number, ptr: number) => {
        this.storeAddress((ptr + offset) >>> 0, bytes);
        return ptr;
      },
      store_val_i32: (_id: number, value: number) => {
        if (this.#pendingAddr >= 0) {
          v.setInt32(0, value, true);
          this.#storeScratch();
        }
        return value;
      },
      store_val_i64: (_id: number, value: bigint) => {
        if (this.#pendingAddr >= 0) {
          v.setBigInt64(0, value, true);
          this.#storeScratch();
        }
        return value;
      },
      store_val_f32: (_id: number, value: number) => {
        if (this.#pendingAddr >= 0) {
          v.setFloat32(0, value, true);
          this.#storeScratch();
        }
        return value;
      },
      store_val_f64: (_id: number, value: number) => {
        if (this.#pendingAddr >= 0) {
          v.setFloat64(0, value, true);
          this.#storeScratch();
        }
        return value;
      },
      memory_grow_pre: (_id: number, delta: number) => delta,
      memory_grow_post: (_id: number, previous: number) => {
        this.#mem = new Uint8Array(this.memory().buffer);
        return previous;
      },
    };
  }
}
