// Mapped windows in a program's linear memory, and the per-access hooks that serve them.

import type { CpuPort, Mapping, PhysicalMemory } from "@dmabuf/core";
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
const TLB_MASK = TLB_SIZE - 1;

/** Translation cache entry kinds: through the CPU port, or straight to the page's RAM. */
const PORT_R = 1;
const PORT_RW = 2;
const DIRECT_R = 3;
const DIRECT_RW = 4;

const NO_VIEW: Uint8Array = new Uint8Array(0);

/**
 * The windows of one program and the `env` hooks binaryen's `--instrument-memory` calls on
 * every load and store. An access outside every window costs one range check. An access inside
 * is served by the model: a load first copies the model's bytes into linear memory (so the real
 * load reads them), a store is written through at its real width.
 *
 * A direct-mapped translation cache holds, per page, what a shared page already faulted in
 * resolves to. When the CPU port lets accesses bypass it ({@link CpuPort.directMemory}: the
 * plain coherent port with no write observer), that is a view of the page's RAM and an access
 * is one typed-array copy; otherwise (a cache model) it is the physical address and every
 * access goes through the port, so the cache model and its checker see each one. The runtime
 * drops the cache after every import the program calls (a syscall or a WASI call: the only
 * times page tables, the port or device data can change in a single-threaded program); it is
 * also dropped after every access served the slow way, and whenever RAM's backing layout
 * changes under its views ({@link PhysicalMemory.layout}). Everything else (first touch,
 * private pages, page-crossing accesses, bad protection) goes through
 * {@link Mapping.read}/{@link Mapping.write}, which fault pages in and raise SIGSEGV/SIGBUS.
 */
