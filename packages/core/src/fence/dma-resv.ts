// struct dma_resv: the reservation object holding a buffer's implicit-sync fences.

import { KernelBug } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import type { DmaFence } from "./dma-fence.js";
import { DmaFenceArray } from "./dma-fence-array.js";

/** Kernel memory management: always waited for (`enum dma_resv_usage`). */
export const DMA_RESV_USAGE_KERNEL = 0;
/** Implicit write: waited for by every later access. */
export const DMA_RESV_USAGE_WRITE = 1;
/** Implicit read: waited for by later writers. */
export const DMA_RESV_USAGE_READ = 2;
/** No implicit sync (explicitly synced work, page-table updates, preemption fences). */
export const DMA_RESV_USAGE_BOOKKEEP = 3;
/** One of the DMA_RESV_USAGE_* values; a query for usage U covers every usage ≤ U. */
export type DmaResvUsage = 0 | 1 | 2 | 3;
/** The usage names bufinfo prints, by usage. */
export const DMA_RESV_USAGE_NAMES = ["kernel", "write", "read", "bookkeep"] as const;

/**
 * The usage an access must wait for (`dma_resv_usage_rw`): a write waits for readers and
 * writers (READ), a read only for writers (WRITE).
 */
export function dmaResvUsageRw(write: boolean): DmaResvUsage {
  return write ? DMA_RESV_USAGE_READ : DMA_RESV_USAGE_WRITE;
}

/** One fence of a reservation object with its usage. */
export interface DmaResvEntry {
  /** The fence. */
  readonly fence: DmaFence;
  /** How it uses the buffer. */
  readonly usage: DmaResvUsage;
}

/** Bytes of `struct dma_resv_list` before its table (rcu_head + two u32), x86-64. */
const LIST_HEADER_BYTES = 24;
/** Bytes per table slot (a pointer). */
const SLOT_BYTES = 8;

/** The kmalloc bucket an allocation of `size` bytes lands in (`kmalloc_size_roundup`). */
function kmallocSizeRoundup(size: number): number {
  for (const bucket of [8, 16, 32, 64, 96, 128, 192]) if (size <= bucket) return bucket;
  let bucket = 256;
  while (bucket < size) bucket *= 2;
  return bucket;
}

/** The slots a fence list allocated for `max` fences really has (its bucket's worth). */
function listCapacity(max: number): number {
  const bytes = kmallocSizeRoundup(LIST_HEADER_BYTES + SLOT_BYTES * max);
  return Math.floor((bytes - LIST_HEADER_BYTES) / SLOT_BYTES);
}

/**
 * A reservation object (`struct dma_resv`): the fences of a buffer, each with a usage. The
 * dma-buf core consults it for poll(), SYNC START's implicit wait, EXPORT/IMPORT_SYNC_FILE,
 * static importers' mappings and bufinfo; device models add fences as they start work.
 *
 * Writers hold the lock, reserve slots, then add: the rules are those of Linux, checked
 * deterministically (a slot reserved under one lock hold is gone after unlock, as debug
 * kernels enforce). Each entry holds a reference to its fence.
 *
 * @example
 * ```ts
 * resv.lock();
 * resv.reserveFences(1);
 * resv.addFence(fence, DMA_RESV_USAGE_WRITE);
 * resv.unlock();
 * ```
 */
export class DmaResv {
  #entries: DmaResvEntry[] = [];
  /** Slots of the current fence list (its kmalloc bucket's worth). */
  #max = 0;
  #locked = false;
  /** Appends still allowed under the current lock hold. */
  #reserved = 0;

  /** Every entry in list order, signalled or not (for inspection). */
  get fences(): readonly DmaResvEntry[] {
    return this.#entries;
  }

  // ---- lock -----------------------------------------------------------------------------

  /** Whether the lock is held. */
  get locked(): boolean {
    return this.#locked;
  }

