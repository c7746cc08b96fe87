// The dma-buf core (drivers/dma-buf/dma-buf.c): export, fds, references, attachments, mappings.

import * as z from "zod";
import type { Device } from "../dma/device.js";
import {
  DMA_BIDIRECTIONAL,
  DMA_TO_DEVICE,
  type DmaDirection,
  isValidDirection,
} from "../dma/direction.js";
import type { DmaMappingApi } from "../dma/mapping.js";
import { KernelBug } from "../errors/kernel-bug.js";
import { KernelError } from "../errors/kernel-error.js";
import { pluginBadReturn, pluginFault } from "../errors/plugin-fault.js";
import { type FenceRegistry, MAX_SCHEDULE_TIMEOUT } from "../fence/dma-fence.js";
import {
  DMA_RESV_USAGE_KERNEL,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  DmaResv,
} from "../fence/dma-resv.js";
import type { KernelLog } from "../kernel-log.js";
import type { CpuHolder } from "../mm/mapping.js";
import { bufferInWords, type PageOwners } from "../mm/page-owner.js";
import { SgTable } from "../mm/sg-table.js";
import type { Vma } from "../mm/vma.js";
import type { KernelProfile } from "../profile.js";
import { traceMapping } from "../trace/dma-buf-points.js";
import type { TraceRecorder } from "../trace/recorder.js";
import { DMA_BUF_MAGIC, DMA_BUF_NAME_LEN } from "../uapi/dma-buf.js";
import { FMODE_LSEEK, FMODE_OPENED, O_ACCMODE, O_NONBLOCK } from "../uapi/fcntl.js";
import { File, type FileTable } from "../vfs/file.js";
import type { Inode } from "../vfs/inode.js";
import { openFmode } from "../vfs/open.js";
import type { Process } from "../vfs/process.js";
import { DmaBuf, DmaBufAttachment } from "./dma-buf.js";
import { type ExportInfo, exportInfoSchema } from "./export-info.js";
import { dmaBufFileOperations } from "./file-ops.js";
import { KernelMapping } from "./kernel-mapping.js";
import type { DmaBufAttachOps } from "./ops.js";

/** What the dma-buf core needs from its kernel. */
export interface DmaBufHost extends CpuHolder {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Behaviour switches of the kernel version. */
  readonly profile: KernelProfile;
  /** The live-file table. */
  readonly files: FileTable;
  /** The kernel log. */
  readonly log: KernelLog;
  /** The DMA mapping API. */
  readonly dma: DmaMappingApi;
  /** CONFIG_DMABUF_MOVE_NOTIFY: dynamic importers are not pinned on map. */
  readonly moveNotify: boolean;
  /** The kernel's fence state (sync files, the stub fence). */
  readonly fences: FenceRegistry;
  /** The kernel's event trace, if any. */
  readonly trace?: TraceRecorder;
  /** The kernel's page owners: pages an exporter takes in attach or map are named by them. */
  readonly pageOwners?: PageOwners;
}

/** Major:minor of the dmabuf pseudo filesystem, as fstat and /proc/PID/maps show it. */
export const DMABUF_FS_DEV: readonly [number, number] = [0, 8];
/** Mount id of the dmabuf pseudo filesystem, as fdinfo shows it. */
export const DMABUF_FS_MNT_ID = 9;

/**
 * The in-kernel dma-buf API of one kernel: the `dma_buf_*` functions as methods. Exporters
 * call {@link DmaBufCore.export} and {@link DmaBufCore.fd}; importers (device drivers) call
 * get/attach/map/unmap/detach/put. Every method validates state and arguments first, then
 * calls the exporter's {@link DmaBufOps} member with exactly the documented arguments.
 *
 * @remarks The methods take the reservation lock themselves where Linux requires it (they
 * behave like the `*_unlocked` variants).
 */
export class DmaBufCore {
  #nextIno = 1;
  /** Live buffers, oldest first: a Set so that export and release are O(1). */
  readonly #live = new Set<DmaBuf>();
  /** The buffers' file operations: a file is a dma-buf exactly when it has these (`is_dma_buf_file`). */
  readonly #fops;

  /** @param host - the kernel */
  constructor(private readonly host: DmaBufHost) {
    this.#fops = dmaBufFileOperations(this, host.fences);
  }

