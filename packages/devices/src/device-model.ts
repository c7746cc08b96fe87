// The base of every device model: a Device with its port, and importing dma-bufs (attach + map).

import {
  Device,
  type DeviceHost,
  type DeviceSpec,
  DMA_BIDIRECTIONAL,
  DMA_DIRECTION_NAMES,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  type DmaPort,
  dmaContiguousSize,
  KernelError,
  type PluginProbe,
  type Process,
  type SgTable,
} from "@dmabuf/core";
import * as z from "zod";

/**
 * What every device plugin's configuration may override: the device's name and its DMA
 * properties. Unset fields take the model's defaults.
 */
export const deviceConfigSchema = z.strictObject({
  /** dev_name(): what bufinfo lists under "Attached Devices". */
  name: z.string().min(1, { error: "a device needs a name" }).optional(),
  /** Whether the device snoops the CPU's caches. */
  coherent: z.boolean().optional(),
  /** Whether the device sits behind an IOMMU. */
  iommu: z.boolean().optional(),
  /** Highest bus address the device reaches. */
  dmaMask: z.number().int().nonnegative().optional(),
  /** Largest DMA segment the device takes, in bytes. */
  maxSegmentSize: z.number().int().positive().optional(),
  /** Import as a dynamic importer (see {@link DeviceImportOptions.dynamic}). */
  dynamic: z.boolean().optional(),
});

/** How a device model imports buffers. */
export interface DeviceImportOptions {
  /**
   * Attach with `dma_buf_dynamic_attach` and importer ops instead of `dma_buf_attach`
   * (default false). The importer's `moveNotify` drops the import's mapping (unmaps it, with
   * the reservation lock held as the exporter called it); the next device access re-maps the
   * attachment before it touches memory, so it sees the buffer's new location. The model never
   * pins (`dma_buf_pin`): the core pins the mapping itself when CONFIG_DMABUF_MOVE_NOTIFY is
   * off (`kernel.moveNotify` false), and then the exporter cannot move the buffer.
   */
  readonly dynamic?: boolean | undefined;
}

/** Input accepted as a device plugin's configuration. */
export type DeviceConfigInput = z.input<typeof deviceConfigSchema>;

/** The {@link DeviceSpec} fields a configuration may override. */
const deviceSpecKeys = { name: 1, coherent: 1, iommu: 1, dmaMask: 1, maxSegmentSize: 1 };

/** Merges a model's default spec with the configured overrides (undefined fields ignored). */
export function deviceSpec(defaults: DeviceSpec, config: DeviceConfigInput): DeviceSpec {
  const spec: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(config))
    if (v !== undefined && k in deviceSpecKeys) spec[k] = v;
  return spec as DeviceSpec;
}

/**
 * A dma-buf as one device sees it: the attachment, the DMA-mapped table and its direction.
 * Its read/write/fill methods are immediate device accesses through the device's port (bus
 * addresses of the table's DMA segments, translated, checked, and snooped or checked by the
 * cache model); engines use them from their completion events.
 */
export class ImportedBuffer {
  #released = false;
  /** Whether the teardown (unmap, detach, put) ran. */
  #tornDown = false;
  /** Engine jobs queued on the import and not completed: they hold it. */
  #jobs = 0;
  #sgt: SgTable | null;
  /** The last table mapped (what a late access after release still points at). */
  #last: SgTable;

  /**
   * @param model - the importing device model
   * @param buf - the buffer
   * @param attachment - the device's attachment
   * @param sgt - the mapped table
   * @param dir - the mapping's direction
   * @param ownsReference - whether this import holds a buffer reference to drop on release
   */
  constructor(
    readonly model: DeviceModel,
    readonly buf: DmaBuf,
    readonly attachment: DmaBufAttachment,
    sgt: SgTable,
    readonly dir: DmaDirection,
    readonly ownsReference: boolean,
  ) {
    this.#sgt = sgt;
    this.#last = sgt;
  }