  /**
   * Takes the lock (`dma_resv_lock` without an acquire context).
   * @throws KernelBug DMA_RESV_DEADLOCK when it is already held: in the single-threaded
   * model nobody could ever release it.
   */
  lock(): void {
    if (this.#locked) throw new KernelBug("DMA_RESV_DEADLOCK", "dma_resv_lock: already held");
    this.#locked = true;
  }

  /** Takes the lock if it is free (`dma_resv_trylock`). @returns whether it was taken */
  tryLock(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  /**
   * Releases the lock (`dma_resv_unlock`); reserved slots are forgotten.
   * @throws KernelBug DMA_RESV_NOT_LOCKED when the lock is not held.
   */
  unlock(): void {
    this.#assertHeld("dma_resv_unlock");
    this.#locked = false;
    this.#reserved = 0;
  }

  #assertHeld(fn: string): void {
    if (!this.#locked) throw new KernelBug("DMA_RESV_NOT_LOCKED", `${fn} without the lock`);
  }

  // ---- writers --------------------------------------------------------------------------

  /**
   * Makes room for `num` more fences (`dma_resv_reserve_fences`). When the list must grow
   * (to max(count + num, 2 × slots), or initially max(4, the next power of two ≥ num),
   * rounded up to the allocation bucket), signalled fences are dropped while copying.
   * @throws KernelError EINVAL for `num` = 0 (Linux also WARNs). KernelBug
   * DMA_RESV_NOT_LOCKED without the lock.
   */
  reserveFences(num: number): void {
    this.#assertHeld("dma_resv_reserve_fences");
    if (!(Number.isInteger(num) && num > 0)) {
      throw new KernelError("EINVAL", "dma_resv_reserve_fences", "no fences to reserve");
    }
    const count = this.#entries.length;
    if (this.#max === 0 || count + num > this.#max) {
      const max =
        this.#max > 0
          ? Math.max(count + num, this.#max * 2)
          : Math.max(4, 2 ** Math.ceil(Math.log2(num)));
      const kept: DmaResvEntry[] = [];
      const dropped: DmaFence[] = [];
      for (const e of this.#entries) {
        if (e.fence.isSignaled()) dropped.push(e.fence);
        else kept.push(e);
      }
      this.#entries = kept;
      this.#max = listCapacity(max);
      for (const f of dropped) f.put();
    }
    this.#reserved = Math.max(this.#reserved, num);
  }

  /**
   * Adds a fence with a usage (`dma_resv_add_fence`), taking a reference. An entry is
   * replaced in place (taking the new usage) when it has signalled, or when it is on the
   * same context with a usage ≥ the new one — and, as the profile's `resvAddSeqnoCheck` says,
   * the new fence is later than or the same as it (mainline), strictly later (6.6: the same
   * fence added again takes a second slot), or whatever its seqno (6.1). So re-adding promotes
   * a usage (READ → WRITE) but never degrades it. Otherwise the fence takes a reserved slot.
   * Adding a container WARNs.
   * @throws KernelBug DMA_RESV_NOT_LOCKED without the lock; DMA_RESV_NO_SLOT when no slot was
   * reserved under this lock hold (Linux: BUG).
   */
  addFence(fence: DmaFence, usage: DmaResvUsage): void {
    this.#assertHeld("dma_resv_add_fence");
    if (fence.isContainer) fence.registry.log.warn("dma_resv_add_fence: adding a container");
    const seqnoCheck = fence.registry.profile.resvAddSeqnoCheck;
    for (let i = 0; i < this.#entries.length; i++) {
      const old = this.#entries[i] as DmaResvEntry;
      const sameContext =
        old.fence.context === fence.context &&
        old.usage >= usage &&
        (seqnoCheck === "none" ||
          (seqnoCheck === "later" ? fence.isLater(old.fence) : fence.isLaterOrSame(old.fence)));
      if (sameContext || old.fence.isSignaled()) {
        this.#entries[i] = { fence: fence.get(), usage };
        old.fence.put();
        return;
      }
    }
    if (this.#reserved <= 0) {
      throw new KernelBug("DMA_RESV_NO_SLOT", "dma_resv_add_fence without a reserved slot");
    }
    this.#reserved--;
    this.#entries.push({ fence: fence.get(), usage });
  }

  /**
   * Replaces every fence of `context` by `replacement` with `usage`
   * (`dma_resv_replace_fences`).
   * @throws KernelBug DMA_RESV_NOT_LOCKED without the lock.
   */
  replaceFences(context: number, replacement: DmaFence, usage: DmaResvUsage): void {
    this.#assertHeld("dma_resv_replace_fences");
    this.#entries.forEach((old, i) => {
      if (old.fence.context !== context) return;
      this.#entries[i] = { fence: replacement.get(), usage };
      old.fence.put();
    });
  }

  /**
   * Convenience for device models: lock (unless held), reserve one slot, add, unlock.
   * @see DmaResv.addFence
   */
  add(fence: DmaFence, usage: DmaResvUsage): void {
    const locked = this.#locked;
    if (!locked) this.lock();
    try {
      this.reserveFences(1);
      this.addFence(fence, usage);
    } finally {
      if (!locked) this.unlock();
    }
  }

  // ---- readers --------------------------------------------------------------------------

  /**
   * Every entry with usage ≤ `usage`, signalled or not, in list order
   * (`dma_resv_for_each_fence`, the locked iteration). No references are taken.
   */
  *iter(usage: DmaResvUsage): Generator<DmaResvEntry> {
    for (const e of [...this.#entries]) if (e.usage <= usage) yield e;
  }

  /**
   * The unsignalled fences with usage ≤ `usage` (`dma_resv_get_fences`, an unlocked
   * iteration, which skips signalled fences). The caller owns a reference to each.
   */
  getFences(usage: DmaResvUsage): DmaFence[] {
    return this.#entries
      .filter((e) => e.usage <= usage && !e.fence.isSignaled())
      .map((e) => e.fence.get());
  }

  /**
   * One fence standing for {@link DmaResv.getFences} (`dma_resv_get_singleton`): null when
   * there are none, the fence itself when there is one, else a new {@link DmaFenceArray} on
   * a fresh context with seqno 1. The caller owns a reference to the result.
   */
  getSingleton(usage: DmaResvUsage): DmaFence | null {
    const fences = this.getFences(usage);
    const [first] = fences;
    if (!first) return null;
    if (fences.length === 1) return first;
    const registry = first.registry;
    return new DmaFenceArray(registry, fences, registry.contextAlloc(1), 1);
  }

  /** True iff no unsignalled fence has usage ≤ `usage` (`dma_resv_test_signaled`). */
  testSignaled(usage: DmaResvUsage): boolean {
    return this.#entries.every((e) => e.usage > usage || e.fence.isSignaled());
  }

  /**
   * Waits for every unsignalled fence with usage ≤ `usage`, one after the other
   * (`dma_resv_wait_timeout`), on the virtual clock.
   * @param intr - interruptible
   * @param timeout - ns, or MAX_SCHEDULE_TIMEOUT
   * @returns the remaining time (> 0) on success — 1 when `timeout` was 0 and all had
   * signalled — or 0 when a fence did not signal in time. As in Linux a `timeout` of 0 still
   * gives each pending fence a wait of 1 (ns here, a jiffy there).
   * @throws as {@link DmaFence.waitTimeout} (EINTR when interrupted or when nothing can
   * signal a fence of an interruptible infinite wait).
   */
  waitTimeout(usage: DmaResvUsage, intr: boolean, timeout: number): number {
    let ret = timeout === 0 ? 1 : timeout;
    for (;;) {
      const next = this.#entries.find((e) => e.usage <= usage && !e.fence.isSignaled());
      if (!next) return ret;
      const fence = next.fence.get();
      try {
        ret = fence.waitTimeout(intr, ret);
      } finally {
        fence.put();
      }
      if (ret <= 0) return ret;
    }
  }

  /**
   * The bufinfo lines of the fences with usage ≤ READ (`dma_resv_describe`):
   * `\t<usage> fence:<driver> <timeline> seq <seqno> <signalled|unsignalled>\n` each.
   */
  describe(): string {
    let out = "";
    for (const e of this.iter(DMA_RESV_USAGE_READ)) {
      out += `\t${DMA_RESV_USAGE_NAMES[e.usage]} fence:${e.fence.describe()}`;
    }
    return out;
  }

  /** Drops every fence (`dma_resv_fini`), when the object's owner goes away. */
  fini(): void {
    const entries = this.#entries;
    this.#entries = [];
    this.#max = 0;
    for (const e of entries) e.fence.put();
  }
}