  /** Every live buffer, newest first (the global list bufinfo walks). */
  list(): readonly DmaBuf[] {
    return [...this.#live].reverse();
  }

  /** The number of live buffers. */
  get count(): number {
    return this.#live.size;
  }

  /** The buffer behind a file, if the file is a dma-buf. */
  fromFile(file: File): DmaBuf | undefined {
    return file.fops === this.#fops ? (file.privateData as DmaBuf) : undefined;
  }

  /**
   * Creates a buffer (`dma_buf_export`). The caller owns one reference, which
   * {@link DmaBufCore.fd} hands to an fd or {@link DmaBufCore.put} drops.
   *
   * Checks, in the kernel's order: the export info's fields; `ops.mapDmaBuf`, `unmapDmaBuf`
   * and `release` present; `pin` and `unpin` both or neither (6.1: and not combined with
   * `cacheSgtMapping`); then the file is created (an inode number is consumed from here on)
   * and, with sysfs statistics, `expName` must be set.
   * @throws KernelError EINVAL for any failed check.
   * @see dma_buf_export
   */
  export<P>(info: ExportInfo<P>): DmaBuf<P> {
    const parsed = exportInfoSchema.safeParse(info);
    if (!parsed.success) {
      throw new KernelError("EINVAL", "dma_buf_export", z.prettifyError(parsed.error));
    }
    const { ops, priv } = info;
    const { size, flags, owner } = parsed.data;
    if (!ops.mapDmaBuf || !ops.unmapDmaBuf || !ops.release) {
      this.host.log.warn("dma_buf_export: exporter lacks map_dma_buf, unmap_dma_buf or release");
      throw new KernelError("EINVAL", "dma_buf_export", "mandatory ops missing");
    }
    if (!ops.pin !== !ops.unpin) {
      throw new KernelError("EINVAL", "dma_buf_export", "pin and unpin must come together");
    }
    if (this.host.profile.sgtCaching && ops.cacheSgtMapping && ops.pin) {
      throw new KernelError("EINVAL", "dma_buf_export", "cacheSgtMapping with pin/unpin");
    }
    const ino = this.#nextIno++;
    if (this.host.profile.sysfsStats && parsed.data.expName === undefined) {
      throw new KernelError("EINVAL", "dma_buf_export", "exp_name is required for sysfs stats");
    }
    const inode: Inode = {
      ino,
      mode: 0o600,
      uid: 0,
      gid: 0,
      size,
      dev: DMABUF_FS_DEV,
      rdev: [0, 0],
      nlink: 1,
      blocks: Math.floor(size / 512), // inode_set_bytes: i_blocks = size >> 9
      blksize: 4096,
    };
    let buf: DmaBuf<P> | undefined;
    const file = new File(
      inode,
      this.#fops,
      { path: () => `/dmabuf:${buf?.name ?? ""}`, mntId: DMABUF_FS_MNT_ID, fsMagic: DMA_BUF_MAGIC },
      flags & (O_ACCMODE | O_NONBLOCK),
      openFmode(flags) | FMODE_LSEEK | FMODE_OPENED,
      this.host.files,
    );
    const resv = parsed.data.resv ?? new DmaResv();
    buf = new DmaBuf<P>(size, ops, priv, parsed.data.expName ?? "", owner, file, resv);
    buf.ownsResv = resv !== parsed.data.resv;
    file.privateData = buf;
    this.#live.add(buf as DmaBuf);
    if (this.host.trace?.on)
      this.host.trace.emit("export", { buf: ino, bytes: size, text: buf.expName });
    return buf;
  }

  /**
   * Called by the file's release method once the last reference is gone. A buffer still
   * vmapped is a bug of the vmap user (Linux: BUG_ON): it is reported as a
   * DMA_BUF_RELEASE_VMAPPED finding and the release goes on, so the pages are freed and the
   * leaked kernel mapping is dropped.
   */
  release(buf: DmaBuf): void {
    this.#live.delete(buf);
    if (this.host.trace?.on) this.host.trace.emit("release", { buf: buf.ino, bytes: buf.size });
    if (buf.vmappingCounter !== 0) {
      this.host.log.bug(
        "DMA_BUF_RELEASE_VMAPPED",
        `${describe(buf)} released with ${buf.vmappingCounter} vmap users`,
      );
      buf.vmappingCounter = 0;
      buf.vmapPtr = null;
    }
    buf.ops.release(buf);
    if (buf.ownsResv) buf.resv.fini();
    if (buf.attachments.length > 0) {
      this.host.log.warn(
        `dma_buf_release: buffer ${buf.ino} released with ${buf.attachments.length} attachments`,
      );
    }
  }

  /**
   * Refuses a buffer whose last reference is gone. Linux would use freed memory; the model
   * throws a DMA_BUF_USE_AFTER_FREE KernelBug at the in-kernel caller (and logs it as a
   * finding) before anything changes.
   */
  #alive(buf: DmaBuf, fn: string): void {
    if (!buf) throw new KernelError("EINVAL", fn);
    if (buf.file.refCount === 0) {
      const detail = `${fn}: ${describe(buf)} used after its last reference was dropped`;
      this.host.log.bug("DMA_BUF_USE_AFTER_FREE", detail);
      throw new KernelBug("DMA_BUF_USE_AFTER_FREE", detail);
    }
  }

