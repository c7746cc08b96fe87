// include/uapi/linux/sync_file.h: the sync_file ioctls and their struct layouts (x86-64).

import { view } from "./dma-buf.js";
import { _IOW, _IOWR } from "./ioctl.js";

/** ioctl type byte of sync_file requests ('>'). */
export const SYNC_IOC_MAGIC = 0x3e;

/** Size of `struct sync_merge_data`: char name[32]; s32 fd2; s32 fence; u32 flags; u32 pad. */
export const SYNC_MERGE_DATA_SIZE = 48;
/**
 * Size of `struct sync_fence_info`: char obj_name[32]; char driver_name[32]; s32 status;
 * u32 flags; u64 timestamp_ns.
 */
export const SYNC_FENCE_INFO_SIZE = 80;
/**
 * Size of `struct sync_file_info`: char name[32]; s32 status; u32 flags; u32 num_fences;
 * u32 pad; u64 sync_fence_info (a user pointer).
 */
export const SYNC_FILE_INFO_SIZE = 56;
/** Size of `struct sync_set_deadline`: u64 deadline_ns; u64 pad. */
export const SYNC_SET_DEADLINE_SIZE = 16;
/** Length of the name fields, including the terminating NUL. */
export const SYNC_NAME_LEN = 32;

/** Merge two sync_files into a new one = 0xC0303E03. */
export const SYNC_IOC_MERGE = _IOWR(SYNC_IOC_MAGIC, 3, SYNC_MERGE_DATA_SIZE);
/** Describe a sync_file and its fences = 0xC0383E04. */
export const SYNC_IOC_FILE_INFO = _IOWR(SYNC_IOC_MAGIC, 4, SYNC_FILE_INFO_SIZE);
/** Give the fences a deadline hint (Linux 6.3+) = 0x40103E05. */
export const SYNC_IOC_SET_DEADLINE = _IOW(SYNC_IOC_MAGIC, 5, SYNC_SET_DEADLINE_SIZE);

/**
 * Writes `text` as a NUL-terminated C string into `size` bytes at `offset`, cut to `size - 1`
 * bytes (what strscpy and snprintf do); the rest is zero-filled.
 */
export function writeCString(b: Uint8Array, offset: number, size: number, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, size - 1);
  b.fill(0, offset, offset + size);
  b.set(bytes, offset);
}

/** Reads a C string of at most `size` bytes at `offset` (up to the first NUL). */
export function readCString(b: Uint8Array, offset: number, size: number): string {
  const field = b.subarray(offset, offset + size);
  const nul = field.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? field : field.subarray(0, nul));
}

/** `struct sync_merge_data` as a value. */
export interface SyncMergeData {
  /** Name of the new sync_file (in; at most 31 bytes are kept). */
  name: string;
  /** The sync_file to merge with the one the ioctl is issued on (in). */
  fd2: number;
  /** The new sync_file's fd (out). */
  fence: number;
  /** Must be 0. */
  flags: number;
  /** Must be 0. */
  pad: number;
}

/**
 * Encodes `struct sync_merge_data` (48 bytes). The name bytes are copied as given, up to 32
 * bytes without a terminator; the kernel keeps 31.
 */
export function encodeSyncMergeData(arg: Partial<SyncMergeData> & { fd2: number }): Uint8Array {
  const b = new Uint8Array(SYNC_MERGE_DATA_SIZE);
  b.set(new TextEncoder().encode(arg.name ?? "").subarray(0, SYNC_NAME_LEN), 0);
  const v = view(b);
  v.setInt32(32, arg.fd2 | 0, true);
  v.setInt32(36, (arg.fence ?? 0) | 0, true);
  v.setUint32(40, (arg.flags ?? 0) >>> 0, true);
  v.setUint32(44, (arg.pad ?? 0) >>> 0, true);
  return b;
}

/** Decodes `struct sync_merge_data`. */
export function decodeSyncMergeData(bytes: Uint8Array): SyncMergeData {
  const v = view(bytes);
  return {
    name: readCString(bytes, 0, SYNC_NAME_LEN),
    fd2: v.getInt32(32, true),
    fence: v.getInt32(36, true),
    flags: v.getUint32(40, true),
    pad: v.getUint32(44, true),
  };
}

/** `struct sync_fence_info` as a value: one fence of a sync_file. */
export interface SyncFenceInfo {
  /** The fence's timeline name. */
  objName: string;
  /** The fence's driver name. */
  driverName: string;
  /** 0 pending, 1 signalled, a negative errno when signalled with an error. */
  status: number;
  /** Always 0. */
  flags: number;
  /** When the fence signalled (CLOCK_MONOTONIC ns, the virtual clock); 0 while pending. */
  timestampNs: bigint;
}

/** Encodes one `struct sync_fence_info` (80 bytes) at `offset` of `b`. */
export function encodeSyncFenceInfo(b: Uint8Array, offset: number, info: SyncFenceInfo): void {
  writeCString(b, offset, SYNC_NAME_LEN, info.objName);
  writeCString(b, offset + 32, SYNC_NAME_LEN, info.driverName);
  const v = view(b);
  v.setInt32(offset + 64, info.status | 0, true);
  v.setUint32(offset + 68, info.flags >>> 0, true);
  v.setBigUint64(offset + 72, BigInt.asUintN(64, info.timestampNs), true);
}