  /**
   * The mapped table. For a dynamic import whose mapping a move dropped, reading it re-maps
   * the attachment first (`dma_buf_map_attachment`, with a contiguous-only device's check).
   * After the teardown it is the last table, no longer mapped (an access through it faults).
   * @throws KernelError the errors of the re-map (the exporter's error; EINVAL when a
   * contiguous-only device gets a scattered mapping)
   */
  get sgt(): SgTable {
    if (this.#tornDown) return this.#last;
    if (!this.#sgt) {
      this.#sgt = this.model.mapImport(this.attachment, this.dir);
      this.#last = this.#sgt;
    }
    return this.#sgt;
  }

  /** Whether the import holds a mapping now (false after a move dropped it, until re-mapped). */
  get mapped(): boolean {
    return this.#sgt !== null;
  }

  /**
   * The importer's `moveNotify` for a dynamic import: unmaps the current mapping, if any; the
   * next access re-maps. Called by the dma-buf core with the reservation lock held.
   * @see {@link @dmabuf/core!index.DmaBufAttachOps.moveNotify}
   */
  moveNotify(): void {
    const sgt = this.#sgt;
    if (!sgt || this.#tornDown) return;
    this.#sgt = null;
    this.model.host.dmaBuf.unmapAttachment(this.attachment, sgt, this.dir);
  }

  /** The importing device. */
  get device(): Device {
    return this.model.device;
  }
  /** The buffer's size in bytes. */
  get size(): number {
    return this.buf.size;
  }
  /** Whether {@link ImportedBuffer.release} ran. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * The device reads `length` bytes at `offset` (DMA from memory).
   * @throws KernelBug DMA_FAULT_* when the mapping does not allow it (see DmaPort)
   */
  read(offset = 0, length = this.size - offset): Uint8Array {
    return this.model.port.readTable(this.sgt, offset, length, undefined, 0, this.buf);
  }

  /** The device writes `bytes` at `offset` (DMA to memory). @throws as {@link ImportedBuffer.read} */
  write(offset: number, bytes: Uint8Array): void {
    this.model.port.writeTable(this.sgt, offset, bytes, this.buf);
  }

  /** The device writes `length` copies of `value` at `offset`. @throws as {@link ImportedBuffer.read} */
  fill(value: number, offset = 0, length = this.size - offset): void {
    this.model.port.fillTable(this.sgt, offset, length, value, this.buf);
  }

  /**
   * Unmaps, detaches, and drops the reference the import took (the importer's teardown).
   * While engine jobs on the import are still queued the teardown waits for the last of them
   * to complete (the jobs hold the import, as a GPU job holds its GEM object), so the device
   * never reaches memory it no longer has mapped; no new job can be queued meanwhile.
   * A second call does nothing.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#jobs === 0) this.#teardown();
  }

  /** An engine job on the import was queued; it holds the import until it completes. @internal */
  hold(): void {
    this.#jobs++;
  }

  /** An engine job on the import completed; a released import's last job ends it. @internal */
  unhold(): void {
    this.#jobs--;
    if (this.#jobs === 0 && this.#released && !this.#tornDown) this.#teardown();
  }

  #teardown(): void {
    const core = this.model.host.dmaBuf;
    if (this.#sgt) core.unmapAttachment(this.attachment, this.#sgt, this.dir);
    this.#sgt = null;
    this.#tornDown = true;
    core.detach(this.buf, this.attachment);
    if (this.ownsReference) core.put(this.buf);
    this.model.forget(this);
  }
}

/**
 * A device model: a {@link Device} registered with the kernel at probe, its {@link DmaPort},
 * and the importer side of dma-buf — attach, map, and for contiguous-only devices the check
 * DRM's DMA helpers make. Subclasses add what the hardware does. Plugin classes are declared
 * with `@device` and configured with {@link deviceConfigSchema} (plus their own fields).
 */
export abstract class DeviceModel implements PluginProbe {
  /** The device. */
  readonly device: Device;
  /** Whether imports attach dynamically (see {@link DeviceImportOptions.dynamic}). */
  readonly dynamic: boolean;
  readonly #imports = new Set<ImportedBuffer>();

  /**
   * @param host - the device host of the kernel the device belongs to
   * @param spec - the device's DMA properties
   * @param options - how the device imports (default: static attachments)
   */
  constructor(
    readonly host: DeviceHost,
    spec: DeviceSpec,
    options: DeviceImportOptions = {},
  ) {
    this.device = new Device(spec);
    this.dynamic = options.dynamic ?? false;
  }

  /** The device's port to memory. */
  get port(): DmaPort {
    return this.host.dma.port(this.device);
  }

  /**
   * Registers the device with the kernel (`device_add`).
   * @throws KernelError EEXIST when a device of that name exists.
   */
  probe(): void {
    this.host.dma.addDevice(this.device);
  }

  /** Buffers imported and not yet released, oldest first. */
  imports(): ImportedBuffer[] {
    return [...this.#imports];
  }

  /**
   * Imports a buffer for DMA (`dma_buf_attach` + `dma_buf_map_attachment`). A contiguous-only
   * device then needs the mapping to be one contiguous bus range covering the buffer
   * (`drm_gem_dma_prime_import_sg_table`'s rule): a scattered buffer without an IOMMU is
   * refused with EINVAL, and nothing stays attached. A {@link DeviceModel.dynamic} model
   * attaches with `dma_buf_dynamic_attach` and importer ops whose `moveNotify` is
   * {@link ImportedBuffer.moveNotify}.
   * @param takeReference - take a buffer reference (`get_dma_buf`) held until release
   * @throws KernelError EINVAL (not contiguous; bad direction), the exporter's attach or map
   * error (e.g. EIO above the dma mask).
   */
  import(buf: DmaBuf, dir: DmaDirection, takeReference = false): ImportedBuffer {
    const core = this.host.dmaBuf;
    let imported: ImportedBuffer | undefined;
    const attachment = this.dynamic
      ? core.dynamicAttach(buf, this.device, { moveNotify: () => imported?.moveNotify() })
      : core.attach(buf, this.device);
    let sgt: SgTable;
    try {
      sgt = this.mapImport(attachment, dir);
    } catch (e) {
      core.detach(buf, attachment);
      throw e;
    }
    if (takeReference) core.getDmaBuf(buf);
    imported = new ImportedBuffer(this, buf, attachment, sgt, dir, takeReference);
    this.#imports.add(imported);
    return imported;
  }

  /**
   * Maps an attachment of this device (`dma_buf_map_attachment`) and, for a contiguous-only
   * device, checks that the mapping is one contiguous bus range covering the buffer; a
   * mapping that fails the check is unmapped again. Used at import and when a dynamic import
   * re-maps after a move. @internal
   * @throws KernelError EINVAL (not contiguous; detached attachment), the exporter's map error.
   */
  mapImport(attachment: DmaBufAttachment, dir: DmaDirection): SgTable {
    const core = this.host.dmaBuf;
    const buf = attachment.dmabuf;
    const sgt = core.mapAttachment(attachment, dir);
    if (this.device.contiguousOnly && dmaContiguousSize(sgt) < buf.size) {
      core.unmapAttachment(attachment, sgt, dir);
      throw new KernelError(
        "EINVAL",
        "drm_gem_dma_prime_import_sg_table",
        `${this.device.name} needs a contiguous buffer: ${dmaContiguousSize(sgt)} of ${buf.size} bytes are contiguous`,
      );
    }
    return sgt;
  }

  /**
   * Imports the dma-buf behind `fd` of `proc` (`dma_buf_get` + {@link DeviceModel.import});
   * the import holds the reference until it is released.
   * @throws KernelError EBADF, EINVAL (not a dma-buf), and the errors of import.
   */
  importFd(proc: Process, fd: number, dir: DmaDirection): ImportedBuffer {
    const core = this.host.dmaBuf;
    const buf = core.get(proc, fd);
    try {
      const imported = this.import(buf, dir, true);
      core.put(buf);
      return imported;
    } catch (e) {
      core.put(buf);
      throw e;
    }
  }

  /** Called by {@link ImportedBuffer.release}. @internal */
  forget(imported: ImportedBuffer): void {
    this.#imports.delete(imported);
  }

  /**
   * Checks that `imported` belongs to this device, allows the access, and holds
   * [offset, offset+length).
   * @throws TypeError when it does not belong or the direction forbids the access; RangeError
   * for a range outside the buffer (programming errors of the caller)
   */
  protected checkImport(
    imported: ImportedBuffer,
    access: "read" | "write",
    offset = 0,
    length = 0,
  ): void {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > imported.size
    ) {
      throw new RangeError(`${this.device.name}: range outside the buffer`);
    }
    if (imported.model !== this || imported.released) {
      throw new TypeError(`${this.device.name}: buffer not imported by this device`);
    }
    const ok =
      imported.dir === DMA_BIDIRECTIONAL ||
      (access === "read" ? imported.dir === DMA_TO_DEVICE : imported.dir === DMA_FROM_DEVICE);
    if (!ok) {
      throw new TypeError(
        `${this.device.name}: cannot ${access} a buffer mapped ${DMA_DIRECTION_NAMES[imported.dir]}`,
      );
    }
  }
}
