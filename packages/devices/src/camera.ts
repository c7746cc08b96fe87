// A camera-like producer: writes frames into imported buffers on the virtual clock.

import { type DeviceHost, DMA_FROM_DEVICE, type DmaBuf, type DmaFence, device } from "@dmabuf/core";
import * as z from "zod";
import { cameraV4l2, VIDEO_MAJOR, v4l2Minor } from "./camera-v4l2.js";
import { deviceConfigSchema, deviceSpec, type ImportedBuffer } from "./device-model.js";
import { DmaEngine } from "./engine.js";

/** Configuration of {@link Camera}. */
export const cameraConfigSchema = deviceConfigSchema.extend({
  /** Frames per second: a capture completes one frame period after it starts (default 30). */
  fps: z.number().positive().default(30),
  /** The V4L2 node is /dev/video<video> (default: the next free one, from 0). */
  video: z.number().int().min(0).max(255).optional(),
});

/** Input accepted as {@link Camera} configuration. */
export type CameraConfigInput = z.input<typeof cameraConfigSchema>;

/**
 * The test pattern of frame `frame`: byte `i` is `(frame * 37 + i * 7) & 0xff`, so every frame
 * differs from the last and from a zeroed buffer.
 */
export function framePattern(frame: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const base = (frame * 37) & 0xff;
  for (let i = 0; i < length; i++) out[i] = (base + i * 7) & 0xff;
  return out;
}

/**
 * A camera-like producer (a capture interface with its own DMA): each capture writes one frame
 * into a buffer imported with DMA_FROM_DEVICE (or bidirectional), completing one frame period
 * later. Frames are the {@link framePattern} of a running frame counter unless the caller
 * passes the bytes. Default device: `camera0`, non-coherent, 32-bit dma mask, no IOMMU.
 *
 * C code drives it through /dev/videoN (the next V4L2 minor at probe), the capture subset of
 * {@link cameraV4l2}.
 */
@device({ name: "camera", configSchema: cameraConfigSchema })
export class Camera extends DmaEngine {
  /** {@inheritDoc DmaEngine.driverName} */
  readonly driverName = "dmabuf-camera";
  /** Frames captured so far (completed). */
  framesCaptured = 0;
  readonly #periodNs: number;
  #nextFrame = 0;
  readonly #video: number | undefined;

  /**
   * @param host - the device host (given by `createKernel`)
   * @param config - {@link CameraConfigInput} (the plugin entry's config)
   */
  constructor(host: DeviceHost, config?: unknown) {
    const c = cameraConfigSchema.parse(config ?? {});
    super(host, deviceSpec({ name: "camera0", coherent: false, dmaMask: 0xffffffff }, c), {
      bytesPerNs: 8,
      latencyNs: 0,
      dynamic: c.dynamic,
    });
    this.#periodNs = Math.round(1e9 / c.fps);
    this.#video = c.video;
  }

  /** Registers the device and creates its V4L2 node /dev/video<N>. */
  override probe(): void {
    super.probe();
    const minor = v4l2Minor(this.host, this.#video);
    this.host.installDevice(`/dev/video${minor}`, {
      mode: 0o660,
      gid: 44,
      rdev: [VIDEO_MAJOR, minor],
      fops: cameraV4l2(this),
      privateData: this,
    });
  }

  /**
   * Imports a buffer to capture into (DMA_FROM_DEVICE), holding a reference until released.
   * @throws KernelError the exporter's attach or map errors.
   */
  importCapture(buf: DmaBuf): ImportedBuffer {
    return this.import(buf, DMA_FROM_DEVICE, true);
  }

  /**
   * Captures one frame into `dst` from byte `offset` on: `data`, or the next test pattern
   * (as long as the rest of the buffer).
   * @returns the capture's fence
   * @throws TypeError when `dst` is not imported by this camera for writing.
   */
  capture(dst: ImportedBuffer, data?: Uint8Array, offset = 0): DmaFence {
    const frame = data ?? framePattern(this.#nextFrame, dst.size - offset);
    this.checkImport(dst, "write", offset, frame.length);
    this.#nextFrame++;
    return this.submit({
      reads: [],
      writes: [dst],
      duration: this.#periodNs,
      run: () => {
        this.port.writeTable(dst.sgt, offset, frame, dst.buf);
        this.framesCaptured++;
      },
    });
  }
}
