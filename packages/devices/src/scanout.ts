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
import * as z from "zod";
import { deviceConfigSchema, deviceSpec, type ImportedBuffer } from "./device-model.js";
import { drmFileOperations, drmMinor, drmRdev } from "./drm-node.js";
import { DmaEngine } from "./engine.js";
import { scanoutKms } from "./scanout-kms.js";

/** Configuration of {@link Scanout}. */
export const scanoutConfigSchema = deviceConfigSchema.extend({
  /** Refresh rate in Hz: a presented frame is read within one refresh period (default 60). */
  refreshHz: z.number().positive().default(60),
  /** The DRM minor: the node is /dev/dri/card<card> (default: the next free one, from 0). */
  card: z.number().int().min(0).max(63).optional(),
});

/** Input accepted as {@link Scanout} configuration. */
export type ScanoutConfigInput = z.input<typeof scanoutConfigSchema>;

/**
 * A display controller's scanout engine, contiguous-only and without an IOMMU, like the
 * display blocks DRM's DMA helpers drive: a framebuffer must map to one contiguous bus range
 * (a CMA buffer does; a multi-chunk system-heap buffer is refused with EINVAL). Presenting a
 * framebuffer reads all of it during the next refresh period; {@link Scanout.lastFrame} holds
 * the bytes the panel showed. Default device: `scanout0`, non-coherent, 32-bit dma mask.
 *
 * C code drives it through /dev/dri/cardN (the next DRM minor at probe): DRM_IOCTL_VERSION
 * (name "dmabuf-display"), PRIME_FD_TO_HANDLE (imports as {@link Scanout.addFramebuffer}
 * does), GEM_CLOSE, and the KMS subset of {@link scanoutKms}.
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
  readonly #card: number | undefined;

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
    this.#card = c.card;
  }

  /** Registers the device and creates its DRM node /dev/dri/card<N>. */
  override probe(): void {
    super.probe();
    const card = drmMinor(this.host, this.#card);
    this.host.installDevice(`/dev/dri/card${card}`, {
      mode: 0o660,
      gid: 44,
      rdev: drmRdev(card),
      fops: drmFileOperations(
        { name: "dmabuf-display", date: "", desc: "dmabuf model display", version: [1, 0, 0] },
        this,
        DMA_BIDIRECTIONAL,
        scanoutKms(this),
      ),
      privateData: this,
    });
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
