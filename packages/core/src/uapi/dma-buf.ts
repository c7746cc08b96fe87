// include/uapi/linux/dma-buf.h: SYNC flags, name length, ioctl codes and struct layouts.

import { _IOW, _IOWR } from "./ioctl.js";

/** SYNC direction: the CPU reads. */
export const DMA_BUF_SYNC_READ = 1 << 0;
/** SYNC direction: the CPU writes. */
export const DMA_BUF_SYNC_WRITE = 2 << 0;
/** SYNC direction: read and write. */
export const DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
/** SYNC phase: begin CPU access (value 0). */
export const DMA_BUF_SYNC_START = 0 << 2;
/** SYNC phase: end CPU access. */
export const DMA_BUF_SYNC_END = 1 << 2;
/** Every bit a SYNC request may carry. */
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;
/** Maximum name length including the terminating NUL. */
export const DMA_BUF_NAME_LEN = 32;
/** ioctl type byte of dma-buf requests ('b'). */
export const DMA_BUF_BASE = 0x62;

/** Size of `struct dma_buf_sync` (u64 flags). */
export const DMA_BUF_SYNC_SIZE = 8;
/** Size of `struct dma_buf_export_sync_file` (u32 flags; s32 fd). */
export const DMA_BUF_EXPORT_SYNC_FILE_SIZE = 8;
/** Size of `struct dma_buf_import_sync_file` (u32 flags; s32 fd). */
export const DMA_BUF_IMPORT_SYNC_FILE_SIZE = 8;

/** Begin or end CPU access: `_IOW('b', 0, struct dma_buf_sync)` = 0x40086200. */
export const DMA_BUF_IOCTL_SYNC = _IOW(DMA_BUF_BASE, 0, DMA_BUF_SYNC_SIZE);
/** Set the buffer's name, 64-bit encoding: `_IOW('b', 1, const char *)` = 0x40086201. */
export const DMA_BUF_SET_NAME = _IOW(DMA_BUF_BASE, 1, 8);
/** Set the name, u32 encoding (32-bit user space) = 0x40046201. */
export const DMA_BUF_SET_NAME_A = _IOW(DMA_BUF_BASE, 1, 4);
/** Set the name, u64 encoding = 0x40086201. */
export const DMA_BUF_SET_NAME_B = _IOW(DMA_BUF_BASE, 1, 8);
/** Export the implicit fences as a sync_file = 0xC0086202. */
export const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = _IOWR(DMA_BUF_BASE, 2, DMA_BUF_EXPORT_SYNC_FILE_SIZE);
/** Import a sync_file's fence as an implicit fence = 0x40086203. */
export const DMA_BUF_IOCTL_IMPORT_SYNC_FILE = _IOW(DMA_BUF_BASE, 3, DMA_BUF_IMPORT_SYNC_FILE_SIZE);

/** Magic number of the dmabuf pseudo filesystem ("DMAB"), as fstatfs reports it. */
export const DMA_BUF_MAGIC = 0x444d4142;

/** `struct dma_buf_sync` as a value. */
export interface DmaBufSyncArg {
  /** DMA_BUF_SYNC_* bits (a u64; bits above 53 are not representable and not needed). */
  flags: bigint;
}

/** Encodes `struct dma_buf_sync` (8 bytes, little-endian). */
export function encodeDmaBufSync(arg: DmaBufSyncArg | number | bigint): Uint8Array {
  const b = new Uint8Array(DMA_BUF_SYNC_SIZE);
  const flags = typeof arg === "object" ? arg.flags : BigInt(arg);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, flags), true);
  return b;
}

/** Decodes `struct dma_buf_sync`. */
export function decodeDmaBufSync(bytes: Uint8Array): DmaBufSyncArg {
  return { flags: view(bytes).getBigUint64(0, true) };
}

/** `struct dma_buf_export_sync_file` / `struct dma_buf_import_sync_file` as a value. */
export interface DmaBufSyncFileArg {
  /** DMA_BUF_SYNC_READ / WRITE bits. */
  flags: number;
  /** The sync_file fd (out for export, in for import). */
  fd: number;
}

/** Encodes the 8-byte export/import sync_file struct. */
export function encodeDmaBufSyncFile(arg: DmaBufSyncFileArg): Uint8Array {
  const b = new Uint8Array(8);
  const v = view(b);
  v.setUint32(0, arg.flags >>> 0, true);
  v.setInt32(4, arg.fd | 0, true);
  return b;
}

/** Decodes the 8-byte export/import sync_file struct. */
export function decodeDmaBufSyncFile(bytes: Uint8Array): DmaBufSyncFileArg {
  const v = view(bytes);
  return { flags: v.getUint32(0, true), fd: v.getInt32(4, true) };
}

/** A DataView over exactly the bytes of `b`. */
export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
