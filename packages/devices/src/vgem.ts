// A vgem-like test importer: PRIME import (attach + map) and GEM close, nothing else.

import {
  type DeviceHost,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  device,
  KernelError,
  type Process,
} from "@dmabuf/core";
import { z } from "zod";
import {
  DeviceModel,
  deviceConfigSchema,
  deviceSpec,
  type ImportedBuffer,
} from "./device-model.js";
import { drmFileOperations, drmMinor, drmRdev } from "./drm-node.js";

/** Configuration of {@link Vgem}. */
export const vgemConfigSchema = deviceConfigSchema.extend({
  /** The DRM minor: the node is /dev/dri/card<card> (default: the next free one, from 0). */
  card: z.number().int().min(0).max(63).optional(),
});

/** Input accepted as {@link Vgem} configuration. */
export type VgemConfigInput = z.input<typeof vgemConfigSchema>;

/**
 * A vgem-like importer, what the dmabuf-heaps selftest opens to check that a heap's buffers
 * can be imported: {@link Vgem.primeFdToHandle} gets the dma-buf behind an fd, attaches the
 * device and maps it DMA_BIDIRECTIONAL, and returns a GEM handle; importing the same buffer
 * again in the same process returns the same handle. It never touches the memory. Default
 * device: `vgem`, coherent, no IOMMU.
 */
@device({ name: "vgem", configSchema: vgemConfigSchema })
export class Vgem extends DeviceModel {
  readonly #handles = new Map<Process, Map<number, ImportedBuffer>>();
  readonly #byBuffer = new Map<Process, Map<DmaBuf, number>>();
  #nextHandle = 1;
  readonly #card: number | undefined;

  /**
   * @param host - the device host (given by `createKernel`)
   * @param config - device overrides (the plugin entry's config)
   */
  constructor(host: DeviceHost, config?: unknown) {
    const c = vgemConfigSchema.parse(config ?? {});
    super(host, deviceSpec({ name: "vgem", coherent: true }, c), c);
    this.#card = c.card;
  }

  /** Registers the device and creates /dev/dri/card<N>. */
  override probe(): void {
    super.probe();
    const card = drmMinor(this.host, this.#card);
    this.host.installDevice(`/dev/dri/card${card}`, {
      mode: 0o660,
      gid: 44,
      rdev: drmRdev(card),
      fops: drmFileOperations(
        { name: "vgem", date: "20120112", desc: "Virtual GEM provider", version: [1, 0, 0] },
        this,
      ),
      privateData: this,
    });
  }

  /**
   * DRM_IOCTL_PRIME_FD_TO_HANDLE: imports the dma-buf behind `fd` of `proc`.
   * @returns the GEM handle (the same one for a buffer this process imported before)
   * @throws KernelError EBADF, EINVAL (not a dma-buf), and the exporter's attach/map errors.
   */
  primeFdToHandle(proc: Process, fd: number): number {
    const core = this.host.dmaBuf;
    const buf = core.get(proc, fd);
    try {
      const known = this.#byBuffer.get(proc)?.get(buf);
      if (known !== undefined) return known;
      const imported = this.import(buf, DMA_BIDIRECTIONAL, true);
      const handle = this.#nextHandle++;
      this.#mapOf(this.#handles, proc).set(handle, imported);
      this.#mapOf(this.#byBuffer, proc).set(buf, handle);
      return handle;
    } finally {
      core.put(buf);
    }
  }

  /**
   * DRM_IOCTL_GEM_CLOSE: unmaps, detaches and drops the buffer behind `handle`.
   * @throws KernelError EINVAL for an unknown handle.
   */
  gemClose(proc: Process, handle: number): void {
    const imported = this.#handles.get(proc)?.get(handle);
    if (!imported) throw new KernelError("EINVAL", "drm_gem_close", `no handle ${handle}`);
    this.#handles.get(proc)?.delete(handle);
    this.#byBuffer.get(proc)?.delete(imported.buf);
    imported.release();
  }

  /** The import behind `handle` of `proc`, if any. */
  lookup(proc: Process, handle: number): ImportedBuffer | undefined {
    return this.#handles.get(proc)?.get(handle);
  }

  #mapOf<K, V>(outer: Map<Process, Map<K, V>>, proc: Process): Map<K, V> {
    let m = outer.get(proc);
    if (!m) {
      m = new Map();
      outer.set(proc, m);
    }
    return m;
  }
}
