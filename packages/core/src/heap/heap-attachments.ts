// HeapAttachments: the per-attachment map and sync bookkeeping a heap keeps for one buffer.

import type { DmaDirection } from "../dma/direction.js";
import type { DmaMappingApi } from "../dma/mapping.js";
import type { DmaBufAttachment } from "../dma-buf/dma-buf.js";
import type { SgTable } from "../mm/sg-table.js";

/** What {@link HeapAttachments} keeps for one attachment. */
interface AttachmentRecord {
  /** The attachment's own table, given at attach; `undefined` when every map brings one. */
  readonly table: SgTable | undefined;
  /** Tables mapped for the attachment's device and not yet unmapped, in map order. */
  readonly mapped: Set<SgTable>;
}

/**
 * The attachments of one heap buffer and the sg tables mapped for them: the bookkeeping behind
 * a heap's `attach`, `detach`, `mapDmaBuf`, `unmapDmaBuf`, `beginCpuAccess` and
 * `endCpuAccess` (`struct dma_buf_ops`), built over the DMA mapping API. Keep one per buffer
 * (in `dmabuf->priv`) and forward those ops to it; it leaves `attachment.priv` to the heap.
 *
 * Two table policies fit: a table per attachment, built at attach and handed out by every
 * map (`attach(attachment, table)`, then `map(attachment, dir)`), or a fresh table per map
 * (`attach(attachment)`, then `map(attachment, dir, table)`).
 *
 * @example
 * ```ts
 * interface Priv { readonly pfns: Float64Array; readonly attachments: HeapAttachments }
 * const ops: DmaBufOps<Priv> = {
 *   attach: (buf, a) => buf.priv.attachments.attach(a, host.sg.fromPages(buf.priv.pfns)),
 *   detach: (buf, a) => buf.priv.attachments.detach(a),
 *   mapDmaBuf: (a, dir) => (a.dmabuf.priv as Priv).attachments.map(a, dir),
 *   unmapDmaBuf: (a, sgt, dir) => (a.dmabuf.priv as Priv).attachments.unmap(a, sgt, dir),
 *   beginCpuAccess: (buf, dir) => buf.priv.attachments.syncForCpu(dir),
 *   endCpuAccess: (buf, dir) => buf.priv.attachments.syncForDevice(dir),
 *   release: (buf) => freePages(buf.priv.pfns),
 * };
 * ```
 */
export class HeapAttachments {
  /** The records, in attach order. */
  readonly #records = new Map<DmaBufAttachment, AttachmentRecord>();
  /** The DMA mapping API. */
  readonly #dma: DmaMappingApi;

  /** @param dma - the DMA mapping API tables are mapped and synced with (`kernel.dma`) */
  constructor(dma: DmaMappingApi) {
    this.#dma = dma;
  }

