// The suites' test devices: attach, map, and read or write a buffer the way DMA does.

import {
  Device,
  type DeviceSpec,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type DmaBufAttachment,
  type DmaDirection,
  type Kernel,
  type SgTable,
} from "@dmabuf/core";

/** A device for the suites: coherent, no IOMMU, 64-bit dma mask unless `spec` says otherwise. */
export function testDevice(name: string, spec: Omit<DeviceSpec, "name"> = {}): Device {
  return new Device({ name, ...spec });
}

/** A device's live mapping of a buffer, made by {@link mapForDevice}. */
export interface DeviceMapping {
  /** The attachment. */
  readonly attachment: DmaBufAttachment;
  /** The mapped table. */
  readonly sgt: SgTable;
  /** The mapping's direction. */
  readonly dir: DmaDirection;
  /**
   * The device reads `length` bytes at byte `offset` of the buffer, through its port (the
   * table's DMA segments, the dma mask, the IOMMU, a cache model's snooping), into the start
   * of `into` when given (else a new array).
   */
  read(offset?: number, length?: number, into?: Uint8Array): Uint8Array;
  /** The device writes `bytes` at byte `offset` of the buffer, through its port. */
  write(offset: number, bytes: Uint8Array): void;
  /** Unmaps (once); the attachment stays. */
  unmap(): void;
  /** Unmaps if still mapped, then detaches. */
  detach(): void;
}

/** The first `length` bytes of `into`, or a new array of `length` bytes. */
function target(length: number, into?: Uint8Array): Uint8Array {
  if (into === undefined) return new Uint8Array(length);
  if (into.length < length) throw new RangeError(`${length} bytes into ${into.length}`);
  return into.subarray(0, length);
}

/** Attaches `dev` to `buf` and maps it (`dma_buf_attach` + `dma_buf_map_attachment`). */
export function mapForDevice(
  kernel: Kernel,
  buf: DmaBuf,
  dev: Device,
  dir: DmaDirection = DMA_BIDIRECTIONAL,
): DeviceMapping {
  const attachment = kernel.dmaBuf.attach(buf, dev);
  let sgt: SgTable;
  try {
    sgt = kernel.dmaBuf.mapAttachment(attachment, dir);
  } catch (e) {
    kernel.dmaBuf.detach(buf, attachment);
    throw e;
  }
  let mapped = true;
  const unmap = () => {
    if (!mapped) return;
    mapped = false;
    kernel.dmaBuf.unmapAttachment(attachment, sgt, dir);
  };
  const port = kernel.dma.port(dev);
  return {
    attachment,
    sgt,
    dir,
    read: (offset = 0, length = buf.size - offset, into?: Uint8Array) =>
      port.readTable(sgt, offset, length, target(length, into), 0, buf),
    write: (offset, bytes) => port.writeTable(sgt, offset, bytes, buf),
    unmap,
    detach() {
      unmap();
      kernel.dmaBuf.detach(buf, attachment);
    },
  };
}

/**
 * Reads the whole buffer through a short-lived attachment of a fresh device, into the start
 * of `into` when given (else a new array).
 */
export function deviceRead(
  kernel: Kernel,
  buf: DmaBuf,
  name = "conformance-reader",
  into?: Uint8Array,
): Uint8Array {
  const m = mapForDevice(kernel, buf, testDevice(name));
  const bytes = m.read(0, buf.size, into);
  m.detach();
  return bytes;
}

/** Writes `bytes` at `offset` through a short-lived attachment of a fresh device. */
export function deviceWrite(
  kernel: Kernel,
  buf: DmaBuf,
  offset: number,
  bytes: Uint8Array,
  name = "conformance-writer",
): void {
  const m = mapForDevice(kernel, buf, testDevice(name));
  m.write(offset, bytes);
  m.detach();
}

/** `(7 * m) & 0xff` for m in [0, 512): any 256 bytes of a pattern page, from a start in [0, 256). */
const STEPS_OF_SEVEN = Uint8Array.from({ length: 512 }, (_, m) => (7 * m) & 0xff);

/** The inverse of 7 modulo 256 (7 × 183 = 1281 = 5 × 256 + 1). */
const INVERSE_OF_SEVEN = 183;

/**
 * A recognisable pattern of `size` bytes: every page starts with its page index (u32, little
 * endian) and `seed`, so a page out of place or a stale page is told apart from the right one.
 * Past that header, byte `j` of page `p` is `(p * 131 + j * 7 + seed * 29 + 1) & 0xff`.
 * Written into the start of `into` when given (the view written is returned), else into a new
 * array.
 */
export function pagePattern(
  size: number,
  pageSize: number,
  seed: number,
  into?: Uint8Array,
): Uint8Array {
  const out = target(size, into);
  for (let p = 0; p * pageSize < size; p++) {
    const base = p * pageSize;
    const end = Math.min(size, base + pageSize);
    // c + 7j = 7 (j + c / 7) (mod 256): the page runs through the table from c / 7, and
    // repeats every 256 bytes.
    const from = (((p * 131 + seed * 29 + 1) & 0xff) * INVERSE_OF_SEVEN) & 0xff;
    out.set(STEPS_OF_SEVEN.subarray(from, from + Math.min(256, end - base)), base);
    for (let filled = 256; filled < end - base; filled *= 2) {
      out.copyWithin(base + filled, base, base + Math.min(filled, end - base - filled));
    }
    const head = [p & 0xff, (p >>> 8) & 0xff, (p >>> 16) & 0xff, (p >>> 24) & 0xff, seed & 0xff];
    for (let j = 0; j < head.length && base + j < end; j++) out[base + j] = head[j] as number;
  }
  return out;
}

/** A 32-bit view of `a` when it is 4-byte aligned, else undefined. */
function words(a: Uint8Array): Uint32Array | undefined {
  return a.byteOffset % 4 === 0
    ? new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2)
    : undefined;
}

/** Index of the first byte where `a` and `b` differ, or -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  const wa = words(a);
  const wb = words(b);
  if (wa && wb) {
    const w = n >>> 2;
    while (i < w && wa[i] === wb[i]) i++;
    i <<= 2;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Index of the first non-zero byte, or -1. */
export function firstNonZero(a: Uint8Array): number {
  let i = 0;
  const wa = words(a);
  if (wa) {
    while (i < wa.length && wa[i] === 0) i++;
    i <<= 2;
  }
  for (; i < a.length; i++) if (a[i] !== 0) return i;
  return -1;
}
