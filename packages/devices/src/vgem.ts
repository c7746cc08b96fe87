// vgem: PRIME import (attach + map), GEM close, and shmem-backed dumb buffers it exports.

import {
  type DeviceHost,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  device,
  KernelError,
  type Process,
} from "@dmabuf/core";
import * as z from "zod";
import {
  DeviceModel,
  deviceConfigSchema,
  deviceSpec,
  type ImportedBuffer,
} from "./device-model.js";
import { drmFileOperations, drmMinor, drmRdev } from "./drm-node.js";
import { dumbIoctl } from "./dumb-buffers.js";
import { GemShmemDevice, type GemShmemObject } from "./gem-shmem.js";

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
 *
 * Its node /dev/dri/cardN also allocates buffers of its own, as Linux's vgem (a
 * `DRM_GEM_SHMEM_DRIVER_OPS` driver) does: DRM_IOCTL_MODE_CREATE_DUMB makes a shmem-backed GEM
 * object (see {@link dumbIoctl} for pitch, size and errors), MAP_DUMB gives its fake mmap
 * offset for mmap() of the node, PRIME_HANDLE_TO_FD exports it as a dma-buf with vgem as the
 * exporter ({@link GemShmemDevice}), and GEM_CLOSE / DESTROY_DUMB drop the handle; the pages
 * are freed with the last reference.
 */
@device({ name: "vgem", configSchema: vgemConfigSchema })
export class Vgem extends DeviceModel {
  readonly #handles = new Map<Process, Map<number, ImportedBuffer>>();
  readonly #byBuffer = new Map<Process, Map<DmaBuf, number>>();
  #nextHandle = 1;
  readonly #card: number | undefined;
  #gem: GemShmemDevice | undefined;

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
        DMA_BIDIRECTIONAL,
        {
          ioctl: (dfile, cmd, arg) => dumbIoctl(this.gem, dfile, cmd, arg),
          gemOf: (buf) => (buf.ops === this.gem.ops ? (buf.priv as GemShmemObject) : undefined),
          mmap: (dfile, vma) => {
            const obj = this.gem.lookupOffset(vma.pgoff, vma.pageCount);
            if (!obj) throw new KernelError("EINVAL", "drm_gem_mmap", "no object at that offset");
            if (dfile.gemHandleOf(obj) === undefined) {
              throw new KernelError("EACCES", "drm_gem_mmap", "no handle in this file");
            }
            this.gem.mmap(obj, vma);
          },
        },
      ),
      privateData: this,
    });
  }

  /**
   * The kernel's snapshot reads it: `<device>/gem-objects`, the GEM objects vgem allocated and has
   * not freed yet (their pages show in the page allocator's count).
   */
  accounting(): Readonly<Record<string, number>> {
    return { [`${this.device.name}/gem-objects`]: this.#gem?.live.size ?? 0 };
  }

  /** The GEM objects vgem allocates itself (dumb buffers) and exports. */
  get gem(): GemShmemDevice {
    this.#gem ??= new GemShmemDevice(this.host, this.device, "vgem", true);
    return this.#gem;
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