  /**
   * Installs the caller's reference in a new fd of `proc` (`dma_buf_fd`); only O_CLOEXEC of
   * `flags` matters.
   * @throws KernelError EINVAL for a missing buffer; ESRCH when `proc` has exited (nobody
   * would close the fd); EMFILE when `proc` has no free fd (the reference then stays with the
   * caller). KernelBug DMA_BUF_USE_AFTER_FREE for a released buffer.
   */
  fd(buf: DmaBuf, proc: Process, flags: number): number {
    this.#alive(buf, "dma_buf_fd");
    if (proc.exited) throw new KernelError("ESRCH", "dma_buf_fd", `process ${proc.pid} has exited`);
    return proc.installFd(buf.file, flags, "dma_buf_fd");
  }

  /**
   * Takes a reference on the buffer behind `fd` of `proc` (`dma_buf_get`).
   * @throws KernelError EBADF when the fd is not open; EINVAL when it is not a dma-buf.
   */
  get(proc: Process, fd: number): DmaBuf {
    const file = proc.fileOf(fd, "dma_buf_get");
    const buf = this.fromFile(file);
    if (!buf) throw new KernelError("EINVAL", "dma_buf_get", `fd ${fd} is not a dma-buf`);
    file.get();
    return buf;
  }

  /** Takes an extra reference (`get_dma_buf`). */
  getDmaBuf(buf: DmaBuf): DmaBuf {
    buf.file.get();
    return buf;
  }

  /** Drops a reference (`dma_buf_put`); the last one releases the buffer. */
  put(buf: DmaBuf): void {
    buf.file.put();
  }

  /**
   * Attaches a static importer's device (`dma_buf_attach`).
   * @see DmaBufCore.dynamicAttach
   */
  attach(buf: DmaBuf, dev: Device): DmaBufAttachment {
    return this.dynamicAttach(buf, dev, null, undefined);
  }

  /**
   * Attaches a device (`dma_buf_dynamic_attach`). With `importerOps` the attachment is
   * dynamic: the importer handles moves itself and must provide `moveNotify`.
   * Under the 6.1 profile an attachment whose dynamic-ness differs from the exporter's is
   * mapped (DMA_BIDIRECTIONAL) and cached right away.
   * @throws KernelError EINVAL (missing buffer or device, importer ops without moveNotify);
   * whatever the exporter's `attach` throws; 6.1: the error of the attach-time mapping.
   * KernelBug DMA_BUF_USE_AFTER_FREE for a released buffer.
   */
  dynamicAttach(
    buf: DmaBuf,
    dev: Device,
    importerOps: DmaBufAttachOps | null,
    importerPriv?: unknown,
  ): DmaBufAttachment {
    if (!buf || !dev) throw new KernelError("EINVAL", "dma_buf_attach", "buffer and device needed");
    this.#alive(buf, "dma_buf_attach");
    if (importerOps && typeof importerOps.moveNotify !== "function") {
      this.host.log.warn("dma_buf_dynamic_attach: importer ops without move_notify");
      throw new KernelError("EINVAL", "dma_buf_dynamic_attach", "moveNotify is required");
    }
    const a = new DmaBufAttachment(buf, dev, importerOps, importerPriv);
    const owner = this.#ownPages(buf, "attach", dev);
    try {
      buf.ops.attach?.(buf, a);
    } catch (e) {
      throw this.#fault(e, buf, "attach", "dma_buf_attach");
    } finally {
      if (owner !== undefined) this.host.pageOwners?.close(owner);
    }
    buf.attachments.unshift(a);
    if (this.host.trace?.on) this.host.trace.emit("attach", { buf: buf.ino, dev: dev.name });
    if (this.host.profile.sgtCaching && a.isDynamic !== buf.isDynamic) {
      try {
        if (buf.ops.pin) buf.ops.pin(a);
        let sgt: SgTable | null | undefined;
        try {
          sgt = this.#map(a, DMA_BIDIRECTIONAL, "dma_buf_attach");
          this.#waitKernelFences(a, sgt, DMA_BIDIRECTIONAL);
        } catch (e) {
          buf.ops.unpin?.(a);
          throw e;
        }
        a.sgt = sgt;
        a.dir = DMA_BIDIRECTIONAL;
      } catch (e) {
        this.#unlink(buf, a);
        throw e;
      }
    }
    return a;
  }

