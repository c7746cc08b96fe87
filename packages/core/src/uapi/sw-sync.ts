// drivers/dma-buf/sw_sync.c's private UAPI: the timeline ioctls and their structs (x86-64).

import { view } from "./dma-buf.js";
import { _IOW, _IOWR } from "./ioctl.js";
import { readCString } from "./sync-file.js";

/** ioctl type byte of sw_sync requests ('W'). */
export const SW_SYNC_IOC_MAGIC = 0x57;

/**
 * Size of `struct sw_sync_create_fence_data`: u32 value; char name[32] (ignored by the
 * kernel); s32 fence (out).
 */
export const SW_SYNC_CREATE_FENCE_DATA_SIZE = 40;
/** Size of the SW_SYNC_IOC_INC argument (a u32 increment). */
export const SW_SYNC_INC_SIZE = 4;
/**
 * Size of `struct sw_sync_get_deadline`: u64 deadline_ns (in 0, out); u32 pad; s32 fence_fd.
 */
export const SW_SYNC_GET_DEADLINE_SIZE = 16;

/** Create a fence at a timeline value; the new sync_file fd is in `fence` = 0xC0285700. */
export const SW_SYNC_IOC_CREATE_FENCE = _IOWR(SW_SYNC_IOC_MAGIC, 0, SW_SYNC_CREATE_FENCE_DATA_SIZE);
/** Advance the timeline, signalling the fences it passes = 0x40045701. */
export const SW_SYNC_IOC_INC = _IOW(SW_SYNC_IOC_MAGIC, 1, SW_SYNC_INC_SIZE);
/** Read the earliest deadline set on a sw_sync fence (Linux 6.3+) = 0xC0105702. */
export const SW_SYNC_GET_DEADLINE = _IOWR(SW_SYNC_IOC_MAGIC, 2, SW_SYNC_GET_DEADLINE_SIZE);

/** `struct sw_sync_create_fence_data` as a value. */
export interface SwSyncCreateFenceData {
  /** Timeline value at which the new fence signals (u32; in). */
  value: number;
  /** A name; the kernel ignores it. */
  name: string;
  /** The new sync_file fd (out). */
  fence: number;
}

/** Encodes `struct sw_sync_create_fence_data` (40 bytes). */
export function encodeSwSyncCreateFence(
  arg: Partial<SwSyncCreateFenceData> & { value: number },
): Uint8Array {
  const b = new Uint8Array(SW_SYNC_CREATE_FENCE_DATA_SIZE);
  const v = view(b);
  v.setUint32(0, arg.value >>> 0, true);
  b.set(new TextEncoder().encode(arg.name ?? "").subarray(0, 32), 4);
  v.setInt32(36, (arg.fence ?? 0) | 0, true);
  return b;
}

/** Decodes `struct sw_sync_create_fence_data`. */
export function decodeSwSyncCreateFence(bytes: Uint8Array): SwSyncCreateFenceData {
  const v = view(bytes);
  return {
    value: v.getUint32(0, true),
    name: readCString(bytes, 4, 32),
    fence: v.getInt32(36, true),
  };
}

/** Encodes the SW_SYNC_IOC_INC argument: a u32 increment. */
export function encodeSwSyncInc(increment: number): Uint8Array {
  const b = new Uint8Array(SW_SYNC_INC_SIZE);
  view(b).setUint32(0, increment >>> 0, true);
  return b;
}

/** `struct sw_sync_get_deadline` as a value. */
export interface SwSyncGetDeadline {
  /** Must be 0 on input; out: the earliest deadline hint (virtual-clock ns). */
  deadlineNs: bigint;
  /** Must be 0. */
  pad: number;
  /** A sync_file fd whose fence is a sw_sync fence. */
  fenceFd: number;
}

/** Encodes `struct sw_sync_get_deadline` (16 bytes). */
export function encodeSwSyncGetDeadline(
  arg: Partial<SwSyncGetDeadline> & { fenceFd: number },
): Uint8Array {
  const b = new Uint8Array(SW_SYNC_GET_DEADLINE_SIZE);
  const v = view(b);
  v.setBigUint64(0, BigInt.asUintN(64, arg.deadlineNs ?? 0n), true);
  v.setUint32(8, (arg.pad ?? 0) >>> 0, true);
  v.setInt32(12, arg.fenceFd | 0, true);
  return b;
}

/** Decodes `struct sw_sync_get_deadline`. */
export function decodeSwSyncGetDeadline(bytes: Uint8Array): SwSyncGetDeadline {
  const v = view(bytes);
  return {
    deadlineNs: v.getBigUint64(0, true),
    pad: v.getUint32(8, true),
    fenceFd: v.getInt32(12, true),
  };
}
