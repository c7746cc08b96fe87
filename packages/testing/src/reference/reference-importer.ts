// The minimal correct importer: a device that imports dma-buf fds and moves data by DMA.

import {
  Device,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  type DmaFence,
  type Kernel,
  type Process,
  type SgTable,
} from "@dmabuf/core";
import type {
  ImporterCapabilities,
  ImporterReadWork,
  ImporterUnderTest,
  ImporterWork,
  ImportHandle,
} from "../conformance/importer/context.js";
import { DeviceJobQueue, implicitDeps } from "./job-queue.js";

/** One import: what its release must undo, and the device jobs still holding it. */
export interface ImportState {
  /** The buffer (the import holds a reference). */
  readonly buf: DmaBuf;
  /** The device's attachment. */
  readonly attachment: DmaBufAttachment;
  /** The DMA_BIDIRECTIONAL mapping queued jobs use, while any job is queued. */
  jobMapping: SgTable | undefined;
  /** Jobs queued and not completed. */
  pending: number;
  /** Whether user space ended the import (the teardown waits for {@link ImportState.pending}). */
  released: boolean;
}

/**
 * The smallest importer that passes the importer suite: copy its order of calls. Import takes
 * a reference (`dma_buf_get`) and attaches the device; every transfer maps the attachment in
 * the transfer's direction, moves the bytes through the device's port (the table's DMA
 * segments) and unmaps; release detaches and drops the reference.
 *
 * Queued work (`queueRead`, `queueWrite`) runs on a {@link DeviceJobQueue}: the first job
 * queued maps the attachment DMA_BIDIRECTIONAL (one mapping per attachment at a time, as an
 * exporter that keeps one table per attachment needs), each job waits for the buffer's fences
 * by the implicit-sync rules (a read for the writers, a write for every reader and writer),
 * adds its own fence and moves the bytes on completion; the last job to complete unmaps. A
 * release while jobs are queued only marks the import released: the last job to complete
 * detaches and drops the reference (the jobs hold the import, as a GPU job holds its GEM
 * object), so the device never reaches memory it no longer has mapped, and a buffer whose
 * last fd was closed lives until its work is done.
 *
 * @example
 * ```ts
 * const importer = new ReferenceImporter(kernel);
 * const imported = importer.importFd(proc, fd);
 * const firstPage = imported.read(0, 4096);
 * imported.release();
 * ```
 */
export class ReferenceImporter implements ImporterUnderTest {
  /** What it declares to the importer suite; `dmabuf-conformance` reads it from the class. */
  static readonly capabilities: Partial<ImporterCapabilities> = { asyncWork: true };

  /** The device's job queue (queued work). */
  protected readonly jobs: DeviceJobQueue;

  /**
   * @param kernel - the kernel whose buffers it imports
   * @param device - the importing device (default: a coherent device "reference-importer")
   */
  constructor(
    readonly kernel: Kernel,
    readonly device: Device = new Device({ name: "reference-importer" }),
  ) {
    this.jobs = new DeviceJobQueue(kernel, "reference-importer", device.name);
  }

  /** {@inheritDoc ImporterUnderTest.importFd} */
  importFd(proc: Process, fd: number): ImportHandle {
    const buf = this.acquire(proc, fd);
    let attachment: DmaBufAttachment;
    try {
      attachment = this.attachDevice(buf);
    } catch (e) {
      this.kernel.dmaBuf.put(buf);
      throw e;
    }
    return this.handle(buf, attachment);
  }

  /** The import's handle for a buffer it holds a reference on and has attached. */
  protected handle(buf: DmaBuf, attachment: DmaBufAttachment): ImportHandle {
    const port = this.kernel.dma.port(this.device);
    const state: ImportState = {
      buf,
      attachment,
      jobMapping: undefined,
      pending: 0,
      released: false,
    };
    return {
      read: (offset, length) =>
        this.transfer(attachment, DMA_TO_DEVICE, (sgt) =>
          port.readTable(sgt, offset, length, new Uint8Array(length), 0, buf),
        ),
      write: (offset, bytes) =>
        this.transfer(attachment, DMA_FROM_DEVICE, (sgt) =>
          port.writeTable(sgt, offset, bytes, buf),
        ),
      release: () => this.endImport(state),
      queueRead: (offset, length): ImporterReadWork => {
        const bytes = new Uint8Array(length);
        const fence = this.queue(state, false, (sgt) =>
          port.readTable(sgt, offset, length, bytes, 0, buf),
        );
        return Object.assign(workOf(fence), { bytes });
      },
      queueWrite: (offset, bytes): ImporterWork => {
        const data = bytes.slice();
        return workOf(this.queue(state, true, (sgt) => port.writeTable(sgt, offset, data, buf)));
      },
    };
  }

