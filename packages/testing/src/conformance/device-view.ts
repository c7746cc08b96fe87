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
   * table's DMA segments, the dma mask, the IOMMU, a cache model's snooping).
   */
  read(offset?: number, length?: number): Uint8Array;
  /** The device writes `bytes` at byte `offset` of the buffer, through its port. */
  write(offset: number, bytes: Uint8Array): void;
  /** Unmaps (once); the attachment stays. */
  unmap(): void;
  /** Unmaps if still mapped, then detaches. */
  detach(): void;
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
    read: (offset = 0, length = buf.size - offset) =>
      port.readTable(sgt, offset, length, new Uint8Array(length), 0, buf),
    write: (offset, bytes) => port.writeTable(sgt, offset, bytes, buf),
    unmap,
    detach() {
      unmap();
      kernel.dmaBuf.detach(buf, attachment);
    },
  };
}

/** Reads the whole buffer through a short-lived attachment of a fresh device. */
export function deviceRead(kernel: Kernel, buf: DmaBuf, name = "conformance-reader"): Uint8Array {
  const m = mapForDevice(kernel, buf, testDevice(name));
  const bytes = m.read();
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

/**
 * A recognisable pattern of `size` bytes: every page starts with its page index (u32, little
 * endian) and `seed`, so a page out of place or a stale page is told apart from the right one.
 */
export function pagePattern(size: number, pageSize: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let p = 0; p * pageSize < size; p++) {
    const base = p * pageSize;
    const end = Math.min(size, base + pageSize);
    for (let i = base; i < end; i++) out[i] = (p * 131 + (i - base) * 7 + seed * 29 + 1) & 0xff;
    const head = [p & 0xff, (p >>> 8) & 0xff, (p >>> 16) & 0xff, (p >>> 24) & 0xff, seed & 0xff];
    for (let j = 0; j < head.length && base + j < end; j++) out[base + j] = head[j] as number;
  }
  return out;
}

/** Index of the first byte where `a` and `b` differ, or -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Index of the first non-zero byte, or -1. */
export function firstNonZero(a: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return i;
  return -1;
}