  /**
   * Detaches a device (`dma_buf_detach`). 6.1: first unmaps (and unpins) a cached mapping.
   * @remarks A detach of an attachment that does not belong to `buf` only WARNs, as in Linux.
   * Live mappings at detach WARN too, and are a DMA-API debugging report.
   * @throws KernelBug DMA_API_DETACH_MAPPED when live mappings remain and that report is fatal
   * (`kernel.dma.debug.fatal`); the attachment then stays attached.
   */
  detach(buf: DmaBuf, attachment: DmaBufAttachment): void {
    if (!buf || !attachment || attachment.dmabuf !== buf || !attachment.attached) {
      this.host.log.warn("dma_buf_detach: attachment does not belong to this buffer");
      return;
    }
    // DMA-API debugging: live mappings at detach (fatal only when made so; then nothing changed).
    this.host.dma.debug.enter("detach", buf);
    try {
      this.host.dma.checkDetach(attachment.dev, attachment.mappedCount);
    } finally {
      this.host.dma.debug.leave();
    }
    if (attachment.sgt && attachment.dir !== null) {
      buf.ops.unmapDmaBuf(attachment, attachment.sgt, attachment.dir);
      if (buf.isDynamic) buf.ops.unpin?.(attachment);
      attachment.sgt = null;
      attachment.dir = null;
    }
    if (attachment.mappedCount > 0) {
      this.host.log.warn(
        `dma_buf_detach: ${attachment.dev.name} detaches with ${attachment.mappedCount} live mappings`,
      );
    }
    this.#unlink(buf, attachment);
    if (this.host.trace?.on)
      this.host.trace.emit("detach", { buf: buf.ino, dev: attachment.dev.name });
  }

