// The dma-buf file's methods: llseek, ioctl (SYNC, SET_NAME, sync files), mmap, poll, fdinfo,
// release.

import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaDirection,
} from "../dma/direction.js";
import { isKernelError, KernelError } from "../errors/kernel-error.js";
import type { FenceRegistry } from "../fence/dma-fence.js";
import { dmaFenceUnwrap } from "../fence/dma-fence-unwrap.js";
import {
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  type DmaResvUsage,
  dmaResvUsageRw,
} from "../fence/dma-resv.js";
import { syncFileCreate, syncFileGetFence } from "../fence/sync-file.js";
import {
  DMA_BUF_EXPORT_SYNC_FILE_SIZE,
  DMA_BUF_IMPORT_SYNC_FILE_SIZE,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_NAME_LEN,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_SIZE,
  DMA_BUF_SYNC_VALID_FLAGS_MASK,
  DMA_BUF_SYNC_WRITE,
  view,
} from "../uapi/dma-buf.js";
import { O_CLOEXEC, SEEK_END, SEEK_SET } from "../uapi/fcntl.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import { copyFromUser, strndupUser } from "../uapi/user-copy.js";
import type { File, FileOperations, IoctlArg } from "../vfs/file.js";
import type { Process } from "../vfs/process.js";
import { textBytes } from "../vfs/text-bytes.js";
import type { DmaBufCore } from "./core.js";
import type { DmaBuf } from "./dma-buf.js";

/** The SYNC direction bits as a DMA direction. */
function syncDirection(flags: bigint): DmaDirection {
  switch (Number(flags & BigInt(DMA_BUF_SYNC_RW))) {
    case DMA_BUF_SYNC_READ:
      return DMA_FROM_DEVICE;
    case DMA_BUF_SYNC_WRITE:
      return DMA_TO_DEVICE;
    case DMA_BUF_SYNC_RW:
      return DMA_BIDIRECTIONAL;
    default:
      throw new KernelError("EINVAL", "ioctl", "DMA_BUF_IOCTL_SYNC without a direction");
  }
}

/** The READ/WRITE bits of an EXPORT/IMPORT_SYNC_FILE request, or EINVAL. */
function syncFileFlags(bytes: Uint8Array): number {
  const flags = view(bytes).getUint32(0, true);
  if (flags & ~DMA_BUF_SYNC_RW || (flags & DMA_BUF_SYNC_RW) === 0) {
    throw new KernelError("EINVAL", "ioctl", "sync-file flags must be READ, WRITE or both");
  }
  return flags;
}

/**
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a new O_CLOEXEC sync_file holding a snapshot of the
 * implicit fences — those a CPU access of that kind would wait for (READ: KERNEL + WRITE
 * fences; WRITE or RW: also READ fences) — as one fence (see `DmaResv.getSingleton`), or the
 * signalled stub fence when there are none. Its fd is written to the struct.
 * @throws KernelError EFAULT, EINVAL (flags), EMFILE.
 */
function exportSyncFile(fences: FenceRegistry, buf: DmaBuf, arg: IoctlArg, proc: Process): number {
  const bytes = copyFromUser(arg, DMA_BUF_EXPORT_SYNC_FILE_SIZE, "ioctl");
  const flags = syncFileFlags(bytes);
  proc.unusedFd("ioctl");
  const fence =
    buf.resv.getSingleton(dmaResvUsageRw((flags & DMA_BUF_SYNC_WRITE) !== 0)) ?? fences.getStub();
  const sync = syncFileCreate(fences, fence);
  fence.put();
  view(bytes).setInt32(4, proc.installFd(sync.file, O_CLOEXEC, "ioctl"), true);
  return 0;
}

/**
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: adds the sync_file's leaf fences to the buffer's
 * reservation object with usage WRITE (WRITE flag set) or READ, under the replacement rule of
 * `DmaResv.addFence`.
 * @throws KernelError EFAULT, EINVAL (flags; `fd` not open or not a sync_file).
 */
function importSyncFile(buf: DmaBuf, arg: IoctlArg, proc: Process): number {
  const bytes = copyFromUser(arg, DMA_BUF_IMPORT_SYNC_FILE_SIZE, "ioctl");
  const flags = syncFileFlags(bytes);
  const fence = syncFileGetFence(proc, view(bytes).getInt32(4, true));
  if (!fence) throw new KernelError("EINVAL", "ioctl", "fd is not a sync_file");
  try {
    const usage = flags & DMA_BUF_SYNC_WRITE ? DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ;
    const leaves = dmaFenceUnwrap(fence);
    if (leaves.length > 0) {
      buf.resv.lock();
      try {
        buf.resv.reserveFences(leaves.length);
        for (const leaf of leaves) buf.resv.addFence(leaf, usage);
      } finally {
        buf.resv.unlock();
      }
    }
  } finally {
    fence.put();
  }
  return 0;
}

