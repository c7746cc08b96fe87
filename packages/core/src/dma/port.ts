// A device's port to memory: bus addresses → dma-mask check → IOMMU/identity → the bus → RAM.

import { KernelBug } from "../errors/kernel-bug.js";
import type { SgTable } from "../mm/sg-table.js";
import type { DmaBufferLabel } from "./bus.js";
import type { Device } from "./device.js";
import type { DmaMappingApi } from "./mapping.js";

/** A run of a table-level access: bus range plus where it lies in the access and the buffer. */
type Piece = [bus: number, length: number, at: number];

/**
 * How one device reaches memory. A device only knows bus addresses: either raw ones
 * ({@link DmaPort.read}, {@link DmaPort.write}, …) or byte offsets into a table it mapped
 * ({@link DmaPort.readTable}, …), which walk the table's DMA segments. Every access is checked
 * against the dma mask, translated through the device's live mappings (IOMMU page table or
 * identity), split into physically contiguous runs, and carried out by the kernel's
 * {@link DmaBus}, where a cache model can snoop or check it. Cost grows with runs, not bytes.
 *
 * `buffer` labels say which buffer an access targets (for coherency reports); with table
 * accesses the offset in the table is taken as the offset in the buffer, which holds for
 * exporters whose tables start at the buffer's first byte (every heap).
 */
export class DmaPort {
  /**
   * @param dev - the device
   * @param api - the kernel's DMA mapping API (translation and bus)
   */
  constructor(
    readonly dev: Device,
    private readonly api: DmaMappingApi,
  ) {}

