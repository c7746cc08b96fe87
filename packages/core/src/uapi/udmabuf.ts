// include/uapi/linux/udmabuf.h: the CREATE ioctls and their structs.

import { view } from "./dma-buf.js";
import { _IOW } from "./ioctl.js";

/** Set O_CLOEXEC on the new dma-buf fd. */
export const UDMABUF_FLAGS_CLOEXEC = 0x01;
/** Size of `struct udmabuf_create`: u32 memfd; u32 flags; u64 offset; u64 size. */
export const UDMABUF_CREATE_SIZE = 24;
/** Size of `struct udmabuf_create_item`: u32 memfd; u32 __pad; u64 offset; u64 size. */
export const UDMABUF_CREATE_ITEM_SIZE = 24;
/** Size of the `struct udmabuf_create_list` header: u32 flags; u32 count. */
export const UDMABUF_CREATE_LIST_SIZE = 8;
/** Create a dma-buf from one memfd range = 0x40187542. */
export const UDMABUF_CREATE = _IOW(0x75, 0x42, UDMABUF_CREATE_SIZE);
/** Create a dma-buf from a list of memfd ranges = 0x40087543. */
export const UDMABUF_CREATE_LIST = _IOW(0x75, 0x43, UDMABUF_CREATE_LIST_SIZE);

/** `struct udmabuf_create` as a value. */
export interface UdmabufCreate {
  /** The memfd. */
  memfd: number;
  /** UDMABUF_FLAGS_* bits. */
  flags: number;
  /** Page-aligned offset into the memfd. */
  offset: bigint;
  /** Page-aligned size. */
  size: bigint;
}

/** Encodes `struct udmabuf_create` (24 bytes). */
export function encodeUdmabufCreate(arg: UdmabufCreate): Uint8Array {
  const b = new Uint8Array(UDMABUF_CREATE_SIZE);
  const v = view(b);
  v.setUint32(0, arg.memfd >>> 0, true);
  v.setUint32(4, arg.flags >>> 0, true);
  v.setBigUint64(8, arg.offset, true);
  v.setBigUint64(16, arg.size, true);
  return b;
}

/** Decodes `struct udmabuf_create`. */
export function decodeUdmabufCreate(bytes: Uint8Array): UdmabufCreate {
  const v = view(bytes);
  return {
    memfd: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    offset: v.getBigUint64(8, true),
    size: v.getBigUint64(16, true),
  };
}

/** Encodes `struct udmabuf_create_list` followed by its items (8 + 24·n bytes). */
export function encodeUdmabufCreateList(
  flags: number,
  items: readonly Omit<UdmabufCreate, "flags">[],
): Uint8Array {
  const b = new Uint8Array(UDMABUF_CREATE_LIST_SIZE + UDMABUF_CREATE_ITEM_SIZE * items.length);
  const v = view(b);
  v.setUint32(0, flags >>> 0, true);
  v.setUint32(4, items.length, true);
  items.forEach((it, i) => {
    const o = UDMABUF_CREATE_LIST_SIZE + i * UDMABUF_CREATE_ITEM_SIZE;
    v.setUint32(o, it.memfd >>> 0, true);
    v.setBigUint64(o + 8, it.offset, true);
    v.setBigUint64(o + 16, it.size, true);
  });
  return b;
}