export class Windows {
  readonly #list: Window[] = [];
  #lo = 0;
  #hi = 0;
  readonly #ps: number;
  readonly #shift: number;
  readonly #pmask: number;
  readonly #tlbTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly #tlbKind = new Uint8Array(TLB_SIZE);
  /** The tag again where the entry is a direct view, and where that view may be stored to. */
  readonly #directTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly #directWriteTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly #tlbPhys = new Float64Array(TLB_SIZE);
  readonly #tlbView: Uint8Array[] = new Array<Uint8Array>(TLB_SIZE).fill(NO_VIEW);
  /** The RAM the direct entries view, and its layout when they were made. */
  #ram: PhysicalMemory | null = null;
  #layout = 0;
  readonly #scratch = new Uint8Array(8);
  readonly #scratchView = new DataView(this.#scratch.buffer);
  readonly #widths: Uint8Array[] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) =>
    this.#scratch.subarray(0, n),
  );
  #mem: Uint8Array = new Uint8Array(0);
  #pendingAddr = -1;
  #pendingBytes = 0;
  #fast = 0;
  #slow = 0;

  /**
   * @param memory - the program's memory (refetched after growth)
   * @param cpu - the CPU port in force (the cache model when one is installed)
   * @param pageSize - the model's page size (a power of two, at least 2)
   */
  constructor(
    private readonly memory: () => WebAssembly.Memory,
    private readonly cpu: () => CpuPort,
    pageSize: number,
  ) {
    this.#ps = pageSize;
    this.#shift = Math.log2(pageSize);
    this.#pmask = pageSize - 1;
  }

  /** Access counts so far. */
  get stats(): AccessStats {
    return { fast: this.#fast, slow: this.#slow };
  }

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

  /** Drops the translation cache (page tables, the CPU port or RAM may have changed). */
  flush(): void {
    this.#invalidate();
    this.#ram = null;
  }

  #invalidate(): void {
    this.#tlbTag.fill(-1);
    this.#directTag.fill(-1);
    this.#directWriteTag.fill(-1);
    this.#tlbView.fill(NO_VIEW);
  }

  #bounds(): void {
    this.#lo = Math.min(...this.#list.map((w) => w.start), Number.POSITIVE_INFINITY);
    this.#hi = Math.max(...this.#list.map((w) => w.end), 0);
  }

  #find(addr: number): Window | undefined {
    for (const w of this.#list) if (addr >= w.start && addr < w.end) return w;
    return undefined;
  }

  /**
   * Caches the translation of `addr`'s page if it is a shared page already faulted in and
   * allowed for this kind of access; false when the access must take the slow way.
   */
  #fill(addr: number, write: boolean): boolean {
    const w = this.#find(addr);
    if (!w) return false;
    const vma = w.mapping.vma;
    if (!w.mapping.mapped || !vma.shared || (vma.prot & PROT_READ) === 0) return false;
    const pfn = vma.pages.get(Math.floor((addr - w.start) / this.#ps));
    if (pfn < 0) return false;
    const writable = (vma.prot & PROT_WRITE) !== 0;
    if (write && !writable) return false;
    this.#mem8();
    const slot = (addr >>> this.#shift) & TLB_MASK;
    const ram = this.cpu().directMemory?.() ?? null;
    // The port's read/write here take no memory type: an uncached or write-combine window is
    // served directly (a port without caches ignores the type) or else by the slow path.
    if (ram === null && vma.caching !== "cached") return false;
    let kind = writable ? PORT_RW : PORT_R;
    let view: Uint8Array = NO_VIEW;
    if (ram !== null) {
      const backed = ram.isPageBacked(pfn * this.#ps);
      view = ram.pageBacking(pfn, write);
      kind = writable && (write || backed) ? DIRECT_RW : DIRECT_R;
    }
    // Views made before a change of port or of RAM's backing layout may be stale.
    if (ram !== this.#ram || (ram !== null && ram.layout !== this.#layout)) {
      this.#invalidate();
      this.#ram = ram;
      this.#layout = ram === null ? 0 : ram.layout;
    }
    const vpage = addr >>> this.#shift;
    this.#tlbTag[slot] = vpage;
    this.#tlbKind[slot] = kind;
    this.#directTag[slot] = kind >= DIRECT_R ? vpage : -1;
    this.#directWriteTag[slot] = kind === DIRECT_RW ? vpage : -1;
    this.#tlbPhys[slot] = pfn * this.#ps;
    this.#tlbView[slot] = view;
    return true;
  }

  #mem8(): Uint8Array {
    const buf = this.memory().buffer;
    if (this.#mem.buffer !== buf) this.#mem = new Uint8Array(buf);
    return this.#mem;
  }

  /** A load of `bytes` at `addr` (inside the windows' bounds) is about to run: bring them in. */
  #load(addr: number, bytes: number): void {
    const vpage = addr >>> this.#shift;
    const slot = vpage & TLB_MASK;
    const off = addr & this.#pmask;
    if (this.#directTag[slot] === vpage && off + bytes <= this.#ps) {
      this.#fast++;
      const v = this.#tlbView[slot] as Uint8Array;
      const mem = this.#mem;
      mem[addr] = v[off] as number;
      for (let i = 1; i < bytes; i++) mem[addr + i] = v[off + i] as number;
      return;
    }
    if (this.#tlbTag[slot] === vpage && off + bytes <= this.#ps) {
      this.#fast++;
      this.cpu().read((this.#tlbPhys[slot] as number) + off, bytes, this.#mem, addr);
      return;
    }
    this.#loadMiss(addr, bytes);
  }

  #loadMiss(addr: number, bytes: number): void {
    if ((addr & this.#pmask) + bytes <= this.#ps && this.#fill(addr, false)) {
      this.#load(addr, bytes);
      return;
    }
    const w = this.#find(addr);
    if (!w) return;
    this.#slow++;
    const n = Math.min(bytes, w.end - addr);
    try {
      this.#mem8().set(w.mapping.read(addr - w.start, n), addr);
    } finally {
      this.flush();
    }
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

  /** The pending store of an i32 `value` (or its low bytes): write it through. */
  #store32(value: number): void {
    const addr = this.#pendingAddr;
    this.#pendingAddr = -1;
    const bytes = this.#pendingBytes;
    const vpage = addr >>> this.#shift;
    const slot = vpage & TLB_MASK;
    const off = addr & this.#pmask;
    if (this.#directWriteTag[slot] === vpage && off + bytes <= this.#ps) {
      this.#fast++;
      const v = this.#tlbView[slot] as Uint8Array;
      v[off] = value;
      if (bytes > 1) {
        v[off + 1] = value >> 8;
        if (bytes > 2) {
          v[off + 2] = value >> 16;
          v[off + 3] = value >> 24;
        }
      }
      return;
    }
    this.#scratchView.setInt32(0, value, true);
    this.#storeScratch(addr, bytes);
  }

  /** The pending store's value, as little-endian bytes in the scratch buffer: write it through. */
  #storePending(): void {
    const addr = this.#pendingAddr;
    this.#pendingAddr = -1;
    this.#storeScratch(addr, this.#pendingBytes);
  }

  #storeScratch(addr: number, bytes: number): void {
    const vpage = addr >>> this.#shift;
    const slot = vpage & TLB_MASK;
    const off = addr & this.#pmask;
    if (off + bytes <= this.#ps) {
      const kind = this.#tlbKind[slot];
      if (this.#tlbTag[slot] !== vpage || (kind !== PORT_RW && kind !== DIRECT_RW)) {
        if (!this.#fill(addr, true)) {
          this.#storeSlow(addr, bytes);
          return;
        }
      }
      this.#fast++;
      const src = this.#widths[bytes] as Uint8Array;
      if (this.#tlbKind[slot] === DIRECT_RW) (this.#tlbView[slot] as Uint8Array).set(src, off);
      else this.cpu().write((this.#tlbPhys[slot] as number) + off, src);
      return;
    }
    this.#storeSlow(addr, bytes);
  }

  #storeSlow(addr: number, bytes: number): void {
    const w = this.#find(addr);
    if (!w) return;
    this.#slow++;
    const src = this.#widths[bytes] as Uint8Array;
    try {
      w.mapping.write(addr - w.start, src.slice(0, Math.min(bytes, w.end - addr)));
    } finally {
      this.flush();
    }
  }

  /** The `env` imports `--instrument-memory` adds. */
  hooks(): Record<string, (...args: never[]) => unknown> {
    const v = this.#scratchView;
    return {
      load_ptr: (_id: number, bytes: number, offset: number, ptr: number) => {
        const addr = (ptr + offset) >>> 0;
        if (addr >= this.#lo && addr < this.#hi) this.#load(addr, bytes);
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
        if (this.#pendingAddr >= 0) this.#store32(value);
        return value;
      },
      store_val_i64: (_id: number, value: bigint) => {
        if (this.#pendingAddr >= 0) {
          v.setBigInt64(0, value, true);
          this.#storePending();
        }
        return value;
      },
      store_val_f32: (_id: number, value: number) => {
        if (this.#pendingAddr >= 0) {
          v.setFloat32(0, value, true);
          this.#storePending();
        }
        return value;
      },
      store_val_f64: (_id: number, value: number) => {
        if (this.#pendingAddr >= 0) {
          v.setFloat64(0, value, true);
          this.#storePending();
        }
        return value;
      },
      memory_grow_pre: (_id: number, delta: number) => delta,
      memory_grow_post: (_id: number, previous: number) => {
        this.#mem8();
        return previous;
      },
    };
  }
}
