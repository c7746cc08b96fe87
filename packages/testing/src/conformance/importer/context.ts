// What the importer suite drives (an importer under test) and the context its cases run in.

import type { Device, DmaBuf, Kernel, Process } from "@dmabuf/core";
import type { ConformanceCase } from "../case.js";
import type { TracedCall } from "./traced-exporter.js";

/**
 * An importer as the importer suite drives it: a device driver that imports dma-buf fds
 * from user space (what DRM's PRIME FD_TO_HANDLE does) and moves data by DMA. Write a small
 * adapter of this shape around your importer.
 */
export interface ImporterUnderTest {
  /** The importing device; its name is what bufinfo lists while the buffer is attached. */
  readonly device: Device;
  /**
   * Imports the dma-buf behind `fd` of `proc`: takes the importer's own reference and
   * attaches {@link ImporterUnderTest.device}.
   * @throws KernelError EBADF when `fd` is not open; EINVAL when it is not a dma-buf.
   */
  importFd(proc: Process, fd: number): ImportHandle;
}

/** A buffer an importer imported. */
export interface ImportHandle {
  /** The device reads `length` bytes at `offset` of the buffer (DMA from memory). */
  read(offset: number, length: number): Uint8Array;
  /** The device writes `bytes` at `offset` of the buffer (DMA to memory). */
  write(offset: number, bytes: Uint8Array): void;
  /** Ends the import: unmaps every mapping, detaches, drops the importer's reference. */
  release(): void;
  /**
   * Queues a device read of `length` bytes at `offset` that runs later on the kernel's virtual
   * clock, following the implicit-sync rules (it waits for the buffer's WRITE fences and adds
   * a READ fence). Importers that declare `asyncWork` provide this, {@link ImportHandle.queueWrite}
   * or both.
   */
  queueRead?(offset: number, length: number): ImporterReadWork;
  /**
   * Queues a device write of `bytes` at `offset` that runs later on the kernel's virtual clock,
   * following the implicit-sync rules (it waits for every READ and WRITE fence of the buffer
   * and adds a WRITE fence).
   */
  queueWrite?(offset: number, bytes: Uint8Array): ImporterWork;
}

/** Device work an importer queued on the virtual clock. */
export interface ImporterWork {
  /** Whether the work completed (its bytes moved and its fence signalled). */
  readonly done: boolean;
  /** Blocks until the work completed, running the virtual clock. */
  wait(): void;
}

/** A queued device read. */
export interface ImporterReadWork extends ImporterWork {
  /** The bytes the device read; meaningful once {@link ImporterWork.done}. */
  readonly bytes: Uint8Array;
}

/** A buffer to import, with the fd of it the case's process holds. */
export interface SourceBuffer {
  /** The buffer. */
  readonly buf: DmaBuf;
  /** Its fd in the session's process. */
  readonly fd: number;
}

/** One exporter the importer suite imports from. */
export interface BufferSource {
  /** Its name in failure messages: `"page-exporter"` or `"system heap"`. */
  readonly name: string;
  /** Creates an O_RDWR buffer of `size` bytes held by an fd of the session's process. */
  create(size: number): SourceBuffer;
  /** Every op call of the exporter, for the traced page exporter; undefined otherwise. */
  readonly calls: readonly TracedCall[] | undefined;
}

/** One booted kernel with the importer under test and the exporters it imports from. */
export interface ImporterSession {
  /** The kernel. */
  readonly kernel: Kernel;
  /** The user-space process that creates and shares the buffers. */
  readonly proc: Process;
  /** The importer under test, created in this kernel. */
  readonly importer: ImporterUnderTest;
  /** The exporters: the traced page exporter, then the system heap. */
  readonly sources: readonly BufferSource[];
}

/** What an importer case receives. */
export interface ImporterCaseContext {
  /** Boots a fresh kernel with the importer (followed by the after-case checks). */
  boot(): ImporterSession;
}

/** What an importer declares it can do; cases it cannot run are reported as skipped. */
export interface ImporterCapabilities {
  /**
   * Its imports queue asynchronous device work ({@link ImportHandle.queueRead},
   * {@link ImportHandle.queueWrite}) that follows the implicit-sync rules of the buffer's
   * reservation object.
   */
  readonly asyncWork: boolean;
  /**
   * It attaches dynamically (`dma_buf_dynamic_attach` with a `moveNotify`) and handles moves:
   * after `moveNotify` it stops using its old mappings and re-maps before its next access
   * (or it pins the buffer with `dma_buf_pin`, and then the exporter cannot move it).
   */
  readonly dynamic: boolean;
}

/** A case of the importer suite. */
export type ImporterCase = ConformanceCase<ImporterCaseContext, ImporterCapabilities>;
