// ioctls whose argument holds user pointers: rewritten around the call through a bounce buffer.

import {
  DRM_IOCTL_MODE_GETRESOURCES,
  DRM_IOCTL_MODE_SETCRTC,
  DRM_IOCTL_VERSION32,
  DRM_MODE_CARD_RES_LAYOUT,
  DRM_MODE_CRTC_LAYOUT,
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

/**
 * Copies `lists` (u64 pointer at `ptrAt` to `count` u32 ids, the count at `countAt`) of the
 * `size`-byte struct at `argPtr` into a bounce buffer behind the struct, runs the call, and
 * copies the struct and the lists back with the pointers restored. A list holds
 * min(count given in, `room`) entries; a NULL pointer carries none.
 */
function u32Lists(
  size: number,
  lists: readonly (readonly [ptrAt: number, countAt: number])[],
): Marshal {
  return (mem, argPtr, call) => {
    const v = new DataView(mem.buffer, mem.byteOffset);
    const parts = lists.map(([ptrAt, countAt]) => ({
      ptrAt,
      ptr: Number(v.getBigUint64(argPtr + ptrAt, true)),
      bytes: 4 * v.getUint32(argPtr + countAt, true),
      at: 0,
    }));
    let total = size;
    for (const p of parts) {
      if (p.ptr === 0) p.bytes = 0;
      p.at = total;
      total += p.bytes;
    }
    const bounce = new Uint8Array(total);
    bounce.set(mem.subarray(argPtr, argPtr + size));
    const bv = new DataView(bounce.buffer);
    for (const p of parts) {
      if (p.ptr === 0) continue;
      bounce.set(mem.subarray(p.ptr, p.ptr + p.bytes), p.at);
      bv.setBigUint64(p.ptrAt, BigInt(p.at), true);
    }
    const r = call(bounce);
    for (const p of parts) {
      bv.setBigUint64(p.ptrAt, BigInt(p.ptr), true);
      if (p.bytes > 0) mem.set(bounce.subarray(p.at, p.at + p.bytes), p.ptr);
    }
    mem.set(bounce.subarray(0, size), argPtr);
    return r;
  };
}

const cardRes = DRM_MODE_CARD_RES_LAYOUT;
const crtc = DRM_MODE_CRTC_LAYOUT;

/** Requests that need marshalling, by request number. */
export const IOCTL_MARSHAL: ReadonlyMap<number, Marshal> = new Map([
  [SYNC_IOC_FILE_INFO >>> 0, syncFileInfo],
  [DRM_IOCTL_VERSION32 >>> 0, drmVersion32],
  [
    DRM_IOCTL_MODE_GETRESOURCES >>> 0,
    u32Lists(cardRes.size, [
      [cardRes.fbIdPtr, cardRes.countFbs],
      [cardRes.crtcIdPtr, cardRes.countCrtcs],
      [cardRes.connectorIdPtr, cardRes.countConnectors],
      [cardRes.encoderIdPtr, cardRes.countEncoders],
    ]),
  ],
  [
    DRM_IOCTL_MODE_SETCRTC >>> 0,
    u32Lists(crtc.size, [[crtc.setConnectorsPtr, crtc.countConnectors]]),
  ],
]);
