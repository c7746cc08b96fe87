// drivers/dma-buf/udmabuf.c: /dev/udmabuf, which turns ranges of sealed memfds into dma-bufs.

import { Device } from "../dma/device.js";
import type { DmaBufCore } from "../dma-buf/core.js";
import { isKernelError, KernelError } from "../errors/kernel-error.js";
import { shmemInodeOf } from "../mm/shmem.js";
import { view } from "../uapi/dma-buf.js";
import {
  F_SEAL_FUTURE_WRITE,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  O_CLOEXEC,
  O_RDWR,
} from "../uapi/fcntl.js";
import {
  decodeUdmabufCreate,
  UDMABUF_CREATE,
  UDMABUF_CREATE_ITEM_SIZE,
  UDMABUF_CREATE_LIST,
  UDMABUF_CREATE_LIST_SIZE,
  UDMABUF_CREATE_SIZE,
  UDMABUF_FLAGS_CLOEXEC,
} from "../uapi/udmabuf.js";
import { copyFromUser } from "../uapi/user-copy.js";
import type { File, FileOperations, IoctlArg } from "../vfs/file.js";
import { type Namespace, textFile } from "../vfs/namespace.js";
import type { Process } from "../vfs/process.js";
import { Udmabuf, UdmabufOps, type UdmabufOpsHost, type UdmabufPin } from "./ops.js";

/** Character-device major of misc devices. */
export const MISC_MAJOR = 10;
/** The dynamic misc minor /dev/udmabuf got on the 6.1 oracle. */
export const UDMABUF_MINOR = 126;
/** The largest DMA segment of a device without DMA parameters (the misc device): 64 KiB. */
const MISC_MAX_SEGMENT = 64 * 1024;

/** What /dev/udmabuf needs from its kernel. */
export interface UdmabufHost extends UdmabufOpsHost {
  /** The dma-buf core (export and fd). */
  readonly dmaBuf: DmaBufCore;
  /** The path namespace (/dev/udmabuf, /sys/module/udmabuf). */
  readonly namespace: Namespace;
  /** Inode numbers on devtmpfs. */
  nextPseudoIno(): number;
}

/** The module parameters of udmabuf. */
export interface UdmabufParams {
  /** `list_limit`: most items UDMABUF_CREATE_LIST accepts. */
  listLimit: number;
  /** `size_limit_mb`: largest buffer, in MiB. */
  sizeLimitMb: number;
}

/** One range of a create request (`struct udmabuf_create_item`). */
export interface UdmabufItem {
  /** The memfd, as an fd of the calling process (a u32: -1 is 0xffffffff). */
  memfd: number;
  /** Byte offset into the memfd; must be page aligned. */
  offset: bigint;
  /** Bytes; must be page aligned. */
  size: bigint;
}

/**
 * The udmabuf misc device of one kernel: /dev/udmabuf (char 10:126, mode 0600) with
 * UDMABUF_CREATE and UDMABUF_CREATE_LIST, and /sys/module/udmabuf/parameters. The new dma-buf
 * fd is the ioctl's return value. The buffer pins the memfd's pages: it stays coherent with
 * later writes to the memfd and keeps the pages after the memfd is closed.
 *
 * @example
 * ```ts
 * const dev = proc.open("/dev/udmabuf", O_RDWR);
 * const memfd = proc.memfdCreate("frames", MFD_ALLOW_SEALING);
 * proc.ftruncate(memfd, 4 * 4096);
 * proc.fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK);
 * const buf = proc.ioctl(dev, UDMABUF_CREATE,
 *   encodeUdmabufCreate({ memfd, flags: UDMABUF_FLAGS_CLOEXEC, offset: 0n, size: 16384n }));
 * ```
 */
export class UdmabufDevice {
  /**
   * The misc device (`udmabuf`): CPU access maps the pages for it and syncs them through it.
   * It has a 64-bit DMA mask, no DMA parameters (64 KiB segments) and is not coherent, as a
   * misc device is on platforms that do cache maintenance (arm64); there its syncs are what
   * keeps importers coherent with the CPU, and on the default coherent platform they cost
   * nothing.
   */
  readonly device: Device;
  /** The exporter methods every udmabuf shares. */
  readonly ops: UdmabufOps;
  /** `list_limit`; may be changed at run time, as the module parameter can. */
  listLimit: number;
  /** `size_limit_mb`; may be changed at run time. */
  sizeLimitMb: number;

  /**
   * Installs /dev/udmabuf and its module parameters.
   * @param host - the kernel
   * @param params - the initial module parameters
   */
  constructor(
    private readonly host: UdmabufHost,
    params: UdmabufParams,
  ) {
    this.listLimit = params.listLimit;
    this.sizeLimitMb = params.sizeLimitMb;
    this.device = new Device({
      name: "udmabuf",
      maxSegmentSize: MISC_MAX_SEGMENT,
      coherent: false,
    });
    this.ops = new UdmabufOps(host, this.device);
    // Linux with DMA-API debugging complains about udmabuf's own mapping and carries on.
    host.dma.debug.tolerated.add(this.device);
    const fops: FileOperations = {
      ioctl: (file, cmd, arg, proc) => this.#ioctl(file, cmd, arg, proc),
    };
    host.namespace.install("/dev/udmabuf", {
      kind: "chr",
      mode: 0o600,
      uid: 0,
      gid: 0,
      ino: host.nextPseudoIno(),
      rdev: [MISC_MAJOR, UDMABUF_MINOR],
      fops,
      nonseekable: false,
      privateData: this,
    });
    const params_ = "/sys/module/udmabuf/parameters";
    host.namespace.install(
      `${params_}/list_limit`,
      textFile(() => `${this.listLimit}\n`, 0o644),
    );
    host.namespace.install(
      `${params_}/size_limit_mb`,
      textFile(() => `${this.sizeLimitMb}\n`, 0o644),
    );
  }

