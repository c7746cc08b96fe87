// ioctls whose argument holds user pointers: rewritten around the call through a bounce buffer.

import { SYNC_FENCE_INFO_SIZE, SYNC_FILE_INFO_SIZE, SYNC_IOC_FILE_INFO } from "@dmabuf/core/uapi";

/**
 * Runs one ioctl whose argument struct carries a pointer into the program's memory. The model
 * takes such a pointer as a byte offset into the argument it was given, so the struct and what
 * it points at are copied into one bounce buffer, the pointer rewritten, and both copied back.
 */
export type Marshal = (
  mem: Uint8Array,
  argPtr: number,
  call: (arg: Uint8Array) => number,
) => number;

/** `SYNC_IOC_FILE_INFO`: `sync_fence_info` (u64 at offset 48) points at `num_fences` entries. */
const syncFileInfo: Marshal = (mem, argPtr, call) => {
  const v = new DataView(mem.buffer, mem.byteOffset);
  const count = v.getUint32(argPtr + 40, true);
  const ptr = Number(v.getBigUint64(argPtr + 48, true));
  const room = ptr === 0 ? 0 : count * SYNC_FENCE_INFO_SIZE;
  const bounce = new Uint8Array(SYNC_FILE_INFO_SIZE + room);
  bounce.set(mem.subarray(argPtr, argPtr + SYNC_FILE_INFO_SIZE));
  const bv = new DataView(bounce.buffer);
  if (ptr !== 0) {
    bounce.set(mem.subarray(ptr, ptr + room), SYNC_FILE_INFO_SIZE);
    bv.setBigUint64(48, BigInt(SYNC_FILE_INFO_SIZE), true);
  }
  const r = call(bounce);
  bv.setBigUint64(48, BigInt(ptr), true);
  mem.set(bounce.subarray(0, SYNC_FILE_INFO_SIZE), argPtr);
  if (room > 0) mem.set(bounce.subarray(SYNC_FILE_INFO_SIZE), ptr);
  return r;
};

/** Requests that need marshalling, by request number. */
export const IOCTL_MARSHAL: ReadonlyMap<number, Marshal> = new Map([
  [SYNC_IOC_FILE_INFO >>> 0, syncFileInfo],
]);
