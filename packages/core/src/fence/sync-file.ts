// struct sync_file: an anon-inode file carrying one fence to user space, with its ioctls.

import { isKernelError, KernelError } from "../errors/kernel-error.js";
import { view } from "../uapi/dma-buf.js";
import { O_CLOEXEC, O_RDONLY } from "../uapi/fcntl.js";
import { POLLIN } from "../uapi/poll.js";
import {
  encodeSyncFenceInfo,
  readCString,
  SYNC_FENCE_INFO_SIZE,
  SYNC_FILE_INFO_SIZE,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_MERGE,
  SYNC_IOC_SET_DEADLINE,
  SYNC_MERGE_DATA_SIZE,
  SYNC_NAME_LEN,
  SYNC_SET_DEADLINE_SIZE,
  writeCString,
} from "../uapi/sync-file.js";
import { copyFromUser } from "../uapi/user-copy.js";
import type { File, FileOperations, IoctlArg } from "../vfs/file.js";
import type { Process } from "../vfs/process.js";
import type { DmaFence, DmaFenceCb, FenceRegistry } from "./dma-fence.js";
import { dmaFenceUnwrap, dmaFenceUnwrapMerge } from "./dma-fence-unwrap.js";

/** The methods of every sync_file (`sync_file_fops`): poll, ioctl, release. */
const SYNC_FILE_FOPS: FileOperations = {
  poll: (file) => syncOf(file).poll(),
  ioctl: (file, cmd, arg, proc) => syncOf(file).ioctl(cmd, arg, proc),
  release: (file) => syncOf(file).release(),
};

const syncOf = (file: File): SyncFile => file.privateData as SyncFile;

/**
 * A sync_file (`struct sync_file`): a file on the anonymous inode named `sync_file`
 * (readlink gives `anon_inode:sync_file`), opened read-only, holding a reference to one
 * fence — possibly a container. Created by {@link syncFileCreate}; user space gets one from
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE, SW_SYNC_IOC_CREATE_FENCE or SYNC_IOC_MERGE.
 */
export class SyncFile {
  /** The file; its reference count keeps the sync_file alive. */
  readonly file: File;
  /** The fence it carries. */
  readonly fence: DmaFence;
  /** The name given by SYNC_IOC_MERGE; empty for the default name. */
  userName = "";
  #pollCb: DmaFenceCb | null = null;
  #pollEnabled = false;

  /**
   * @param registry - the kernel's fence state
   * @param fence - the fence to carry (a reference is taken)
   */
  constructor(
    readonly registry: FenceRegistry,
    fence: DmaFence,
  ) {
    this.fence = fence.get();
    this.file = registry.anonInodes.getFile("sync_file", SYNC_FILE_FOPS, this, O_RDONLY);
  }

  /**
   * The name (`sync_file_get_name`): the merge name, or `<driver>-<timeline><context>-<seqno>`
   * of the fence (SYNC_IOC_FILE_INFO keeps 31 bytes of it).
   */
  name(): string {
    if (this.userName) return this.userName;
    const f = this.fence;
    return `${f.driverName()}-${f.timelineName()}${f.context}-${f.seqno}`;
  }

  /**
   * The file's poll method: POLLIN iff the fence has signalled (with or without an error).
   * The first poll queues a callback on the fence, which enables its signalling.
   */
  poll(): number {
    if (!this.#pollEnabled) {
      this.#pollEnabled = true;
      try {
        this.#pollCb = this.fence.addCallback(() => {});
      } catch (e) {
        if (!isKernelError(e, "ENOENT")) throw e;
      }
    }
    return this.fence.isSignaled() ? POLLIN : 0;
  }

  /** The file's release method: drops the poll callback and the fence reference. */
  release(): void {
    if (this.#pollCb) this.fence.removeCallback(this.#pollCb);
    this.fence.put();
  }

  /**
   * The file's ioctl method: SYNC_IOC_MERGE, SYNC_IOC_FILE_INFO and (profiles with
   * `fenceDeadlines`) SYNC_IOC_SET_DEADLINE, matched on the full command word.
   * @throws KernelError ENOTTY for any other request; see each request for its errors.
   */
  ioctl(cmd: number, arg: IoctlArg, proc: Process): number {
    switch (cmd) {
      case SYNC_IOC_MERGE:
        return this.#merge(arg, proc);
      case SYNC_IOC_FILE_INFO:
        return this.#fileInfo(arg);
      case SYNC_IOC_SET_DEADLINE:
        if (!this.registry.profile.fenceDeadlines) break;
        return this.#setDeadline(arg);
    }
    throw new KernelError("ENOTTY", "ioctl", `0x${cmd.toString(16)} is not a sync_file ioctl`);
  }

  /**
   * SYNC_IOC_MERGE: a new O_CLOEXEC sync_file whose fence merges this one's and `fd2`'s
   * (see {@link dmaFenceUnwrapMerge}), named by the caller.
   * @throws KernelError EMFILE (no free fd, checked first), EFAULT, EINVAL (flags or pad
   * non-zero), ENOENT (`fd2` is not a sync_file).
   */
  #merge(arg: IoctlArg, proc: Process): number {
    proc.unusedFd("ioctl");
    const bytes = copyFromUser(arg, SYNC_MERGE_DATA_SIZE, "ioctl");
    const v = view(bytes);
    if (v.getUint32(40, true) !== 0 || v.getUint32(44, true) !== 0) {
      throw new KernelError("EINVAL", "ioctl", "SYNC_IOC_MERGE flags and pad must be 0");
    }
    const other = syncFileFdget(proc, v.getInt32(32, true));
    if (!other) throw new KernelError("ENOENT", "ioctl", "fd2 is not a sync_file");
    const fence = dmaFenceUnwrapMerge(this.registry, this.fence, other.fence);
    const merged = new SyncFile(this.registry, fence);
    fence.put();
    merged.userName = readCString(bytes, 0, SYNC_NAME_LEN - 1);
    const fd = proc.installFd(merged.file, O_CLOEXEC, "ioctl");
    v.setInt32(36, fd, true);
    return 0;
  }

