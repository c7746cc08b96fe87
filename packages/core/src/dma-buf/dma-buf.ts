// struct dma_buf and struct dma_buf_attachment: a shared buffer and one device's hold on it.

import type { Device } from "../dma/device.js";
import type { DmaDirection } from "../dma/direction.js";
import type { DmaResv } from "../fence/dma-resv.js";
import type { SgTable } from "../mm/sg-table.js";
import type { File } from "../vfs/file.js";
import type { KernelMapping } from "./kernel-mapping.js";
import type { DmaBufAttachOps, DmaBufOps } from "./ops.js";

/**
 * A shared buffer (`struct dma_buf`). Its file's reference count is the buffer's reference
 * count: every fd, importer reference ({@link DmaBufCore.get}) and user mapping holds one.
 *
 * @typeParam P - the exporter's private data
 */
export class DmaBuf<P = unknown> {
  /** User-set name (DMA_BUF_SET_NAME): its bytes, verbatim, or null when never named. */
  nameBytes: Uint8Array | null = null;
  /** Attachments, newest first. */
  readonly attachments: DmaBufAttachment[] = [];
  /** Number of kernel vmap users. */
  vmappingCounter = 0;
  /** The cached kernel mapping while `vmappingCounter > 0`. */
  vmapPtr: KernelMapping | null = null;
  /** Whether the core created {@link DmaBuf.resv} (and finishes it at release). */
  ownsResv = false;

  /**
   * @param size - size in bytes, fixed for the buffer's life
   * @param ops - the exporter's methods
   * @param priv - the exporter's private data
   * @param expName - the exporter's name (bufinfo, sysfs, fdinfo)
   * @param owner - the exporting module's name
   * @param file - the backing file
   * @param resv - the reservation object holding the implicit fences
   */
  constructor(
    readonly size: number,
    readonly ops: DmaBufOps<P>,
    readonly priv: P,
    readonly expName: string,
    readonly owner: string,
    readonly file: File,
    readonly resv: DmaResv,
  ) {}

  /** The user-set name as text (its bytes decoded as UTF-8), or null when never named. */
  get name(): string | null {
    return this.nameBytes === null ? null : new TextDecoder().decode(this.nameBytes);
  }

  /** The buffer's inode number (unique per kernel, never reused). */
  get ino(): number {
    return this.file.inode.ino;
  }

  /** Whether the exporter can pin, making the buffer *dynamic* (`dma_buf_is_dynamic`). */
  get isDynamic(): boolean {
    return this.ops.pin !== undefined;
  }
}

/**
 * A device's attachment to a buffer (`struct dma_buf_attachment`).
 */
export class DmaBufAttachment {
  /** Exporter-private data for this attachment (set by `DmaBufOps.attach`). */
  priv: unknown = undefined;
  /** Whether peer-to-peer (device memory) access is allowed. */
  readonly peer2peer: boolean;
  /** 6.1 profile: the cached mapping, if any. */
  sgt: SgTable | null = null;
  /** 6.1 profile: direction of the cached mapping. */
  dir: DmaDirection | null = null;
  /**
   * Live mappings through this attachment, by table (an exporter may hand the same table out
   * for repeated maps of one attachment), each with whether the core pinned for it.
   */
  readonly mapped = new Map<SgTable, { dir: DmaDirection; pinned: boolean }[]>();

  /** Number of live mappings through this attachment. */
  get mappedCount(): number {
    let n = 0;
    for (const recs of this.mapped.values()) n += recs.length;
    return n;
  }
  /** Pins taken through {@link DmaBufCore.pin} and not yet released. */
  pinCount = 0;
  /** False once detached. */
  attached = true;

  /**
   * @param dmabuf - the buffer
   * @param dev - the importing device
   * @param importerOps - importer methods for a dynamic attachment, or null for a static one
   * @param importerPriv - importer-private data
   */
  constructor(
    readonly dmabuf: DmaBuf,
    readonly dev: Device,
    readonly importerOps: DmaBufAttachOps | null,
    readonly importerPriv: unknown,
  ) {
    this.peer2peer = importerOps?.allowPeer2peer ?? false;
  }

  /** Whether the importer handles moves itself (`dma_buf_attachment_is_dynamic`). */
  get isDynamic(): boolean {
    return this.importerOps !== null;
  }
}