/** A poll callback slot of a buffer (`cb_in` or `cb_out`). */
interface PollSlot {
  /** A callback is armed on a fence: the event is not reported until it runs. */
  active: boolean;
}

/**
 * One event of the dma-buf poll method for one slot. An armed slot reports not ready. Else the
 * slot is armed — holding a file reference — on the first unsignalled fence with usage ≤
 * `usage`; if there is none the slot is released at once and the event is reported. When the
 * fence signals the slot is released (pollers then re-poll).
 */
function pollSlot(buf: DmaBuf, slot: PollSlot, usage: DmaResvUsage): boolean {
  if (slot.active) return false;
  slot.active = true;
  buf.file.get();
  const release = () => {
    slot.active = false;
    buf.file.put();
  };
  for (const { fence } of buf.resv.iter(usage)) {
    fence.get();
    try {
      fence.addCallback(() => {
        fence.put();
        release();
      });
      return false;
    } catch (e) {
      fence.put();
      if (!isKernelError(e, "ENOENT")) {
        release();
        throw e;
      }
    }
  }
  release();
  return true;
}

/** Builds the file methods shared by every dma-buf file of one kernel. */
export function dmaBufFileOperations(core: DmaBufCore, fences: FenceRegistry): FileOperations {
  const bufOf = (file: File): DmaBuf => file.privateData as DmaBuf;
  const slots = new WeakMap<DmaBuf, { in: PollSlot; out: PollSlot }>();
  return {
    llseek(file, offset, whence) {
      if (offset !== 0) throw new KernelError("EINVAL", "lseek", "only offset 0 is supported");
      if (whence === SEEK_END) return bufOf(file).size;
      if (whence === SEEK_SET) return 0;
      throw new KernelError("EINVAL", "lseek", "only SEEK_SET and SEEK_END are supported");
    },
    ioctl(file, cmd, arg: IoctlArg, proc) {
      const buf = bufOf(file);
      switch (cmd) {
        case DMA_BUF_IOCTL_SYNC: {
          const bytes = copyFromUser(arg, DMA_BUF_SYNC_SIZE, "ioctl");
          const flags = view(bytes).getBigUint64(0, true);
          if (flags & ~BigInt(DMA_BUF_SYNC_VALID_FLAGS_MASK)) {
            throw new KernelError("EINVAL", "ioctl", "unknown DMA_BUF_IOCTL_SYNC flags");
          }
          const dir = syncDirection(flags);
          if (flags & BigInt(DMA_BUF_SYNC_END)) core.endCpuAccess(buf, dir, proc.pid);
          else core.beginCpuAccess(buf, dir, proc.pid);
          return 0;
        }
        case DMA_BUF_SET_NAME_A:
        case DMA_BUF_SET_NAME_B:
          core.setName(buf, strndupUser(arg, DMA_BUF_NAME_LEN, "ioctl"));
          return 0;
        case DMA_BUF_IOCTL_EXPORT_SYNC_FILE:
          return exportSyncFile(fences, buf, arg, proc);
        case DMA_BUF_IOCTL_IMPORT_SYNC_FILE:
          return importSyncFile(buf, arg, proc);
        default:
          throw new KernelError("ENOTTY", "ioctl", `0x${cmd.toString(16)} is not a dma-buf ioctl`);
      }
    },
    mmap(file, vma) {
      core.mmapInternal(bufOf(file), vma);
    },
    // POLLOUT: no pending KERNEL/WRITE/READ fence (slot cb_out); POLLIN: no pending
    // KERNEL/WRITE fence (slot cb_in). BOOKKEEP fences never count.
    poll(file, events) {
      const buf = bufOf(file);
      let s = slots.get(buf);
      if (!s) {
        s = { in: { active: false }, out: { active: false } };
        slots.set(buf, s);
      }
      let mask = 0;
      if (events & POLLOUT && pollSlot(buf, s.out, DMA_RESV_USAGE_READ)) mask |= POLLOUT;
      if (events & POLLIN && pollSlot(buf, s.in, DMA_RESV_USAGE_WRITE)) mask |= POLLIN;
      return mask;
    },
    showFdinfo(file) {
      const buf = bufOf(file);
      const head = `size:\t${buf.size}\ncount:\t${file.refCount}\nexp_name:\t${buf.expName}\n`;
      // The name is printed as the raw bytes user space set.
      return buf.nameBytes !== null ? textBytes(head, "name:\t", buf.nameBytes, "\n") : head;
    },
    release(file) {
      core.release(bufOf(file));
    },
  };
}
