// ioctls whose argument holds user pointers: rewritten around the call through a bounce buffer.

import {
  DRM_IOCTL_VERSION32,
  DRM_VERSION32_LAYOUT,
  SYNC_FENCE_INFO_SIZE,
  SYNC_FILE_INFO_SIZE,
  SYNC_IOC_FILE_INFO,
} from "@dmabuf/core/uapi";

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

/**
 * `DRM_IOCTL_VERSION` as wasm32 encodes it (the 36-byte ILP32 struct): three (length, char *)
 * pairs; each buffer of `length` bytes is carried in the bounce buffer behind the struct.
 */
const drmVersion32: Marshal = (mem, argPtr, call) => {
  const l = DRM_VERSION32_LAYOUT;
  const v = new DataView(mem.buffer, mem.byteOffset);
  const pairs = [
    [l.nameLen, l.name],
    [l.dateLen, l.date],
    [l.descLen, l.desc],
  ].map(([lenAt, ptrAt]) => ({
    ptrAt: ptrAt as number,
    len: v.getUint32(argPtr + (lenAt as number), true),
    ptr: v.getUint32(argPtr + (ptrAt as number), true),
  }));
  let total = l.size;
  const at = pairs.map((p) => {
    const o = p.ptr === 0 ? 0 : total;
    if (p.ptr !== 0) total += p.len;
    return o;
  });
  const bounce = new Uint8Array(total);
  bounce.set(mem.subarray(argPtr, argPtr + l.size));
  const bv = new DataView(bounce.buffer);
  pairs.forEach((p, i) => {
    if (p.ptr === 0) return;
    bounce.set(mem.subarray(p.ptr, p.ptr + p.len), at[i]);
    bv.setUint32(p.ptrAt, at[i] as number, true);
  });
  const r = call(bounce);
  pairs.forEach((p, i) => {
    bv.setUint32(p.ptrAt, p.ptr, true);
    if (p.ptr !== 0) mem.set(bounce.subarray(at[i], (at[i] as number) + p.len), p.ptr);
  });
  mem.set(bounce.subarray(0, l.size), argPtr);
  return r;
};

/** Requests that need marshalling, by request number. */
export const IOCTL_MARSHAL: ReadonlyMap<number, Marshal> = new Map([
  [SYNC_IOC_FILE_INFO >>> 0, syncFileInfo],
  [DRM_IOCTL_VERSION32 >>> 0, drmVersion32],
]);
