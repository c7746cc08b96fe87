// struct dma_buf_ops and struct dma_buf_attach_ops: the exporter and importer contracts.

import type { DmaDirection } from "../dma/direction.js";
import type { SgTable } from "../mm/sg-table.js";
import type { Vma } from "../mm/vma.js";
import type { DmaBuf, DmaBufAttachment } from "./dma-buf.js";
import type { KernelMapping } from "./kernel-mapping.js";

/**
 * The exporter's methods (`struct dma_buf_ops`). The core validates state and arguments, then
 * calls these with exactly the documented arguments; implementations never re-validate.
 * Report failure by throwing {@link KernelError} with the errno Linux would return.
 *
 * `mapDmaBuf`, `unmapDmaBuf` and `release` are **required**: {@link DmaBufCore.export}
 * rejects a table without them (EINVAL). `pin` and `unpin` come together or not at all.
 *
 * @typeParam P - the exporter's private data (`dmabuf->priv`)
 */
export interface DmaBufOps<P = unknown> {
  /**
   * Called by {@link DmaBufCore.attach} / {@link DmaBufCore.dynamicAttach} when a device
   * attaches, before the attachment becomes visible. **Optional**.
   * @remarks Called without the reservation lock. May set `attachment.priv`.
   * @throws KernelError to refuse the device, e.g. EBUSY when the backing store cannot be
   * reached by it; the attachment is then discarded.
   * @see dma_buf_attach
   */
  attach?(buf: DmaBuf<P>, attachment: DmaBufAttachment): void;
  /**
   * Called by {@link DmaBufCore.detach} after the attachment left the list. **Optional**.
   * @remarks Called without the reservation lock.
   */
  detach?(buf: DmaBuf<P>, attachment: DmaBufAttachment): void;
  /**
   * Pin the backing store so it cannot move. Called by {@link DmaBufCore.pin} and, for static
   * importers (or without move-notify support), by {@link DmaBufCore.mapAttachment}.
   * **Optional**, but `pin` and `unpin` must both exist or both be absent; their presence makes
   * the buffer *dynamic*.
   * @remarks Called with the reservation lock held.
   * @throws KernelError on failure (e.g. ENOMEM, EBUSY).
   * @see dma_buf_pin
   */
  pin?(attachment: DmaBufAttachment): void;
  /** Undo one `pin`. **Optional** (see `pin`). Called with the reservation lock held. */
  unpin?(attachment: DmaBufAttachment): void;
  /**
   * Map the buffer for `attachment.dev` and return an sg table with DMA addresses.
   * Called by {@link DmaBufCore.mapAttachment}. **Required**.
   * @remarks Called with the reservation lock held. Addresses and lengths are page aligned.
   * Ownership of the table passes to the caller until `unmapDmaBuf`; do not hand the same
   * table to two attachments. Returning `null`/`undefined` is turned into ENOMEM.
   * @throws KernelError ENOMEM, EINTR, or the DMA mapping error.
   * @see dma_buf_map_attachment
   */
  mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDirection): SgTable | null | undefined;
  /**
   * Release a table returned by `mapDmaBuf`. Called by {@link DmaBufCore.unmapAttachment}.
   * **Required**. Called with the reservation lock held.
   */
  unmapDmaBuf(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void;
  /**
   * Free the backing store. Called exactly once, after the last fd, importer reference and
   * mapping are gone. **Required**.
   * @remarks Called without the reservation lock.
   */
  release(buf: DmaBuf<P>): void;
  /**
   * Prepare for CPU access in direction `dir` (invalidate caches, sync mapped attachments for
   * the CPU). Called by {@link DmaBufCore.beginCpuAccess} (DMA_BUF_IOCTL_SYNC START). **Optional**.
   * @remarks Called without the reservation lock, before the implicit-fence wait.
   * @throws KernelError e.g. EINTR.
   */
  beginCpuAccess?(buf: DmaBuf<P>, dir: DmaDirection): void;
  /**
   * Finish CPU access (clean caches, sync mapped attachments for the device). Called by
   * {@link DmaBufCore.endCpuAccess} (DMA_BUF_IOCTL_SYNC END). **Optional**.
   */
  endCpuAccess?(buf: DmaBuf<P>, dir: DmaDirection): void;
  /**
   * Populate a user mapping (`vma.remapPfnRange`, `vma.insertPfn`, or a fault handler in
   * `vma.ops`). Called by mmap() on the buffer's fd and by {@link DmaBufCore.mmap}, after the
   * core checked that the range lies inside the buffer. **Optional**: without it mmap() fails
   * with EINVAL.
   * @remarks The mapping is not coherent by contract: user space brackets access with SYNC.
   * @throws KernelError e.g. EINVAL for a private mapping the exporter refuses.
   */
  mmap?(buf: DmaBuf<P>, vma: Vma): void;
  /**
   * Map the whole buffer into the kernel's address space. Called by {@link DmaBufCore.vmap}
   * for the first user only (the core refcounts). **Optional**: without it vmap fails with
   * EINVAL.
   * @remarks Called with the reservation lock held.
   * @throws KernelError ENOMEM.
   */
  vmap?(buf: DmaBuf<P>): KernelMapping;
  /**
   * Tear down the mapping `vmap` returned. Called by {@link DmaBufCore.vunmap} when the last
   * user is gone. **Optional**.
   */
  vunmap?(buf: DmaBuf<P>, map: KernelMapping): void;
  /**
   * Linux 6.1 only: let the core cache the first mapping of each attachment and hand it out
   * again (`cache_sgt_mapping`). Must not be combined with `pin`/`unpin`. Ignored under the
   * 6.18 profile, which has no caching.
   */
  cacheSgtMapping?: boolean;
}

/**
 * The importer's methods for a dynamic attachment (`struct dma_buf_attach_ops`).
 */
export interface DmaBufAttachOps {
  /** Whether the importer can handle peer device memory without struct pages. **Optional**. */
  allowPeer2peer?: boolean;
  /**
   * The exporter is moving the buffer: existing mappings stay valid but should be torn down
   * and re-created soon. Called by {@link DmaBufCore.moveNotify} for every dynamic
   * attachment, with the reservation lock held. **Required** for dynamic importers:
   * {@link DmaBufCore.dynamicAttach} rejects ops without it (EINVAL).
   */
  moveNotify(attachment: DmaBufAttachment): void;
}
