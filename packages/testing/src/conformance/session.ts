// What a case works with: a freshly booted kernel, a process, and a way to make buffers.

import {
  type AllocOptions,
  bufferInWords,
  type DmaBuf,
  type DmaHeap,
  type Kernel,
  type Process,
} from "@dmabuf/core";
import { O_CLOEXEC } from "@dmabuf/core/uapi";

/** One booted kernel with a way to create buffers from the exporter under test. */
export interface ExporterSession {
  /** The kernel, fresh from the factory. */
  readonly kernel: Kernel;
  /** A user-space process spawned for the case ("conformance"). */
  readonly proc: Process;
  /**
   * Creates a buffer of `size` bytes (a page multiple) with file flags `flags` (default
   * O_RDWR). The caller owns its one reference.
   */
  create(size: number, flags?: number): DmaBuf;
  /** Creates a buffer and hands its reference to a new fd of `proc` (default: the session's). */
  createFd(size: number, flags?: number, proc?: Process): { buf: DmaBuf; fd: number };
}

/** An {@link ExporterSession} whose exporter is a heap, with the heap open in `proc`. */
export interface HeapSession extends ExporterSession {
  /** The heap under test. */
  readonly heap: DmaHeap;
  /** Its name. */
  readonly heapName: string;
  /** `/dev/dma_heap/<name>` opened O_RDWR in `proc`. */
  readonly heapFd: number;
  /** DMA_HEAP_IOCTL_ALLOC on `heapFd`; returns the new dma-buf fd. */
  alloc(len: number | bigint, options?: AllocOptions): number;
}

/** Builds {@link ExporterSession.createFd} from `create`. */
export function createFdWith(
  kernel: Kernel,
  create: (size: number, flags?: number) => DmaBuf,
  defaultProc: Process,
): ExporterSession["createFd"] {
  return (size, flags, proc = defaultProc) => {
    const buf = create(size, flags);
    try {
      return { buf, fd: kernel.dmaBuf.fd(buf, proc, O_CLOEXEC) };
    } catch (e) {
      kernel.dmaBuf.put(buf);
      throw e;
    }
  };
}

/**
 * Wraps a session's `create` so the pages it takes are owned (`kernel.pageOwners`) by
 * `<who> buffer inode N`, or by `<who> create of N bytes that failed`, as an ALLOC's are: a
 * leak report then names them.
 */
export function ownedCreate(
  kernel: Kernel,
  who: string,
  create: (size: number, flags?: number) => DmaBuf,
): (size: number, flags?: number) => DmaBuf {
  return (size, flags) => {
    let made: DmaBuf | undefined;
    const owner = kernel.pageOwners.open(() =>
      made ? `${who} ${bufferInWords(made)}` : `${who} create of ${size} bytes that failed`,
    );
    try {
      made = create(size, flags);
      return made;
    } finally {
      kernel.pageOwners.close(owner);
    }
  };
}
