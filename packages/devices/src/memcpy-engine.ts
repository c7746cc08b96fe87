// A memcpy DMA engine: copies bytes from one imported buffer to another through its port.

import { type DeviceHost, type DmaFence, device } from "@dmabuf/core";
import * as z from "zod";
import { deviceSpec, type ImportedBuffer } from "./device-model.js";
import { DmaEngine, engineConfigSchema } from "./engine.js";

/** Configuration of {@link MemcpyEngine}. */
export const memcpyEngineConfigSchema = engineConfigSchema({ bytesPerNs: 8, latencyNs: 2000 });

/** Input accepted as {@link MemcpyEngine} configuration. */
export type MemcpyEngineConfigInput = z.input<typeof memcpyEngineConfigSchema>;

/**
 * A memcpy DMA engine (a system DMA controller): copies a range of one imported buffer into
 * another, as one job on the virtual clock. It reads the source through a DMA_TO_DEVICE (or
 * bidirectional) mapping and writes the destination through a DMA_FROM_DEVICE (or
 * bidirectional) one; bytes move run by run between physical memory, snooped or checked by
 * the cache model. Default device: `memcpy0`, non-coherent, no IOMMU.
 *
 * @example
 * ```ts
 * const kernel = createKernel({ plugins: [SystemHeap, MemcpyEngine] });
 * const dma = kernel.plugin(MemcpyEngine);
 * const src = dma.import(bufA, DMA_TO_DEVICE);
 * const dst = dma.import(bufB, DMA_FROM_DEVICE);
 * dma.wait(dma.copy(dst, 0, src, 0, bufA.size));
 * ```
 */
@device({ name: "memcpy-engine", configSchema: memcpyEngineConfigSchema })
export class MemcpyEngine extends DmaEngine {
  /** {@inheritDoc DmaEngine.driverName} */
  readonly driverName = "dmabuf-memcpy";

  /**
   * @param host - the device host (given by `createKernel`)
   * @param config - {@link MemcpyEngineConfigInput} (the plugin entry's config)
   */
  constructor(host: DeviceHost, config?: unknown) {
    const c = memcpyEngineConfigSchema.parse(config ?? {});
    super(host, deviceSpec({ name: "memcpy0", coherent: false }, c), c);
  }

  /**
   * Copies `length` bytes from `srcOffset` of `src` to `dstOffset` of `dst` (both imported
   * by this engine).
   * @returns the job's fence
   * @throws TypeError when a buffer is not imported by this engine or its mapping's direction
   * does not allow the access.
   */
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