/** Decodes one `struct sync_fence_info` at `offset` of `b`. */
export function decodeSyncFenceInfo(b: Uint8Array, offset = 0): SyncFenceInfo {
  const v = view(b);
  return {
    objName: readCString(b, offset, SYNC_NAME_LEN),
    driverName: readCString(b, offset + 32, SYNC_NAME_LEN),
    status: v.getInt32(offset + 64, true),
    flags: v.getUint32(offset + 68, true),
    timestampNs: v.getBigUint64(offset + 72, true),
  };
}

/**
 * `struct sync_file_info` as a value, with the `sync_fence_info` array it points to.
 *
 * @remarks The model has no plain user memory, so a pointer inside an ioctl struct is the
 * byte offset, within the same argument buffer, of the data it points to (0 is NULL).
 * {@link encodeSyncFileInfo} places the array right after the 56-byte struct.
 */
export interface SyncFileInfo {
  /** The sync_file's name (out): the merge name, or `<driver>-<timeline><context>-<seqno>`. */
  name: string;
  /** Overall status (out): 0 pending, 1 signalled, negative errno for an error. */
  status: number;
  /** Must be 0 (in). */
  flags: number;
  /** In: room in the array (0 = only count); out: the number of fences. */
  numFences: number;
  /** Must be 0 (in). */
  pad: number;
  /** The "pointer" to the array: a byte offset into the argument buffer, 0 for NULL. */
  syncFenceInfo: bigint;
  /** The fences written to the array (decoded from the argument buffer). */
  fences: SyncFenceInfo[];
}

/**
 * Encodes a SYNC_IOC_FILE_INFO argument: the 56-byte struct followed by room for `numFences`
 * `struct sync_fence_info` entries, with the pointer set to that room (or 0 when
 * `numFences` is 0, unless `syncFenceInfo` is given).
 */
export function encodeSyncFileInfo(
  arg: { numFences?: number; flags?: number; pad?: number; syncFenceInfo?: bigint } = {},
): Uint8Array {
  const n = arg.numFences ?? 0;
  const b = new Uint8Array(SYNC_FILE_INFO_SIZE + n * SYNC_FENCE_INFO_SIZE);
  const v = view(b);
  v.setUint32(36, (arg.flags ?? 0) >>> 0, true);
  v.setUint32(40, n >>> 0, true);
  v.setUint32(44, (arg.pad ?? 0) >>> 0, true);
  const ptr = arg.syncFenceInfo ?? (n > 0 ? BigInt(SYNC_FILE_INFO_SIZE) : 0n);
  v.setBigUint64(48, ptr, true);
  return b;
}

/**
 * Decodes a SYNC_IOC_FILE_INFO argument: the struct and the `numFences` entries its pointer
 * designates (as many as the buffer holds).
 */
export function decodeSyncFileInfo(bytes: Uint8Array): SyncFileInfo {
  const v = view(bytes);
  const numFences = v.getUint32(40, true);
  const syncFenceInfo = v.getBigUint64(48, true);
  const fences: SyncFenceInfo[] = [];
  if (syncFenceInfo !== 0n) {
    const base = Number(syncFenceInfo);
    for (let i = 0; i < numFences; i++) {
      const at = base + i * SYNC_FENCE_INFO_SIZE;
      if (at + SYNC_FENCE_INFO_SIZE > bytes.length) break;
      fences.push(decodeSyncFenceInfo(bytes, at));
    }
  }
  return {
    name: readCString(bytes, 0, SYNC_NAME_LEN),
    status: v.getInt32(32, true),
    flags: v.getUint32(36, true),
    numFences,
    pad: v.getUint32(44, true),
    syncFenceInfo,
    fences,
  };
}

/** `struct sync_set_deadline` as a value. */
export interface SyncSetDeadline {
  /** The deadline (CLOCK_MONOTONIC ns, i.e. the virtual clock). */
  deadlineNs: bigint;
  /** Must be 0. */
  pad: bigint;
}

/** Encodes `struct sync_set_deadline` (16 bytes). */
export function encodeSyncSetDeadline(arg: { deadlineNs: bigint; pad?: bigint }): Uint8Array {
  const b = new Uint8Array(SYNC_SET_DEADLINE_SIZE);
  const v = view(b);
  v.setBigUint64(0, BigInt.asUintN(64, arg.deadlineNs), true);
  v.setBigUint64(8, BigInt.asUintN(64, arg.pad ?? 0n), true);
  return b;
}

/** Decodes `struct sync_set_deadline`. */
export function decodeSyncSetDeadline(bytes: Uint8Array): SyncSetDeadline {
  const v = view(bytes);
  return { deadlineNs: v.getBigUint64(0, true), pad: v.getBigUint64(8, true) };
}
