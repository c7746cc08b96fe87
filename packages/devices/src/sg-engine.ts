// A scatter-gather DMA engine behind an IOMMU (GPU-like): fills, uploads, copies, readbacks.

import { type DeviceHost, type DmaFence, device } from "@dmabuf/core";
import * as z from "zod";
import { deviceSpec, type ImportedBuffer } from "./device-model.js";
import { DmaEngine, engineConfigSchema } from "./engine.js";

/** Configuration of {@link SgEngine}. */
export const sgEngineConfigSchema = engineConfigSchema({ bytesPerNs: 16, latencyNs: 5000 });

/** Input accepted as {@link SgEngine} configuration. */
export type SgEngineConfigInput = z.input<typeof sgEngineConfigSchema>;

/**
 * A scatter-gather DMA engine behind an IOMMU, like a GPU's copy engine: any buffer maps to
 * one contiguous IOVA range (the IOMMU merges the chunks), and the engine works on byte
 * ranges of it. Default device: `sg0`, coherent, behind an IOMMU, 32-bit IOVA space.
 */
@device({ name: "sg-engine", configSchema: sgEngineConfigSchema })
export class SgEngine extends DmaEngine {
  /** {@inheritDoc DmaEngine.driverName} */
  readonly driverName = "dmabuf-sg";

  /**
   * @param host - the device host (given by `createKernel`)
   * @param config - {@link SgEngineConfigInput} (the plugin entry's config)
   */
  constructor(host: DeviceHost, config?: unknown) {
    const c = sgEngineConfigSchema.parse(config ?? {});
    super(
      host,
      deviceSpec({ name: "sg0", coherent: true, iommu: true, dmaMask: 0xffffffff }, c),
      c,
    );
  }

  /** Fills `length` bytes of `dst` at `offset` with `value`. @returns the job's fence */
  fill(dst: ImportedBuffer, value: number, offset = 0, length = dst.size - offset): DmaFence {
    this.checkImport(dst, "write", offset, length);
    return this.submit({
      reads: [],
      writes: [dst],
      duration: this.transferTime(length),
      run: () => dst.fill(value, offset, length),
    });
  }

  /** Writes `bytes` (copied now) into `dst` at `offset`. @returns the job's fence */
  upload(dst: ImportedBuffer, offset: number, bytes: Uint8Array): DmaFence {
    this.checkImport(dst, "write", offset, bytes.length);
    const data = bytes.slice();
    return this.submit({
      reads: [],
      writes: [dst],
      duration: this.transferTime(data.length),
      run: () => dst.write(offset, data),
    });
  }

  /**
   * Reads `length` bytes of `src` at `offset` into `into` (filled when the job completes).
   * @returns the job's fence
   */
  readback(src: ImportedBuffer, into: Uint8Array, offset = 0, length = into.length): DmaFence {
    this.checkImport(src, "read", offset, length);
    return this.submit({
      reads: [src],
      writes: [],
      duration: this.transferTime(length),
      run: () => {
        into.set(src.read(offset, length));
      },
    });
  }

  /** Copies `length` bytes from `src` at `srcOffset` to `dst` at `dstOffset`. */
  copy(
    dst: ImportedBuffer,
    dstOffset: number,
    src: ImportedBuffer,
    srcOffset: number,
    length: number,
  ): DmaFence {
    this.checkImport(src, "read", srcOffset, length);
    this.checkImport(dst, "write", dstOffset, length);
    return this.submit({
      reads: [src],
      writes: [dst],
      duration: this.transferTime(length),
      run: () =>
        this.port.copyTable(dst.sgt, dstOffset, src.sgt, srcOffset, length, dst.buf, src.buf),
    });
  }
}
