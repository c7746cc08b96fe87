// The one catalog of every error code the SDK raises, with its errno and meaning.

import type { ErrnoCode } from "./errno.js";

/** What kind of failure a catalog entry is. */
export type ErrorKind = "errno" | "bug" | "signal" | "config" | "tool";

/** One row of the error catalog (docs/errors.md is this table). */
export interface CatalogEntry {
  /** The stable code callers assert on. */
  readonly code: string;
  /**
   * The kind: a syscall errno, a kernel bug, a signal, a configuration error, or a failure of
   * one of the SDK's tools (the C compiler and wasm runtime of `@dmabuf/wasm`).
   */
  readonly kind: ErrorKind;
  /** The Linux errno number for `errno` entries, else null. */
  readonly errno: number | null;
  /** What it means, in one line. */
  readonly meaning: string;
}

const errno = (code: ErrnoCode, n: number, meaning: string) =>
  ({ code, kind: "errno", errno: n, meaning }) as const;

/**
 * Codes of {@link KernelBug}: contracts broken by a plugin or an in-kernel caller, where Linux
 * would BUG() or DMA-API debugging would complain.
 */
export const BUG_CODES = [
  "DMA_BUF_RELEASE_VMAPPED",
  "DMA_BUF_VUNMAP_UNBALANCED",
  "DMA_BUF_UNMAP_NOT_MAPPED",
  "DMA_BUF_UNPIN_UNBALANCED",
  "DMA_BUF_USE_AFTER_FREE",
  "PLUGIN_BAD_RETURN",
  "PLUGIN_OP_FAILED",
  "FILE_REFCOUNT_UNDERFLOW",
  "BUDDY_DOUBLE_FREE",
  "BUDDY_BAD_FREE",
  "BUDDY_NOT_RESERVED",
  "DMA_API_UNMAP_NOT_MAPPED",
  "DMA_API_DOUBLE_UNMAP",
  "DMA_API_UNMAP_WRONG_DEV",
  "DMA_API_UNMAP_WRONG_DIR",
  "DMA_API_SYNC_NOT_MAPPED",
  "DMA_API_SYNC_WRONG_DIR",
  "DMA_API_DETACH_MAPPED",
  "DMA_API_SEGMENT_TOO_LONG",
  "DMA_FAULT_BEYOND_MASK",
  "DMA_FAULT_UNMAPPED",
  "DMA_FAULT_DIRECTION",
  "DMA_COHERENCY_VIOLATION",
  "DMA_FENCE_BAD_OPS",
  "DMA_FENCE_REF_UNDERFLOW",
  "DMA_FENCE_SET_ERROR",
  "DMA_FENCE_WAIT_FOREVER",
  "DMA_RESV_NOT_LOCKED",
  "DMA_RESV_NO_SLOT",
  "DMA_RESV_DEADLOCK",
] as const;
/** A {@link KernelBug} code. */
export type BugCode = (typeof BUG_CODES)[number];

/** Codes of {@link KernelSignal}. */
export const SIGNAL_CODES = ["SIGBUS", "SIGSEGV"] as const;
/** A {@link KernelSignal} code. */
export type SignalCode = (typeof SIGNAL_CODES)[number];