  /**
   * SYNC_IOC_FILE_INFO: the name, the overall status and, when `num_fences` is non-zero, one
   * `struct sync_fence_info` per leaf fence written where `sync_fence_info` points (a byte
   * offset into the argument, see {@link SyncFileInfo}). With `num_fences` = 0 only the count
   * and the fence's own status come back; otherwise the status is the first non-positive
   * leaf status, else 1.
   * @throws KernelError EFAULT (struct or array out of reach), EINVAL (flags or pad non-zero,
   * `num_fences` too small).
   */
  #fileInfo(arg: IoctlArg): number {
    const bytes = copyFromUser(arg, SYNC_FILE_INFO_SIZE, "ioctl");
    const v = view(bytes);
    if (v.getUint32(36, true) !== 0 || v.getUint32(44, true) !== 0) {
      throw new KernelError("EINVAL", "ioctl", "SYNC_IOC_FILE_INFO flags and pad must be 0");
    }
    const leaves = dmaFenceUnwrap(this.fence);
    const room = v.getUint32(40, true);
    let status: number;
    if (room === 0) status = this.fence.getStatus();
    else {
      if (room < leaves.length) {
        throw new KernelError("EINVAL", "ioctl", "num_fences is smaller than the fence count");
      }
      status = 1;
      const size = leaves.length * SYNC_FENCE_INFO_SIZE;
      const out = new Uint8Array(size);
      leaves.forEach((leaf, i) => {
        const driverName = leaf.driverName();
        const objName = leaf.timelineName();
        const leafStatus = leaf.getStatus();
        encodeSyncFenceInfo(out, i * SYNC_FENCE_INFO_SIZE, {
          objName,
          driverName,
          status: leafStatus,
          flags: 0,
          timestampNs: leaf.isSignaled() ? BigInt(leaf.timestamp ?? 0) : 0n,
        });
        status = status <= 0 ? status : leafStatus;
      });
      if (size > 0) {
        const ptr = v.getBigUint64(48, true);
        const user = arg as Uint8Array;
        if (ptr === 0n || ptr + BigInt(size) > BigInt(user.length)) {
          throw new KernelError("EFAULT", "ioctl", "sync_fence_info points outside the argument");
        }
        user.set(out, Number(ptr));
      }
    }
    writeCString(bytes, 0, SYNC_NAME_LEN, this.name());
    v.setInt32(32, status, true);
    v.setUint32(40, leaves.length, true);
    return 0;
  }

  /**
   * SYNC_IOC_SET_DEADLINE: passes the deadline hint to the fence.
   * @throws KernelError EFAULT, EINVAL (pad non-zero).
   */
  #setDeadline(arg: IoctlArg): number {
    const v = view(copyFromUser(arg, SYNC_SET_DEADLINE_SIZE, "ioctl"));
    if (v.getBigUint64(8, true) !== 0n) {
      throw new KernelError("EINVAL", "ioctl", "SYNC_IOC_SET_DEADLINE pad must be 0");
    }
    this.fence.setDeadline(Number(v.getBigUint64(0, true)));
    return 0;
  }
}

/**
 * Wraps a fence in a new sync_file (`sync_file_create`); the sync_file takes its own fence
 * reference and the caller owns the file's one reference (install it with
 * `proc.installFd`).
 */
export function syncFileCreate(registry: FenceRegistry, fence: DmaFence): SyncFile {
  return new SyncFile(registry, fence);
}

/** Whether `file` is a sync_file. */
export function isSyncFile(file: File): boolean {
  return file.fops === SYNC_FILE_FOPS;
}

/**
 * The sync_file behind `fd` of `proc`, or null when the fd is not open or not a sync_file
 * (`sync_file_fdget`). No reference is taken.
 */
export function syncFileFdget(proc: Process, fd: number): SyncFile | null {
  let file: File;
  try {
    file = proc.fileOf(fd, "fget");
  } catch (e) {
    if (isKernelError(e, "EBADF")) return null;
    throw e;
  }
  return isSyncFile(file) ? syncOf(file) : null;
}

/**
 * The fence of the sync_file behind `fd`, with a reference for the caller, or null when the
 * fd is not open or not a sync_file (`sync_file_get_fence`).
 */
export function syncFileGetFence(proc: Process, fd: number): DmaFence | null {
  return syncFileFdget(proc, fd)?.fence.get() ?? null;
}