  /** Number of tables currently mapped, over all attachments. */
  get mappedCount(): number {
    let n = 0;
    for (const r of this.#records.values()) n += r.mapped.size;
    return n;
  }

  /** The live attachments, in attach order (a new array on every call). */
  attachments(): DmaBufAttachment[] {
    return [...this.#records.keys()];
  }

  /**
   * Records a new attachment. Call it from the heap's `attach` op
   * ({@link DmaBufOps.attach}).
   * @remarks Called without the reservation lock. Does not touch `attachment.priv`. Attaching
   * an attachment that is already recorded replaces its record (its mapped tables are
   * forgotten, not unmapped).
   * @param attachment - the attachment being made
   * @param table - the attachment's own, unmapped table, which {@link HeapAttachments.map}
   * maps and returns when it gets no table; omit it when every map brings a fresh one
   */
  attach(attachment: DmaBufAttachment, table?: SgTable): void {
    this.#records.set(attachment, { table, mapped: new Set() });
  }

  /**
   * Forgets an attachment. Call it from the heap's `detach` op ({@link DmaBufOps.detach});
   * an attachment never recorded is ignored.
   * @remarks Called without the reservation lock. Unmaps nothing: the core requires the
   * importer to unmap before it detaches (DMA-API debugging reports it otherwise).
   */
  detach(attachment: DmaBufAttachment): void {
    this.#records.delete(attachment);
  }

  /**
   * Maps a table for `attachment.dev` (`dma_map_sgtable`) and records it as mapped, so CPU
   * access syncs it until it is unmapped. Call it from the heap's `mapDmaBuf` op
   * ({@link DmaBufOps.mapDmaBuf}).
   * @remarks Called with the reservation lock held. Nothing is recorded when the mapping
   * fails.
   * @param attachment - a recorded attachment
   * @param dir - the direction of the mapping
   * @param table - the table to map; defaults to the attachment's own table given at attach
   * @param attrs - DMA_ATTR_* bits for `dma_map_sgtable` (default 0): a heap whose CPU
   * mappings are uncached passes {@link DMA_ATTR_SKIP_CPU_SYNC}
   * @returns the mapped table, whose ownership passes to the importer until unmap
   * @throws TypeError when `attachment` is not recorded, or when no table is given and the
   * attachment has none of its own.
   * @throws KernelError the mapping's error, unchanged (EINVAL for a bad direction, ENOMEM
   * when the device's address space is exhausted).
   * @see dma_buf_map_attachment
   */
  map(attachment: DmaBufAttachment, dir: DmaDirection, table?: SgTable, attrs = 0): SgTable {
    const record = this.#recordOf(attachment);
    const sgt = table ?? record.table;
    if (!sgt) throw new TypeError(`no table to map for ${attachment.dev.name}`);
    this.#dma.mapSgtable(attachment.dev, sgt, dir, attrs);
    record.mapped.add(sgt);
    return sgt;
  }

  /**
   * Records `sgt` as no longer mapped and unmaps it from `attachment.dev`
   * (`dma_unmap_sgtable`). Call it from the heap's `unmapDmaBuf` op
   * ({@link DmaBufOps.unmapDmaBuf}).
   * @remarks Called with the reservation lock held.
   * @param attachment - a recorded attachment
   * @param sgt - a table {@link HeapAttachments.map} returned for it
   * @param dir - the direction it was mapped with
   * @param attrs - DMA_ATTR_* bits for `dma_unmap_sgtable` (default 0), as given to map
   * @throws TypeError when `attachment` is not recorded.
   * @throws KernelBug (DMA-API debugging) when `sgt` is not mapped for the device or `dir`
   * differs from the mapping's, as {@link DmaMappingApi.unmapSgtable} reports it.
   * @see dma_buf_unmap_attachment
   */
  unmap(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection, attrs = 0): void {
    this.#recordOf(attachment).mapped.delete(sgt);
    this.#dma.unmapSgtable(attachment.dev, sgt, dir, attrs);
  }

  /**
   * Makes device writes visible to the CPU: syncs every mapped table for the CPU
   * (`dma_sync_sgtable_for_cpu`), attachments in attach order, tables in map order. Call it
   * from the heap's `beginCpuAccess` op ({@link DmaBufOps.beginCpuAccess}).
   * @remarks Called without the reservation lock (DMA_BUF_IOCTL_SYNC START). Tables not
   * mapped now are left alone.
   * @param dir - the direction of the CPU access
   * @throws KernelBug (DMA-API debugging) as {@link DmaMappingApi.syncSgtableForCpu} reports it.
   */
  syncForCpu(dir: DmaDirection): void {
    for (const [a, r] of this.#records) {
      for (const t of r.mapped) this.#dma.syncSgtableForCpu(a.dev, t, dir);
    }
  }

  /**
   * Makes CPU writes visible to the devices: syncs every mapped table for its device
   * (`dma_sync_sgtable_for_device`), attachments in attach order, tables in map order. Call
   * it from the heap's `endCpuAccess` op ({@link DmaBufOps.endCpuAccess}).
   * @remarks Called without the reservation lock (DMA_BUF_IOCTL_SYNC END). Tables not mapped
   * now are left alone.
   * @param dir - the direction of the CPU access
   * @throws KernelBug (DMA-API debugging) as {@link DmaMappingApi.syncSgtableForDevice}
   * reports it.
   */
  syncForDevice(dir: DmaDirection): void {
    for (const [a, r] of this.#records) {
      for (const t of r.mapped) this.#dma.syncSgtableForDevice(a.dev, t, dir);
    }
  }

  /** The record of `attachment`. */
  #recordOf(attachment: DmaBufAttachment): AttachmentRecord {
    const record = this.#records.get(attachment);
    if (!record) throw new TypeError(`attachment of ${attachment.dev.name} is not recorded`);
    return record;
  }
}
