// include/uapi/linux/videodev2.h (subset): V4L2 capture with dma-buf buffers, in the LP64 and wasm32 layouts.

import { _IOR, _IOW, _IOWR } from "./ioctl.js";

/** ioctl type byte of V4L2 requests ('V'). */
export const V4L2_IOCTL_BASE = 0x56;

/** Size of `struct v4l2_capability`: driver[16], card[32], bus_info[32], version, capabilities, device_caps, reserved[3]. */
export const V4L2_CAPABILITY_SIZE = 104;
/** Size of `struct v4l2_requestbuffers`: count, type, memory, capabilities, u8 flags, reserved[3]. */
export const V4L2_REQUESTBUFFERS_SIZE = 20;
/**
 * Size of `struct v4l2_format` for LP64: u32 type, then a 200-byte union that holds pointers
 * (`v4l2_window`), so it starts at 8.
 */
export const V4L2_FORMAT_SIZE = 208;
/** Size of `struct v4l2_format` for ILP32 (i386, wasm32): the union starts at 4. */
export const V4L2_FORMAT32_SIZE = 204;

/**
 * Layout of `struct v4l2_buffer`, LP64: index @0, type @4, bytesused @8, flags @12, field @16,
 * struct timeval timestamp @24 (16 bytes), timecode @40, sequence @56, memory @60, union m
 * @64 (8 bytes: offset / userptr / planes / fd), length @72, reserved2 @76, request_fd @80;
 * 88 bytes.
 */
export const V4L2_BUFFER_LAYOUT = {
  size: 88,
  index: 0,
  type: 4,
  bytesused: 8,
  flags: 12,
  field: 16,
  timestamp: 24,
  /** Width of each timeval field. */
  timeWord: 8,
  sequence: 56,
  memory: 60,
  m: 64,
  length: 72,
  reserved2: 76,
  requestFd: 80,
} as const;

/**
 * Layout of `struct v4l2_buffer` as wasm32 (ILP32 with a 64-bit, 8-aligned time_t, like a
 * 32-bit arm process built for 64-bit time) compiles it: the same as LP64 up to `memory`, then
 * a 4-byte union m @64, length @68, reserved2 @72, request_fd @76; 80 bytes.
 */
export const V4L2_BUFFER32_LAYOUT = {
  size: 80,
  index: 0,
  type: 4,
  bytesused: 8,
  flags: 12,
  field: 16,
  timestamp: 24,
  timeWord: 8,
  sequence: 56,
  memory: 60,
  m: 64,
  length: 68,
  reserved2: 72,
  requestFd: 76,
} as const;

/** A `struct v4l2_buffer` layout. */
export type V4l2BufferLayout = typeof V4L2_BUFFER_LAYOUT | typeof V4L2_BUFFER32_LAYOUT;

/**
 * Offsets in `struct v4l2_pix_format` (48 bytes; at offset 8 of v4l2_format in LP64, 4 in
 * ILP32): width, height, pixelformat, field, bytesperline, sizeimage, colorspace, priv,
 * flags, ycbcr_enc, quantization, xfer_func.
 */
export const V4L2_PIX_FORMAT_LAYOUT = {
  width: 0,
  height: 4,
  pixelformat: 8,
  field: 12,
  bytesperline: 16,
  sizeimage: 20,
  colorspace: 24,
} as const;

/** Query device capabilities = 0x80685600. */
export const VIDIOC_QUERYCAP = _IOR(V4L2_IOCTL_BASE, 0, V4L2_CAPABILITY_SIZE);
/** Get the format (LP64) = 0xC0D05604. */
export const VIDIOC_G_FMT = _IOWR(V4L2_IOCTL_BASE, 4, V4L2_FORMAT_SIZE);
/** Set the format (LP64) = 0xC0D05605. */
export const VIDIOC_S_FMT = _IOWR(V4L2_IOCTL_BASE, 5, V4L2_FORMAT_SIZE);
/** Get the format (ILP32) = 0xC0CC5604. */
export const VIDIOC_G_FMT32 = _IOWR(V4L2_IOCTL_BASE, 4, V4L2_FORMAT32_SIZE);
/** Set the format (ILP32) = 0xC0CC5605. */
export const VIDIOC_S_FMT32 = _IOWR(V4L2_IOCTL_BASE, 5, V4L2_FORMAT32_SIZE);
/** Allocate (or free, count 0) buffer slots = 0xC0145608. */
export const VIDIOC_REQBUFS = _IOWR(V4L2_IOCTL_BASE, 8, V4L2_REQUESTBUFFERS_SIZE);
/** Queue a buffer (LP64) = 0xC058560F. */
export const VIDIOC_QBUF = _IOWR(V4L2_IOCTL_BASE, 15, V4L2_BUFFER_LAYOUT.size);
/** Dequeue a filled buffer (LP64) = 0xC0585611. */
export const VIDIOC_DQBUF = _IOWR(V4L2_IOCTL_BASE, 17, V4L2_BUFFER_LAYOUT.size);
/** Queue a buffer (wasm32 layout) = 0xC050560F. */
export const VIDIOC_QBUF32 = _IOWR(V4L2_IOCTL_BASE, 15, V4L2_BUFFER32_LAYOUT.size);
/** Dequeue a filled buffer (wasm32 layout) = 0xC0505611. */
export const VIDIOC_DQBUF32 = _IOWR(V4L2_IOCTL_BASE, 17, V4L2_BUFFER32_LAYOUT.size);
/** Start streaming (argument: int buffer type) = 0x40045612. */
export const VIDIOC_STREAMON = _IOW(V4L2_IOCTL_BASE, 18, 4);
/** Stop streaming = 0x40045613. */
export const VIDIOC_STREAMOFF = _IOW(V4L2_IOCTL_BASE, 19, 4);

/** Buffer type of single-planar video capture. */
export const V4L2_BUF_TYPE_VIDEO_CAPTURE = 1;
/** Memory type: buffers are dma-buf fds imported at QBUF. */
export const V4L2_MEMORY_DMABUF = 4;
/** Memory type: buffers the driver allocates (not served by the model's camera). */
export const V4L2_MEMORY_MMAP = 1;
/** Progressive frames. */
export const V4L2_FIELD_NONE = 1;
/** sRGB colorspace. */
export const V4L2_COLORSPACE_SRGB = 8;
/** fourcc 'XR24': 32-bit BGRX in memory, the same bytes as DRM_FORMAT_XRGB8888. */
export const V4L2_PIX_FMT_XBGR32 = 0x34325258;
/** Capability: single-planar video capture. */
export const V4L2_CAP_VIDEO_CAPTURE = 0x1;
/** Capability: the streaming I/O ioctls. */
export const V4L2_CAP_STREAMING = 0x04000000;
/** Capability: `device_caps` is valid. */
export const V4L2_CAP_DEVICE_CAPS = 0x80000000;
/** REQBUFS capability: V4L2_MEMORY_DMABUF is supported. */
export const V4L2_BUF_CAP_SUPPORTS_DMABUF = 1 << 2;
/** Buffer flag: queued to the driver. */
export const V4L2_BUF_FLAG_QUEUED = 0x2;
/** Buffer flag: filled and dequeued. */
export const V4L2_BUF_FLAG_DONE = 0x4;
/** Buffer flag: timestamps from the monotonic clock. */
export const V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC = 0x2000;
