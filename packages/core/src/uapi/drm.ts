// include/uapi/drm/drm.h (subset): the DRM ioctls a PRIME importer uses, in both ABIs a 64-bit kernel serves.

import { _IOW, _IOWR } from "./ioctl.js";

/** ioctl type byte of DRM requests ('d'). */
export const DRM_IOCTL_BASE = 0x64;

/**
 * Layout of `struct drm_version` as a 64-bit (LP64) process passes it: int version_major @0,
 * version_minor @4, version_patchlevel @8, (pad), size_t name_len @16, char *name @24,
 * size_t date_len @32, char *date @40, size_t desc_len @48, char *desc @56; 64 bytes.
 */
export const DRM_VERSION_LAYOUT = {
  size: 64,
  major: 0,
  minor: 4,
  patchlevel: 8,
  nameLen: 16,
  name: 24,
  dateLen: 32,
  date: 40,
  descLen: 48,
  desc: 56,
  /** Width of the size_t and pointer fields. */
  word: 8,
} as const;

/**
 * Layout of `struct drm_version` as a 32-bit (ILP32: i386, arm, wasm32) process passes it, the
 * one the kernel's compat ioctl path translates (`drm_version32`): three ints, then 32-bit
 * length/pointer pairs; 36 bytes.
 */
export const DRM_VERSION32_LAYOUT = {
  size: 36,
  major: 0,
  minor: 4,
  patchlevel: 8,
  nameLen: 12,
  name: 16,
  dateLen: 20,
  date: 24,
  descLen: 28,
  desc: 32,
  word: 4,
} as const;

/** A `struct drm_version` layout: {@link DRM_VERSION_LAYOUT} or {@link DRM_VERSION32_LAYOUT}. */
export type DrmVersionLayout = typeof DRM_VERSION_LAYOUT | typeof DRM_VERSION32_LAYOUT;

/** Size of `struct drm_gem_close`: u32 handle; u32 pad. */
export const DRM_GEM_CLOSE_SIZE = 8;
/** Size of `struct drm_prime_handle`: u32 handle; u32 flags; s32 fd. */
export const DRM_PRIME_HANDLE_SIZE = 12;
/**
 * Size of `struct drm_mode_create_dumb`: u32 height, width, bpp, flags, handle (out),
 * pitch (out); u64 size (out) @24. The same in both ABIs.
 */
export const DRM_MODE_CREATE_DUMB_SIZE = 32;

/** Driver name, date and description: `DRM_IOCTL_VERSION` (LP64) = 0xC0406400. */
export const DRM_IOCTL_VERSION = _IOWR(DRM_IOCTL_BASE, 0x00, DRM_VERSION_LAYOUT.size);
/** `DRM_IOCTL_VERSION` as a 32-bit process encodes it (36-byte struct) = 0xC0246400. */
export const DRM_IOCTL_VERSION32 = _IOWR(DRM_IOCTL_BASE, 0x00, DRM_VERSION32_LAYOUT.size);
/** Drop a GEM handle = 0x40086409. */
export const DRM_IOCTL_GEM_CLOSE = _IOW(DRM_IOCTL_BASE, 0x09, DRM_GEM_CLOSE_SIZE);
/** Export a GEM handle as a dma-buf fd = 0xC00C642D. */
export const DRM_IOCTL_PRIME_HANDLE_TO_FD = _IOWR(DRM_IOCTL_BASE, 0x2d, DRM_PRIME_HANDLE_SIZE);
/** Import a dma-buf fd as a GEM handle = 0xC00C642E. */
export const DRM_IOCTL_PRIME_FD_TO_HANDLE = _IOWR(DRM_IOCTL_BASE, 0x2e, DRM_PRIME_HANDLE_SIZE);
/** Allocate a dumb (CPU-mappable scanout) buffer = 0xC02064B2. */
export const DRM_IOCTL_MODE_CREATE_DUMB = _IOWR(DRM_IOCTL_BASE, 0xb2, DRM_MODE_CREATE_DUMB_SIZE);
/**
 * Size of `struct drm_mode_map_dumb`: u32 handle; u32 pad; u64 offset (out) @8. The same in
 * both ABIs.
 */
export const DRM_MODE_MAP_DUMB_SIZE = 16;
/** Size of `struct drm_mode_destroy_dumb`: u32 handle. */
export const DRM_MODE_DESTROY_DUMB_SIZE = 4;
/** The fake mmap offset of a dumb buffer's handle = 0xC01064B3. */
export const DRM_IOCTL_MODE_MAP_DUMB = _IOWR(DRM_IOCTL_BASE, 0xb3, DRM_MODE_MAP_DUMB_SIZE);
/** Drop a dumb buffer's handle = 0xC00464B4. */
export const DRM_IOCTL_MODE_DESTROY_DUMB = _IOWR(DRM_IOCTL_BASE, 0xb4, DRM_MODE_DESTROY_DUMB_SIZE);
/**
 * First page of the fake offsets GEM objects are mmapped at on a 64-bit kernel
 * (`DRM_FILE_PAGE_OFFSET_START`, page units: offset 4 GiB).
 */
export const DRM_FILE_PAGE_OFFSET_START_BYTES = 0x1_0000_0000;

/** `drm_prime_handle.flags` may carry DRM_CLOEXEC (= O_CLOEXEC) … */
export const DRM_CLOEXEC = 0o2000000;
/** … and DRM_RDWR (= O_RDWR); nothing else. */
export const DRM_RDWR = 0o2;

/** Major number of DRM character devices (/dev/dri/cardN is 226:N). */
export const DRM_MAJOR = 226;
