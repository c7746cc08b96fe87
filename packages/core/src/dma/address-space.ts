// A device's view of memory: bus ranges its live DMA mappings cover, and the IOVA allocator.

import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaDirection,
} from "./direction.js";

/** One piece of a device's view: bus addresses [bus, bus+length) reach [phys, phys+length). */
export interface DmaExtent {
  /** First bus address (an IOVA behind an IOMMU, else the physical address). */
  readonly bus: number;
  /** First physical address. */
  readonly phys: number;
  /** Length in bytes. */
  readonly length: number;
  /** Direction of the mapping: the device may read (TO_DEVICE), write (FROM_DEVICE) or both. */
  readonly dir: DmaDirection;
}

/** Whether a mapping in direction `dir` lets the device write (else: read). */
function permits(dir: DmaDirection, write: boolean): boolean {
  if (dir === DMA_BIDIRECTIONAL) return true;
  return write ? dir === DMA_FROM_DEVICE : dir === DMA_TO_DEVICE;
}

/**
 * The bus addresses one device may use right now: the extents of its live mappings, sorted by
 * bus address. Behind an IOMMU these are the IOMMU's page-table entries (IOVA → physical);
 * without one they are identity extents that DMA-API debugging keeps to catch accesses
 * outside any mapping. Extents may overlap (a buffer mapped twice); lookups are
 * O(log extents) with a prefix maximum of extent ends.
 */
export class DmaAddressSpace {
  readonly #extents: DmaExtent[] = [];
  #maxEnd = new Float64Array(0);
  #dirty = false;

  /** Number of live extents. */
  get size(): number {
    return this.#extents.length;
  }

  /** Adds extents (when a table is mapped). */
  add(extents: readonly DmaExtent[]): void {
    for (const e of extents) {
      let lo = 0;
      let hi = this.#extents.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((this.#extents[mid] as DmaExtent).bus <= e.bus) lo = mid + 1;
        else hi = mid;
      }
      this.#extents.splice(lo, 0, e);
    }
    this.#dirty = true;
  }

  /** Removes exactly these extent objects (when their table is unmapped). */
  remove(extents: readonly DmaExtent[]): void {
    for (const e of extents) {
      const i = this.#extents.indexOf(e);
      if (i >= 0) this.#extents.splice(i, 1);
    }
    this.#dirty = true;
  }

  /**
   * Resolves [bus, bus+length) into physical runs, appended to `out` as (phys, length) pairs,
   * for a device read (`write` false) or write. An extent whose direction forbids the access
   * does not count (an IOMMU maps DMA_TO_DEVICE read-only, DMA_FROM_DEVICE write-only).
   * @returns the number of bytes resolved before the first address no extent covers, and
   * whether that address was covered only by extents of the wrong direction
   */
  resolve(bus: number, length: number, write: boolean, out: number[]): [number, boolean] {
    if (this.#dirty) this.#rebuild();
    let done = 0;
    while (done < length) {
      const a = bus + done;
      const [e, denied] = this.#find(a, write);
      if (!e) return [done, denied];
      const n = Math.min(length - done, e.bus + e.length - a);
      const phys = e.phys + (a - e.bus);
      const last = out.length - 2;
      if (last >= 0 && (out[last] as number) + (out[last + 1] as number) === phys) {
        out[last + 1] = (out[last + 1] as number) + n;
      } else {
        out.push(phys, n);
      }
      done += n;
    }
    return [done, false];
  }

  /** An extent covering address `a` that permits the access, and whether one was denied. */
  #find(a: number, write: boolean): [DmaExtent | undefined, boolean] {
    const ex = this.#extents;
    let lo = 0;
    let hi = ex.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ex[mid] as DmaExtent).bus <= a) lo = mid + 1;
      else hi = mid;
    }
    // Walk back while an earlier extent can still reach `a`.
    let denied = false;
    for (let i = lo - 1; i >= 0 && (this.#maxEnd[i] as number) > a; i--) {
      const e = ex[i] as DmaExtent;
      if (e.bus + e.length > a) {
        if (permits(e.dir, write)) return [e, false];
        denied = true;
      }
    }
    return [undefined, denied];
  }

  #rebuild(): void {
    const ex = this.#extents;
    if (this.#maxEnd.length < ex.length) this.#maxEnd = new Float64Array(ex.length * 2);
    let m = 0;
    for (let i = 0; i < ex.length; i++) {
      const e = ex[i] as DmaExtent;
      m = Math.max(m, e.bus + e.length);
      this.#maxEnd[i] = m;
    }
    this.#dirty = false;
  }
}

/**
 * An IOVA allocator for one IOMMU domain: page-aligned ranges handed out top-down below the
 * device's addressing limit, as the kernel's IOVA allocator does, first fit from the top.
 */
export class IovaAllocator {
  /** Allocated ranges as [start, end) pairs, sorted by start. */
  readonly #ranges: number[] = [];

  /**
   * @param base - lowest IOVA handed out (IOVA 0 is never used)
   * @param pageSize - granule
   */
  constructor(
    readonly base: number,
    readonly pageSize: number,
  ) {}

  /** Bytes currently allocated. */
  get allocatedBytes(): number {
    let n = 0;
    for (let i = 0; i < this.#ranges.length; i += 2) {
      n += (this.#ranges[i + 1] as number) - (this.#ranges[i] as number);
    }
    return n;
  }

  /**
   * Allocates `size` bytes (rounded up to pages) ending at or below `limit` (exclusive).
   * @returns the IOVA, or -1 when no gap is large enough
   */
  alloc(size: number, limit: number): number {
    const ps = this.pageSize;
    const len = Math.ceil(size / ps) * ps;
    const r = this.#ranges;
    let end = Math.floor(limit / ps) * ps;
    for (let i = r.length - 2; i >= -2; i -= 2) {
      const gapStart = i >= 0 ? (r[i + 1] as number) : this.base;
      if (end - len >= gapStart) {
        const start = end - len;
        r.splice(i + 2, 0, start, start + len);
        return start;
      }
      if (i >= 0) end = Math.min(end, r[i] as number);
    }
    return -1;
  }

  /** Frees the range that starts at `iova`. */
  free(iova: number): void {
    for (let i = 0; i < this.#ranges.length; i += 2) {
      if (this.#ranges[i] === iova) {
        this.#ranges.splice(i, 2);
        return;
      }
    }
  }
}