/** Every error code the SDK raises. A test keeps this, the code and docs/errors.md in sync. */
export const ERROR_CATALOG: readonly CatalogEntry[] = [
  errno(
    "EACCES",
    13,
    "Permission bits refuse the open, the fd's access mode refuses the mapping's protection, or a DRM file maps a GEM offset it holds no handle for.",
  ),
  errno(
    "EAGAIN",
    11,
    "A non-blocking read or dequeue found nothing ready (DRM events, V4L2 buffers).",
  ),
  errno(
    "EBADF",
    9,
    "The fd is not open, or not open for the access (read/write on the wrong mode).",
  ),
  errno(
    "EBADFD",
    77,
    "A udmabuf item's memfd is not an open fd, or not a memfd (tmpfs or hugetlbfs file).",
  ),
  errno(
    "EBUSY",
    16,
    "All 128 heap minors are in use, (6.1) a cached attachment mapping is requested in a conflicting direction, or F_SEAL_WRITE meets a writable shared mapping or pinned pages.",
  ),
  errno(
    "EEXIST",
    17,
    "A plugin class is registered twice, or a heap or device of that name exists.",
  ),
  errno(
    "EFAULT",
    14,
    "An ioctl argument is NULL or shorter than its struct, a pointer in it leads outside it, or mremap grows a PFN mapping.",
  ),
  errno(
    "EINTR",
    4,
    "A wait was interrupted, or can never end (no pending event can signal its fences).",
  ),
  errno(
    "EINVAL",
    22,
    "Bad argument: flags, lengths, offsets, names, ops tables, export info, directions.",
  ),
  errno("EIO", 5, "A DMA segment lies above the device's dma mask."),
  errno("EISDIR", 21, "A directory was opened for writing or read as a file."),
  errno(
    "ELOOP",
    40,
    "Too many symbolic links, open() of a link the model does not follow, or an epoll loop or nesting deeper than EP_MAX_NESTS.",
  ),
  errno("EMFILE", 24, "No free fd below RLIMIT_NOFILE."),
  errno("ENFILE", 23, "No free V4L2 device node number from the one a camera asks for."),
  errno(
    "ENODEV",
    19,
    "The file has no mmap method, or no huge page pool has the size memfd_create asks for.",
  ),
  errno(
    "ENOENT",
    2,
    "No such path, plugin class not registered, fence already signalled, merge fd2 not a sync_file, no deadline.",
  ),
  errno(
    "ENOMEM",
    12,
    "Pages ran out, a length exceeds any memory, an exporter mapped nothing, the address space is full, or a hugetlbfs mapping cannot reserve its huge pages.",
  ),
  errno(
    "ENOSPC",
    28,
    "fallocate on a hugetlbfs file finds no free huge page, or no char-device minor of the range asked for is free.",
  ),
  errno(
    "ENOTDIR",
    20,
    "A path component is not a directory, O_DIRECTORY names a non-directory, or a trailing slash follows one.",
  ),
  errno("ENOTTY", 25, "The ioctl request is not one the file handles."),
  errno(
    "ENXIO",
    6,
    "lseek SEEK_DATA/SEEK_HOLE at or past the end of a memfd, or no data after the offset.",
  ),
  errno("EOVERFLOW", 75, "An mmap offset plus length overflows."),
  errno(
    "EOPNOTSUPP",
    95,
    "fallocate on a file that does not support it, or MAP_SHARED_VALIDATE with flags the file does not support.",
  ),
  errno(
    "EPERM",
    1,
    "epoll_ctl of a file that cannot be polled, or a memfd seal forbids the change (or adding seals).",
  ),
  errno("ERANGE", 34, "DRM_IOCTL_MODE_SETCRTC with x or y at or above 65536."),
  errno("ESPIPE", 29, "lseek or pread on a file that is not seekable."),
  errno("ESRCH", 3, "A syscall on, or an fd sent to, a process that has exited."),
  errno("EXDEV", 18, "An fd sent to a process of another kernel (kernels share nothing)."),
  {
    code: "DMA_BUF_RELEASE_VMAPPED",
    kind: "bug",
    errno: null,
    meaning: "A buffer lost its last reference while still vmapped (Linux: BUG).",
  },
  {
    code: "DMA_BUF_VUNMAP_UNBALANCED",
    kind: "bug",
    errno: null,
    meaning: "vunmap without a matching vmap, or of another mapping.",
  },
  {
    code: "DMA_BUF_UNMAP_NOT_MAPPED",
    kind: "bug",
    errno: null,
    meaning: "unmapAttachment of a table that is not mapped through that attachment.",
  },
  {
    code: "DMA_BUF_UNPIN_UNBALANCED",
    kind: "bug",
    errno: null,
    meaning: "unpin without a matching pin.",
  },
  {
    code: "DMA_BUF_USE_AFTER_FREE",
    kind: "bug",
    errno: null,
    meaning:
      "An in-kernel caller used a dma-buf after its last reference was dropped (Linux: use-after-free).",
  },
  {
    code: "PLUGIN_BAD_RETURN",
    kind: "bug",
    errno: null,
    meaning: "A plugin op returned a value of the wrong kind; the syscall fails with an errno.",
  },
  {
    code: "PLUGIN_OP_FAILED",
    kind: "bug",
    errno: null,
    meaning:
      "A plugin op threw something other than a KernelError; the syscall fails with an errno.",
  },
  {
    code: "FILE_REFCOUNT_UNDERFLOW",
    kind: "bug",
    errno: null,
    meaning: "A file reference was dropped (or taken) after the file was released.",
  },
  {
    code: "BUDDY_DOUBLE_FREE",
    kind: "bug",
    errno: null,
    meaning: "Pages freed to the page allocator twice.",
  },
  {
    code: "BUDDY_BAD_FREE",
    kind: "bug",
    errno: null,
    meaning: "Pages freed that are not an allocated block of that order.",
  },
  {
    code: "BUDDY_NOT_RESERVED",
    kind: "bug",
    errno: null,
    meaning: "A range given back to the page allocator was not reserved.",
  },
  {
    code: "DMA_API_UNMAP_NOT_MAPPED",
    kind: "bug",
    errno: null,
    meaning: "DMA-API debugging: a table that was never mapped is unmapped.",
  },
  {
    code: "DMA_API_DOUBLE_UNMAP",
    kind: "bug",
    errno: null,
    meaning: "DMA-API debugging: a table is unmapped a second time.",
  },
  {
    code: "DMA_API_UNMAP_WRONG_DEV",
    kind: "bug",
    errno: null,
    meaning: "DMA-API debugging: a table is unmapped for a device that did not map it.",
  },
  {
    code: "DMA_API_UNMAP_WRONG_DIR",
    kind: "bug",
    errno: null,
    meaning:
      "DMA-API debugging: a table is unmapped with another direction than it was mapped with.",
  },
  {
    code: "DMA_API_SYNC_NOT_MAPPED",
    kind: "bug",
    errno: null,
    meaning: "DMA-API debugging: a table that is not mapped for the device is synced.",
  },
  {
    code: "DMA_API_SYNC_WRONG_DIR",
    kind: "bug",
    errno: null,
    meaning: "DMA-API debugging: a sync in a direction the mapping lacks.",
  },
  {
    code: "DMA_API_DETACH_MAPPED",
    kind: "bug",
    errno: null,
    meaning: "DMA-API debugging: an importer detaches with live mappings.",
  },
  {
    code: "DMA_API_SEGMENT_TOO_LONG",
    kind: "bug",
    errno: null,
    meaning: "DMA-API debugging: a DMA segment is longer than the device's max segment size.",
  },
  {
    code: "DMA_FAULT_BEYOND_MASK",
    kind: "bug",
    errno: null,
    meaning: "A device accessed a bus address above its dma mask.",
  },
  {
    code: "DMA_FAULT_UNMAPPED",
    kind: "bug",
    errno: null,
    meaning:
      "A device accessed a bus address none of its live mappings covers (IOMMU fault, use after unmap).",
  },
  {
    code: "DMA_FAULT_DIRECTION",
    kind: "bug",
    errno: null,
    meaning:
      "A device wrote through a DMA_TO_DEVICE mapping or read through a DMA_FROM_DEVICE one.",
  },
  {
    code: "DMA_COHERENCY_VIOLATION",
    kind: "bug",
    errno: null,
    meaning:
      "The coherency checker, made fatal, found a missing cache sync between the CPU and a device.",
  },
  {
    code: "DMA_FENCE_BAD_OPS",
    kind: "bug",
    errno: null,
    meaning: "Fence ops without getDriverName or getTimelineName (Linux: BUG in dma_fence_init).",
  },
  {
    code: "DMA_FENCE_REF_UNDERFLOW",
    kind: "bug",
    errno: null,
    meaning: "A fence reference was dropped (or taken) after the fence was freed.",
  },
  {
    code: "DMA_FENCE_SET_ERROR",
    kind: "bug",
    errno: null,
    meaning: "setError after the fence signalled, or with a value that is not a negative errno.",
  },
  {
    code: "DMA_FENCE_WAIT_FOREVER",
    kind: "bug",
    errno: null,
    meaning:
      "An uninterruptible wait without timeout for a fence nothing can signal (Linux: a hung task).",
  },
  {
    code: "DMA_RESV_NOT_LOCKED",
    kind: "bug",
    errno: null,
    meaning: "A reservation object was changed or unlocked without holding its lock.",
  },
  {
    code: "DMA_RESV_NO_SLOT",
    kind: "bug",
    errno: null,
    meaning: "addFence without a slot reserved under the current lock hold (Linux: BUG).",
  },
  {
    code: "DMA_RESV_DEADLOCK",
    kind: "bug",
    errno: null,
    meaning: "A reservation object's lock was taken while already held (nothing could release it).",
  },
  {
    code: "SIGBUS",
    kind: "signal",
    errno: null,
    meaning: "A mapped page the exporter cannot provide was touched.",
  },
  {
    code: "SIGSEGV",
    kind: "signal",
    errno: null,
    meaning: "An access outside a mapping, after munmap, or against its protection.",
  },
  {
    code: "KERNEL_CONFIG_INVALID",
    kind: "config",
    errno: null,
    meaning: "createKernel was given an invalid configuration.",
  },
  {
    code: "DMABUF_CC_FAILED",
    kind: "tool",
    errno: null,
    meaning:
      "dmabuf-cc (compileC) could not compile or link the C program; clang's messages are attached.",
  },
  {
    code: "DMABUF_WASM_IMPORT",
    kind: "tool",
    errno: null,
    meaning:
      "runWasm refused a module importing a call the shim should have redirected, or one it lacks.",
  },
];