  #unlink(buf: DmaBuf, a: DmaBufAttachment): void {
    buf.attachments.splice(buf.attachments.indexOf(a), 1);
    a.attached = false;
    buf.ops.detach?.(buf, a);
  }

  /**
   * Pins the buffer for a dynamic importer (`dma_buf_pin`); a no-op when the exporter cannot
   * pin.
   * @throws whatever the exporter's pin throws.
   */
  pin(attachment: DmaBufAttachment): void {
    if (!attachment.isDynamic) this.host.log.warn("dma_buf_pin: static attachment");
    attachment.dmabuf.ops.pin?.(attachment);
    attachment.pinCount++;
  }

  /** Undoes one {@link DmaBufCore.pin} (`dma_buf_unpin`). */
  unpin(attachment: DmaBufAttachment): void {
    if (!attachment.isDynamic) this.host.log.warn("dma_buf_unpin: static attachment");
    if (attachment.pinCount === 0) {
      throw new KernelBug("DMA_BUF_UNPIN_UNBALANCED", `${attachment.dev.name} was not pinned`);
    }
    attachment.dmabuf.ops.unpin?.(attachment);
    attachment.pinCount--;
  }

  /**
   * Maps the buffer for the attachment's device (`dma_buf_map_attachment`). A dynamic
   * exporter is pinned for the mapping when the importer is static or move-notify support is
   * off. 6.1: a cached mapping is returned again (EBUSY when its direction conflicts), and
   * with `cacheSgtMapping` the new mapping is cached.
   * @throws KernelError EINVAL (detached attachment, bad direction); EBUSY (6.1 direction
   * conflict); ENOMEM when the exporter returns nothing; the exporter's error. KernelBug
   * DMA_BUF_USE_AFTER_FREE when the buffer was released.
   */
  mapAttachment(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    if (!attachment?.attached) throw new KernelError("EINVAL", "dma_buf_map_attachment");
    if (!isValidDirection(dir)) throw new KernelError("EINVAL", "dma_buf_map_attachment");
    const buf = attachment.dmabuf;
    this.#alive(buf, "dma_buf_map_attachment");
    const caching = this.host.profile.sgtCaching;
    if (caching && attachment.sgt) {
      if (attachment.dir !== dir && attachment.dir !== DMA_BIDIRECTIONAL) {
        throw new KernelError("EBUSY", "dma_buf_map_attachment", "cached in another direction");
      }
      return attachment.sgt;
    }
    const pinOnMap =
      buf.ops.pin !== undefined && (!this.host.moveNotify || (!caching && !attachment.isDynamic));
    if (pinOnMap) buf.ops.pin?.(attachment);
    let sgt: SgTable | null | undefined;
    const debug = this.host.dma.debug;
    debug.enter("map_dma_buf", buf);
    try {
      sgt = this.#map(attachment, dir, "dma_buf_map_attachment");
      this.#waitKernelFences(attachment, sgt, dir);
    } catch (e) {
      if (pinOnMap) buf.ops.unpin?.(attachment);
      throw e;
    } finally {
      debug.leave();
    }
    if (caching && buf.ops.cacheSgtMapping) {
      attachment.sgt = sgt;
      attachment.dir = dir;
    } else {
      const recs = attachment.mapped.get(sgt);
      if (recs) recs.push({ dir, pinned: pinOnMap });
      else attachment.mapped.set(sgt, [{ dir, pinned: pinOnMap }]);
    }
    if (this.host.trace?.on) traceMapping(this.host.trace, "map", buf, attachment.dev, sgt, dir);
    return sgt;
  }

  /**
   * The exporter's mapDmaBuf: nothing returned is ENOMEM; something other than an SgTable, or
   * a plain error thrown, is a bug of the exporter (finding + EIO).
   */
  #map(a: DmaBufAttachment, dir: DmaDirection, fn: string): SgTable {
    const buf = a.dmabuf;
    let sgt: SgTable | null | undefined;
    const owner = this.#ownPages(buf, "map_dma_buf", a.dev);
    try {
      sgt = buf.ops.mapDmaBuf(a, dir);
    } catch (e) {
      throw this.#fault(e, buf, "mapDmaBuf", fn);
    } finally {
      if (owner !== undefined) this.host.pageOwners?.close(owner);
    }
    if (sgt === null || sgt === undefined) {
      throw new KernelError("ENOMEM", fn, "exporter mapped nothing");
    }
    if (!(sgt instanceof SgTable)) {
      throw pluginBadReturn(this.host.log, exporterOf(buf), "mapDmaBuf", fn, sgt);
    }
    return sgt;
  }

  /** Opens the page owner of an exporter op: `exporter 'x' attach of buffer inode 5 for gpu0`. */
  #ownPages(buf: DmaBuf, op: string, dev: Device): number | undefined {
    return this.host.pageOwners?.open(
      () => `exporter '${buf.expName}' ${op} of ${bufferInWords(buf)} for ${dev.name}`,
    );
  }

  /** What an exporter op threw, as the caller passes it on (see `pluginFault`). */
  #fault(e: unknown, buf: DmaBuf, op: string, fn: string): Error {
    return pluginFault(this.host.log, e, exporterOf(buf), op, fn);
  }

  /**
   * A static importer waits (interruptibly, without timeout) for the buffer's KERNEL fences
   * right after the exporter mapped it; if the wait fails the table is unmapped again and
   * the error returned. Dynamic importers wait for fences themselves.
   */
  #waitKernelFences(a: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    if (a.isDynamic) return;
    try {
      a.dmabuf.resv.waitTimeout(DMA_RESV_USAGE_KERNEL, true, MAX_SCHEDULE_TIMEOUT);
    } catch (e) {
      a.dmabuf.ops.unmapDmaBuf(a, sgt, dir);
      throw e;
    }
  }

  /**
   * Unmaps a table returned by {@link DmaBufCore.mapAttachment} (`dma_buf_unmap_attachment`).
   * 6.1: unmapping the cached table is a no-op (it goes at detach).
   * @throws KernelBug DMA_BUF_UNMAP_NOT_MAPPED when the table is not mapped through this
   * attachment (never mapped, or already unmapped).
   */
  unmapAttachment(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection): void {
    if (attachment.sgt === sgt) return;
    const recs = attachment.mapped.get(sgt);
    const rec = recs?.pop();
    if (!recs || !rec) {
      throw new KernelBug(
        "DMA_BUF_UNMAP_NOT_MAPPED",
        `${attachment.dev.name}: table not mapped through this attachment`,
      );
    }
    if (recs.length === 0) attachment.mapped.delete(sgt);
    const buf = attachment.dmabuf;
    if (this.host.trace?.on) traceMapping(this.host.trace, "unmap", buf, attachment.dev, sgt, dir);
    const debug = this.host.dma.debug;
    debug.enter("unmap_dma_buf", buf);
    try {
      buf.ops.unmapDmaBuf(attachment, sgt, dir);
    } finally {
      debug.leave();
    }
    if (rec.pinned) buf.ops.unpin?.(attachment);
  }

  /** Tells every dynamic importer that the buffer moves (`dma_buf_move_notify`). */
  moveNotify(buf: DmaBuf): void {
    for (const a of buf.attachments) a.importerOps?.moveNotify(a);
  }

  /**
   * Begins CPU access (`dma_buf_begin_cpu_access`): the exporter's `beginCpuAccess`, then an
   * interruptible wait without timeout for the implicit fences (a CPU write waits for
   * KERNEL, WRITE and READ fences, a read for KERNEL and WRITE fences), running the virtual
   * clock until they signal.
   * @throws KernelError from the exporter; EINTR when interrupted, or when no pending clock
   * event can signal the fences (the model reports a wait nothing can end instead of
   * hanging; Linux would sleep until a signal, which the 6.1 probe's alarm gave as EINTR).
   */
  beginCpuAccess(buf: DmaBuf, dir: DmaDirection, ioctlPid = -1): void {
    this.#alive(buf, "dma_buf_begin_cpu_access");
    if (this.host.trace?.on) this.host.trace.emit("cpu-begin", { buf: buf.ino, dir });
    const debug = this.host.dma.debug;
    if (ioctlPid >= 0) debug.enter("DMA_BUF_IOCTL_SYNC", undefined, ioctlPid);
    debug.enter("begin_cpu_access", buf);
    try {
      try {
        buf.ops.beginCpuAccess?.(buf, dir);
      } catch (e) {
        throw this.#fault(e, buf, "beginCpuAccess", "dma_buf_begin_cpu_access");
      }
      const write = dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE;
      buf.resv.waitTimeout(
        write ? DMA_RESV_USAGE_READ : DMA_RESV_USAGE_WRITE,
        true,
        MAX_SCHEDULE_TIMEOUT,
      );
    } finally {
      debug.leave();
      if (ioctlPid >= 0) debug.leave();
    }
  }

  /**
   * Ends CPU access (`dma_buf_end_cpu_access`): the exporter's `endCpuAccess`.
   * @throws KernelError from the exporter.
   */
  endCpuAccess(buf: DmaBuf, dir: DmaDirection, ioctlPid = -1): void {
    this.#alive(buf, "dma_buf_end_cpu_access");
    if (this.host.trace?.on) this.host.trace.emit("cpu-end", { buf: buf.ino, dir });
    const debug = this.host.dma.debug;
    if (ioctlPid >= 0) debug.enter("DMA_BUF_IOCTL_SYNC", undefined, ioctlPid);
    debug.enter("end_cpu_access", buf);
    try {
      buf.ops.endCpuAccess?.(buf, dir);
    } catch (e) {
      throw this.#fault(e, buf, "endCpuAccess", "dma_buf_end_cpu_access");
    } finally {
      debug.leave();
      if (ioctlPid >= 0) debug.leave();
    }
  }

  /**
   * Maps the buffer into a mapping created by another driver (`dma_buf_mmap`): the mapping is
   * redirected to the buffer's file, `pgoff` pages into the buffer.
   * @throws KernelError EINVAL (no mmap op, range past the end); EOVERFLOW (pgoff + length
   * overflows).
   */
  mmap(buf: DmaBuf, vma: Vma, pgoff: number): void {
    if (!buf || !vma) throw new KernelError("EINVAL", "dma_buf_mmap");
    this.#alive(buf, "dma_buf_mmap");
    if (!buf.ops.mmap) throw new KernelError("EINVAL", "dma_buf_mmap", "exporter cannot mmap");
    if (!Number.isSafeInteger(pgoff + vma.pageCount))
      throw new KernelError("EOVERFLOW", "dma_buf_mmap");
    this.#checkRange(buf, pgoff, vma, "dma_buf_mmap");
    buf.file.get();
    vma.file.put();
    vma.file = buf.file;
    vma.pgoff = pgoff;
    buf.ops.mmap(buf, vma);
  }

  /** The bounds check of every dma-buf mmap: the pages must lie inside the buffer. */
  #checkRange(buf: DmaBuf, pgoff: number, vma: Vma, fn: string): void {
    if (pgoff + vma.pageCount > Math.floor(buf.size / this.host.pageSize)) {
      throw new KernelError("EINVAL", fn, "mapping extends past the end of the buffer");
    }
  }

  /** The mmap method of the dma-buf file (`dma_buf_mmap_internal`). */
  mmapInternal(buf: DmaBuf, vma: Vma): void {
    if (!buf.ops.mmap) throw new KernelError("EINVAL", "mmap", "exporter cannot mmap");
    this.#checkRange(buf, vma.pgoff, vma, "mmap");
    try {
      buf.ops.mmap(buf, vma);
    } catch (e) {
      throw this.#fault(e, buf, "mmap", "mmap");
    }
  }

  /**
   * Maps the whole buffer into kernel address space (`dma_buf_vmap`); refcounted: later
   * callers get the same mapping.
   * @throws KernelError EINVAL when the exporter cannot vmap; the exporter's error. KernelBug
   * DMA_BUF_USE_AFTER_FREE for a released buffer.
   */
  vmap(buf: DmaBuf): KernelMapping {
    this.#alive(buf, "dma_buf_vmap");
    if (!buf.ops.vmap) throw new KernelError("EINVAL", "dma_buf_vmap", "exporter cannot vmap");
    if (buf.vmappingCounter > 0 && buf.vmapPtr) {
      buf.vmappingCounter++;
      return buf.vmapPtr;
    }
    let map: KernelMapping;
    try {
      map = buf.ops.vmap(buf);
    } catch (e) {
      throw this.#fault(e, buf, "vmap", "dma_buf_vmap");
    }
    if (!(map instanceof KernelMapping)) {
      throw pluginBadReturn(this.host.log, exporterOf(buf), "vmap", "dma_buf_vmap", map);
    }
    buf.vmappingCounter = 1;
    buf.vmapPtr = map;
    return map;
  }

  /**
   * Drops one vmap user (`dma_buf_vunmap`); the last one calls the exporter's `vunmap`.
   * @throws KernelBug DMA_BUF_VUNMAP_UNBALANCED when nothing is mapped or `map` is not the
   * buffer's mapping.
   */
  vunmap(buf: DmaBuf, map: KernelMapping): void {
    if (buf.vmappingCounter === 0 || buf.vmapPtr !== map) {
      throw new KernelBug("DMA_BUF_VUNMAP_UNBALANCED", `buffer ${buf.ino}: vunmap without vmap`);
    }
    if (--buf.vmappingCounter === 0) {
      buf.ops.vunmap?.(buf, map);
      buf.vmapPtr = null;
    }
  }

  /**
   * Names the buffer (what DMA_BUF_SET_NAME does); allowed any number of times, attached or
   * not. The name is kept as bytes, verbatim (a string stands for its UTF-8 bytes).
   * @throws KernelError EINVAL when the name has 32 or more bytes.
   */
  setName(buf: DmaBuf, name: string | Uint8Array): void {
    const bytes = typeof name === "string" ? new TextEncoder().encode(name) : name.slice();
    if (bytes.length >= DMA_BUF_NAME_LEN) {
      throw new KernelError("EINVAL", "dma_buf_set_name", "name too long");
    }
    buf.nameBytes = bytes;
    if (this.host.trace?.on) this.host.trace.emit("name", { buf: buf.ino, text: buf.name ?? "" });
  }
}

/** A buffer as messages name it: inode, exporter and name. */
function describe(buf: DmaBuf): string {
  return `buffer ${buf.ino} [${buf.expName}]${buf.name !== null ? ` "${buf.name}"` : ""}`;
}

/** An exporter as findings name it. */
function exporterOf(buf: DmaBuf): string {
  return `exporter ${buf.expName || buf.owner} (${describe(buf)})`;
}