  /**
   * Queues a device job on the import: maps the attachment (DMA_BIDIRECTIONAL) unless a
   * queued job already did, waits for {@link ReferenceImporter.dependencies}, lets `move` do
   * the DMA at completion; the import's last queued job unmaps and, when the import was
   * released meanwhile, ends it.
   * @param write - whether the device writes the buffer
   * @returns the job's fence
   * @throws KernelError the exporter's map error (nothing queued). TypeError after release.
   */
  protected queue(state: ImportState, write: boolean, move: (sgt: SgTable) => void): DmaFence {
    if (state.released) throw new TypeError(`${this.device.name}: the import was released`);
    const core = this.kernel.dmaBuf;
    const { buf, attachment } = state;
    const sgt = state.jobMapping ?? core.mapAttachment(attachment, DMA_BIDIRECTIONAL);
    state.jobMapping = sgt;
    state.pending++;
    return this.jobs.submit({
      buf,
      write,
      deps: this.dependencies(buf, write),
      run: () => {
        move(sgt);
        if (--state.pending > 0) return;
        state.jobMapping = undefined;
        core.unmapAttachment(attachment, sgt, DMA_BIDIRECTIONAL);
        if (state.released) this.relinquish(buf, attachment);
      },
    });
  }

  /**
   * The fences a job must wait for (references the caller owns): implicit sync, i.e. the
   * writers before a read, every reader and writer before a write.
   */
  protected dependencies(buf: DmaBuf, write: boolean): DmaFence[] {
    return implicitDeps(buf, write);
  }

  /**
   * User space ends the import: with no job queued, {@link ReferenceImporter.relinquish} now;
   * otherwise the last job does it when it completes.
   */
  protected endImport(state: ImportState): void {
    if (state.released) return;
    state.released = true;
    if (state.pending === 0) this.relinquish(state.buf, state.attachment);
  }

  /**
   * Takes the importer's own reference on the buffer behind `fd` (`dma_buf_get`).
   * @throws KernelError EBADF, EINVAL.
   */
  protected acquire(proc: Process, fd: number): DmaBuf {
    return this.kernel.dmaBuf.get(proc, fd);
  }

  /**
   * Attaches the importer's device to the buffer (`dma_buf_attach`: a static importer).
   * @throws KernelError the exporter's attach error.
   */
  protected attachDevice(buf: DmaBuf): DmaBufAttachment {
    return this.kernel.dmaBuf.attach(buf, this.device);
  }

  /** Ends an import: detaches the device, then drops the reference (`dma_buf_put`). */
  protected relinquish(buf: DmaBuf, attachment: DmaBufAttachment): void {
    this.kernel.dmaBuf.detach(buf, attachment);
    this.kernel.dmaBuf.put(buf);
  }

  /**
   * Maps the attachment in direction `dir` for one transfer, lets `move` do the DMA through
   * the mapped table, and unmaps again.
   */
  protected transfer<T>(
    attachment: DmaBufAttachment,
    dir: DmaDirection,
    move: (sgt: SgTable) => T,
  ): T {
    const core = this.kernel.dmaBuf;
    const sgt = core.mapAttachment(attachment, dir);
    try {
      return move(sgt);
    } finally {
      core.unmapAttachment(attachment, sgt, dir);
    }
  }
}

/** A job's fence as the importer suite's queued work. */
function workOf(fence: DmaFence): ImporterWork {
  return {
    get done() {
      return fence.isSignaled();
    },
    wait: () => fence.wait(true),
  };
}