  /**
   * Creates a udmabuf from `items` for `proc` and installs it as a new fd (`udmabuf_create`).
   * Checks, in the kernel's order: every offset and size page aligned and the running total
   * within `size_limit_mb` (EINVAL); a total of 0 pages (EINVAL); then item by item: the memfd
   * open (EBADFD), a tmpfs or hugetlbfs file (EBADFD), sealed with F_SEAL_SHRINK and without
   * F_SEAL_WRITE / F_SEAL_FUTURE_WRITE (EINVAL), the range inside the memfd (EINVAL) — whose
   * pages are then pinned, holes filled (a hugetlbfs page must already exist under 6.1).
   * Unknown `flags` bits are ignored; UDMABUF_FLAGS_CLOEXEC sets O_CLOEXEC on the fd. The
   * buffer is exported O_RDWR with exp_name "udmabuf".
   * @returns the new fd
   * @throws KernelError EINVAL, EBADFD, ENOMEM, EMFILE. A failed call pins nothing and leaves
   * no page it allocated.
   */
  create(proc: Process, flags: number, items: readonly UdmabufItem[]): number {
    const ps = BigInt(this.host.pageSize);
    const pglimit = (BigInt(this.sizeLimitMb) * 1024n * 1024n) / ps;
    let pagecount = 0n;
    for (const it of items) {
      if (it.offset % ps !== 0n) throw new KernelError("EINVAL", "ioctl", "unaligned offset");
      if (it.size % ps !== 0n) throw new KernelError("EINVAL", "ioctl", "unaligned size");
      pagecount += it.size / ps;
      if (pagecount > pglimit) throw new KernelError("EINVAL", "ioctl", "over size_limit_mb");
    }
    if (pagecount === 0n) throw new KernelError("EINVAL", "ioctl", "no pages");
    const pins: UdmabufPin[] = [];
    try {
      for (const it of items) pins.push(this.#pinItem(proc, it));
      // Linux exports first and meets EMFILE in dma_buf_fd; checking first keeps a failed
      // call from consuming an inode number (6.1 would also leak that buffer).
      proc.unusedFd("ioctl");
    } catch (e) {
      for (const { inode, pin } of pins.reverse()) inode.unpin(pin, true);
      throw e;
    }
    const buf = this.host.dmaBuf.export({
      expName: "udmabuf",
      owner: "udmabuf",
      ops: this.ops,
      size: Number(pagecount * ps),
      flags: O_RDWR,
      priv: new Udmabuf(pins),
    });
    return this.host.dmaBuf.fd(buf, proc, flags & UDMABUF_FLAGS_CLOEXEC ? O_CLOEXEC : 0);
  }

  /** Looks up, checks and pins one item's memfd range. */
  #pinItem(proc: Process, it: UdmabufItem): UdmabufPin {
    let file: File;
    try {
      file = proc.fileOf(it.memfd >>> 0, "ioctl");
    } catch (e) {
      if (isKernelError(e, "EBADF")) throw new KernelError("EBADFD", "ioctl", "memfd not open");
      throw e;
    }
    file.get();
    try {
      const inode = shmemInodeOf(file);
      if (!inode) throw new KernelError("EBADFD", "ioctl", "not a memfd");
      const seals = inode.seals;
      if (!(seals & F_SEAL_SHRINK) || seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
        throw new KernelError("EINVAL", "ioctl", "needs F_SEAL_SHRINK and no write seal");
      }
      const ps = BigInt(this.host.pageSize);
      if (it.offset + it.size > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new KernelError("EINVAL", "ioctl", "range past the end of the memfd");
      }
      const allocate = inode.pool === null || this.host.profile.udmabufFolios;
      const pin = inode.pin(Number(it.offset), Number(it.size / ps), allocate);
      return { inode, pin };
    } finally {
      file.put();
    }
  }

  /** The device's ioctl: UDMABUF_CREATE and UDMABUF_CREATE_LIST; anything else ENOTTY. */
  #ioctl(_file: File, cmd: number, arg: IoctlArg, proc: Process): number {
    switch (cmd) {
      case UDMABUF_CREATE: {
        const c = decodeUdmabufCreate(copyFromUser(arg, UDMABUF_CREATE_SIZE, "ioctl"));
        return this.create(proc, c.flags, [{ memfd: c.memfd, offset: c.offset, size: c.size }]);
      }
      case UDMABUF_CREATE_LIST: {
        const head = view(copyFromUser(arg, UDMABUF_CREATE_LIST_SIZE, "ioctl"));
        const flags = head.getUint32(0, true);
        const count = head.getUint32(4, true);
        if (count > this.listLimit) throw new KernelError("EINVAL", "ioctl", "over list_limit");
        const size = UDMABUF_CREATE_LIST_SIZE + count * UDMABUF_CREATE_ITEM_SIZE;
        const list = view(copyFromUser(arg, size, "ioctl"));
        const items: UdmabufItem[] = [];
        for (let i = 0; i < count; i++) {
          const o = UDMABUF_CREATE_LIST_SIZE + i * UDMABUF_CREATE_ITEM_SIZE;
          items.push({
            memfd: list.getUint32(o, true),
            offset: list.getBigUint64(o + 8, true),
            size: list.getBigUint64(o + 16, true),
          });
        }
        return this.create(proc, flags, items);
      }
      default:
        throw new KernelError("ENOTTY", "ioctl", `0x${cmd.toString(16)} is not a udmabuf ioctl`);
    }
  }
}
