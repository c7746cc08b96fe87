// my-importer: a device that imports dma-buf fds and moves their bytes by DMA.

import {
  Device,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  type Kernel,
  type Process,
  type SgTable,
} from "@dmabuf/core";
import type { ImporterConformanceOptions, ImporterUnderTest, ImportHandle } from "@dmabuf/testing";

/**
 * An importer that passes the importer suite. Import takes
 * a reference (`dma_buf_get`) and attaches the device; every transfer maps the attachment in
 * the transfer's direction, moves the bytes through the device's port (the table's DMA
 * segments) and unmaps; release detaches and drops the reference.
 */
export class MyImporter implements ImporterUnderTest {
  /**
   * @param kernel - the kernel whose buffers it imports
   * @param device - the importing device (default: a coherent device "my-importer")
   */
  constructor(
    readonly kernel: Kernel,
    readonly device: Device = new Device({ name: "my-importer" }),
  ) {}

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
    const port = this.kernel.dma.port(this.device);
    return {
      read: (offset, length) =>
        this.transfer(attachment, DMA_TO_DEVICE, (sgt) =>
          port.readTable(sgt, offset, length, new Uint8Array(length), 0, buf),
        ),
      write: (offset, bytes) =>
        this.transfer(attachment, DMA_FROM_DEVICE, (sgt) =>
          port.writeTable(sgt, offset, bytes, buf),
        ),
      release: () => this.relinquish(buf, attachment),
    };
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

/** How the importer suite creates the importer under test in each freshly booted kernel. */
export const importerSuite: ImporterConformanceOptions = {
  name: "my-importer",
  importer: (kernel) => new MyImporter(kernel),
};

/** What `dmabuf-conformance` runs for this module (an importer is not a plugin class). */
export const conformance = [{ suite: "importer", options: importerSuite }] as const;
