// The system bus between DMA devices and RAM: where a cache model snoops device accesses.

import type { PhysicalMemory } from "../mm/physical-memory.js";
import type { Device } from "./device.js";

/**
 * What a device access targets, for diagnostics: any object with an inode number, a name and
 * an exporter name (a `DmaBuf` is one). The bus never reads it; a coherency checker reports it.
 */
export interface DmaBufferLabel {
  /** The buffer's inode number. */
  readonly ino: number;
  /** The buffer's user-set name, or null. */
  readonly name: string | null;
  /** The exporter's name. */
  readonly expName: string;
}

/**
 * The path from devices to physical memory, after the port translated bus addresses and
 * checked the dma mask. The default bus goes straight to RAM (a fully coherent machine);
 * `@dmabuf/devices` installs one that snoops the CPU caches for coherent devices and checks
 * non-coherent ones. Every physical range handed to the bus lies inside one device access
 * run; `buffer`/`offset` say which buffer (if the caller knows) and where in it the run starts.
 */
export interface DmaBus {
  /** The device reads `length` bytes at `phys` into `dst` at `dstOffset`. */
  read(
    dev: Device,
    phys: number,
    length: number,
    dst: Uint8Array,
    dstOffset: number,
    buffer: DmaBufferLabel | undefined,
    offset: number,
  ): void;
  /** The device writes `src` at `phys`. */
  write(
    dev: Device,
    phys: number,
    src: Uint8Array,
    buffer: DmaBufferLabel | undefined,
    offset: number,
  ): void;
  /** The device writes `length` copies of `value` at `phys`. */
  fill(
    dev: Device,
    phys: number,
    length: number,
    value: number,
    buffer: DmaBufferLabel | undefined,
    offset: number,
  ): void;
  /** The device copies `length` bytes from `srcPhys` to `dstPhys` (a memcpy engine). */
  copy(
    dev: Device,
    dstPhys: number,
    srcPhys: number,
    length: number,
    dstBuffer: DmaBufferLabel | undefined,
    dstOffset: number,
    srcBuffer: DmaBufferLabel | undefined,
    srcOffset: number,
  ): void;
}

/** The default bus: device accesses go straight to RAM, as on a fully coherent machine. */
export class DirectDmaBus implements DmaBus {
  /** @param memory - the RAM devices reach */
  constructor(private readonly memory: PhysicalMemory) {}
  /** {@inheritDoc DmaBus.read} */
  read(_dev: Device, phys: number, length: number, dst: Uint8Array, dstOffset: number): void {
    this.memory.read(phys, length, dst, dstOffset);
  }
  /** {@inheritDoc DmaBus.write} */
  write(_dev: Device, phys: number, src: Uint8Array): void {
    this.memory.write(phys, src);
  }
  /** {@inheritDoc DmaBus.fill} */
  fill(_dev: Device, phys: number, length: number, value: number): void {
    this.memory.fill(phys, length, value);
  }
  /** {@inheritDoc DmaBus.copy} */
  copy(_dev: Device, dstPhys: number, srcPhys: number, length: number): void {
    this.memory.copy(dstPhys, srcPhys, length);
  }
}
