// A display controller's scanout: reads contiguous framebuffers at each refresh.

import {
  type DeviceHost,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type DmaDirection,
  type DmaFence,
  device,
  type Process,
} from "@dmabuf/core";
import { z } from "zod";
import { deviceConfigSchema, deviceSpec, type ImportedBuffer } from "./device-model.js";
import { DmaEngine } from "./engine.js";

/** Configuration of {@link Scanout}. */
export const scanoutConfigSchema = deviceConfigSchema.extend({
  /** Refresh rate in Hz: a presented frame is read within one refresh period (default 60). */
  refreshHz: z.number().positive().default(60),
});

/** Input accepted as {@link Scanout} configuration. */
export type ScanoutConfigInput = z.input<typeof scanoutConfigSchema>;

/**
 * A display controller's scanout engine, contiguous-only and without an IOMMU, like the
 * display blocks DRM's DMA helpers drive: a framebuffer must map to one contiguous bus range
 * (a CMA buffer does; a multi-chunk system-heap buffer is refused with EINVAL). Presenting a
 * framebuffer reads all of it during the next refresh period; {@link Scanout.lastFrame} holds
 * the bytes the panel showed. Default device: `scanout0`, non-coherent, 32-bit dma mask.
 */
@device({ name: "scanout", configSchema: scanoutConfigSchema })
export class Scanout extends DmaEngine {
  /** {@inheritDoc DmaEngine.driverName} */
  readonly driverName = "dmabuf-display";
  /** The bytes of the last frame scanned out, or null before the first. */
  lastFrame: Uint8Array | null = null;
  /** Frames scanned out so far. */
  framesShown = 0;
  readonly #periodNs: number;

  /**
   * @param host - the device host (given by `createKernel`)
   * @param config - {@link ScanoutConfigInput} (the plugin entry's config)
   */
  constructor(host: DeviceHost, config?: unknown) {
    const c = scanoutConfigSchema.parse(config ?? {});
    super(
      host,
      deviceSpec(
        { name: "scanout0", coherent: false, dmaMask: 0xffffffff, contiguousOnly: true },
        c,
      ),
      { bytesPerNs: 8, latencyNs: 0, dynamic: c.dynamic },
    );
    this.#periodNs = Math.round(1e9 / c.refreshHz);
  }

  /**
   * Imports a framebuffer: a buffer, or the dma-buf behind `fd` of `proc`. Mapped
   * DMA_BIDIRECTIONAL by default, as DRM PRIME imports are (`drm_gem_prime_import_dev`);
   * pass `dir` for a driver that maps framebuffers DMA_TO_DEVICE.
   * @throws KernelError EINVAL when the buffer is not contiguous in bus address space.
   */
  addFramebuffer(buf: DmaBuf, dir?: DmaDirection): ImportedBuffer;
  addFramebuffer(proc: Process, fd: number, dir?: DmaDirection): ImportedBuffer;
  addFramebuffer(a: DmaBuf | Process, b?: number, c?: DmaDirection): ImportedBuffer {
    if ("pid" in a) return this.importFd(a, b as number, c ?? DMA_BIDIRECTIONAL);
    return this.import(a, (b as DmaDirection | undefined) ?? DMA_BIDIRECTIONAL, true);
  }

  /**
   * Shows `fb` at the next refresh: the whole framebuffer is read through the port.
   * @returns the scanout's fence
   */
  present(fb: ImportedBuffer): DmaFence {
    this.checkImport(fb, "read");
    return this.submit({
      reads: [fb],
      writes: [],
      duration: this.#periodNs,
      run: () => {
        this.lastFrame = fb.read();
        this.framesShown++;
      },
    });
  }
}