  /**
   * The device reads `length` bytes at bus address `bus`.
   * @returns `dst` (or a new array) holding the bytes at `dstOffset`
   * @throws KernelBug DMA_FAULT_BEYOND_MASK, DMA_FAULT_DIRECTION, DMA_FAULT_UNMAPPED (see
   * {@link DmaMappingApi.resolve})
   */
  read(
    bus: number,
    length: number,
    dst: Uint8Array = new Uint8Array(length),
    dstOffset = 0,
    buffer?: DmaBufferLabel,
    bufferOffset = 0,
  ): Uint8Array {
    const runs = this.api.resolve(this.dev, bus, length, false);
    const b = this.api.bus;
    let at = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const n = runs[i + 1] as number;
      b.read(this.dev, runs[i] as number, n, dst, dstOffset + at, buffer, bufferOffset + at);
      at += n;
    }
    return dst;
  }

  /** The device writes `src` at bus address `bus`. @throws as {@link DmaPort.read} */
  write(bus: number, src: Uint8Array, buffer?: DmaBufferLabel, bufferOffset = 0): void {
    const runs = this.api.resolve(this.dev, bus, src.length, true);
    const b = this.api.bus;
    let at = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const n = runs[i + 1] as number;
      b.write(this.dev, runs[i] as number, src.subarray(at, at + n), buffer, bufferOffset + at);
      at += n;
    }
  }

  /** The device writes `length` copies of `value` at `bus`. @throws as {@link DmaPort.read} */
  fill(
    bus: number,
    length: number,
    value: number,
    buffer?: DmaBufferLabel,
    bufferOffset = 0,
  ): void {
    const runs = this.api.resolve(this.dev, bus, length, true);
    const b = this.api.bus;
    let at = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const n = runs[i + 1] as number;
      b.fill(this.dev, runs[i] as number, n, value, buffer, bufferOffset + at);
      at += n;
    }
  }

  /** The device copies `length` bytes from bus `srcBus` to bus `dstBus`. */
  copy(
    dstBus: number,
    srcBus: number,
    length: number,
    dstBuffer?: DmaBufferLabel,
    dstOffset = 0,
    srcBuffer?: DmaBufferLabel,
    srcOffset = 0,
  ): void {
    const d = this.#runs([[dstBus, length, 0]], true);
    const s = this.#runs([[srcBus, length, 0]], false);
    this.#copyRuns(d, s, dstBuffer, dstOffset, srcBuffer, srcOffset);
  }

  /**
   * The device reads `length` bytes at byte `offset` of a table it mapped.
   * @throws RangeError when the range leaves the mapped segments; KernelBug DMA_FAULT_UNMAPPED
   * when the table is not mapped (any more) for this device.
   */
  readTable(
    sgt: SgTable,
    offset: number,
    length: number,
    dst: Uint8Array = new Uint8Array(length),
    dstOffset = 0,
    buffer?: DmaBufferLabel,
  ): Uint8Array {
    for (const [bus, n, at] of this.#pieces(sgt, offset, length)) {
      this.read(bus, n, dst, dstOffset + at, buffer, offset + at);
    }
    return dst;
  }

  /** The device writes `src` at byte `offset` of a mapped table. @throws as {@link DmaPort.readTable} */
  writeTable(sgt: SgTable, offset: number, src: Uint8Array, buffer?: DmaBufferLabel): void {
    for (const [bus, n, at] of this.#pieces(sgt, offset, src.length)) {
      this.write(bus, src.subarray(at, at + n), buffer, offset + at);
    }
  }

  /** The device fills `length` bytes at `offset` of a mapped table. @throws as {@link DmaPort.readTable} */
  fillTable(
    sgt: SgTable,
    offset: number,
    length: number,
    value: number,
    buffer?: DmaBufferLabel,
  ): void {
    for (const [bus, n, at] of this.#pieces(sgt, offset, length)) {
      this.fill(bus, n, value, buffer, offset + at);
    }
  }

  /**
   * The device copies `length` bytes from `srcOffset` of `src` to `dstOffset` of `dst` (both
   * tables mapped for this device), run by run. @throws as {@link DmaPort.readTable}
   */
  copyTable(
    dst: SgTable,
    dstOffset: number,
    src: SgTable,
    srcOffset: number,
    length: number,
    dstBuffer?: DmaBufferLabel,
    srcBuffer?: DmaBufferLabel,
  ): void {
    const d = this.#runs(this.#pieces(dst, dstOffset, length), true);
    const s = this.#runs(this.#pieces(src, srcOffset, length), false);
    this.#copyRuns(d, s, dstBuffer, dstOffset, srcBuffer, srcOffset);
  }

  /** Translates pieces into physical runs, as (phys, length) pairs, before anything moves. */
  #runs(pieces: readonly Piece[], write: boolean): number[] {
    const out: number[] = [];
    for (const [bus, n] of pieces) {
      const r = this.api.resolve(this.dev, bus, n, write);
      for (let i = 0; i < r.length; i += 2) {
        const phys = r[i] as number;
        const len = r[i + 1] as number;
        const last = out.length - 2;
        // Physically adjacent runs (neighbouring chunks) move in one go.
        if (last >= 0 && (out[last] as number) + (out[last + 1] as number) === phys) {
          out[last + 1] = (out[last + 1] as number) + len;
        } else {
          out.push(phys, len);
        }
      }
    }
    return out;
  }

  #copyRuns(
    d: number[],
    s: number[],
    dstBuffer: DmaBufferLabel | undefined,
    dstOffset: number,
    srcBuffer: DmaBufferLabel | undefined,
    srcOffset: number,
  ): void {
    const b = this.api.bus;
    let di = 0;
    let si = 0;
    let dUsed = 0;
    let sUsed = 0;
    let at = 0;
    while (di < d.length && si < s.length) {
      const dLeft = (d[di + 1] as number) - dUsed;
      const sLeft = (s[si + 1] as number) - sUsed;
      const n = Math.min(dLeft, sLeft);
      b.copy(
        this.dev,
        (d[di] as number) + dUsed,
        (s[si] as number) + sUsed,
        n,
        dstBuffer,
        dstOffset + at,
        srcBuffer,
        srcOffset + at,
      );
      at += n;
      dUsed += n;
      sUsed += n;
      if (dUsed === d[di + 1]) {
        di += 2;
        dUsed = 0;
      }
      if (sUsed === s[si + 1]) {
        si += 2;
        sUsed = 0;
      }
    }
  }

  /** Splits [offset, offset+length) of a mapped table into bus ranges of its DMA segments. */
  #pieces(sgt: SgTable, offset: number, length: number): Piece[] {
    const n = sgt.nents;
    if (n === 0) {
      throw new KernelBug(
        "DMA_FAULT_UNMAPPED",
        `${this.dev.name}: access through an unmapped table`,
      );
    }
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0
    ) {
      throw new RangeError("offset and length must be non-negative integers");
    }
    const addr = sgt.dmaAddress;
    const len = sgt.dmaLength;
    const out: Piece[] = [];
    let segStart = 0;
    let i = 0;
    while (i < n && segStart + (len[i] as number) <= offset) {
      segStart += len[i] as number;
      i++;
    }
    let at = 0;
    while (at < length) {
      if (i >= n) throw new RangeError("access past the end of the mapped table");
      const segLen = len[i] as number;
      const within = offset + at - segStart;
      const k = Math.min(segLen - within, length - at);
      out.push([(addr[i] as number) + within, k, at]);
      at += k;
      segStart += segLen;
      i++;
    }
    return out;
  }
}
