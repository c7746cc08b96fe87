// include/uapi/drm/drm_mode.h (subset): framebuffers, SETCRTC, page flips and their completion event.

import { _IOWR } from "./ioctl.js";

/**
 * Layout of `struct drm_mode_fb_cmd2` (both ABIs: its u64 modifiers are 8-aligned on x86-64,
 * arm and wasm32; only i386 packs them, which the kernel's x86 compat path handles): u32 fb_id
 * (out) @0, width @4, height @8, pixel_format @12, flags @16, handles[4] @20, pitches[4] @36,
 * offsets[4] @52, u64 modifier[4] @72; 104 bytes.
 */
export const DRM_MODE_FB_CMD2_LAYOUT = {
  size: 104,
  fbId: 0,
  width: 4,
  height: 8,
  pixelFormat: 12,
  flags: 16,
  handles: 20,
  pitches: 36,
  offsets: 52,
  modifier: 72,
} as const;

/** Size of `struct drm_mode_modeinfo` (clock, 10 u16 timings, vrefresh, flags, type, name[32]). */
export const DRM_MODE_MODEINFO_SIZE = 68;

/**
 * Layout of `struct drm_mode_crtc` (both ABIs): u64 set_connectors_ptr @0, count_connectors
 * @8, crtc_id @12, fb_id @16, x @20, y @24, gamma_size @28, mode_valid @32, mode @36; 104 bytes.
 */
export const DRM_MODE_CRTC_LAYOUT = {
  size: 104,
  setConnectorsPtr: 0,
  countConnectors: 8,
  crtcId: 12,
  fbId: 16,
  x: 20,
  y: 24,
  gammaSize: 28,
  modeValid: 32,
  mode: 36,
} as const;

/**
 * Layout of `struct drm_mode_card_res` (both ABIs): u64 fb_id_ptr @0, crtc_id_ptr @8,
 * connector_id_ptr @16, encoder_id_ptr @24; u32 count_fbs @32, count_crtcs @36,
 * count_connectors @40, count_encoders @44, min_width @48, max_width @52, min_height @56,
 * max_height @60; 64 bytes.
 */
export const DRM_MODE_CARD_RES_LAYOUT = {
  size: 64,
  fbIdPtr: 0,
  crtcIdPtr: 8,
  connectorIdPtr: 16,
  encoderIdPtr: 24,
  countFbs: 32,
  countCrtcs: 36,
  countConnectors: 40,
  countEncoders: 44,
  minWidth: 48,
  maxWidth: 52,
  minHeight: 56,
  maxHeight: 60,
} as const;

/**
 * Layout of `struct drm_mode_crtc_page_flip` (both ABIs): crtc_id @0, fb_id @4, flags @8,
 * reserved @12, u64 user_data @16; 24 bytes.
 */
export const DRM_MODE_PAGE_FLIP_LAYOUT = {
  size: 24,
  crtcId: 0,
  fbId: 4,
  flags: 8,
  reserved: 12,
  userData: 16,
} as const;

/**
 * Layout of `struct drm_event_vblank` as read() returns it: drm_event {u32 type, u32 length},
 * u64 user_data @8, tv_sec @16, tv_usec @20, sequence @24, crtc_id @28; 32 bytes.
 */
export const DRM_EVENT_VBLANK_LAYOUT = {
  size: 32,
  type: 0,
  length: 4,
  userData: 8,
  tvSec: 16,
  tvUsec: 20,
  sequence: 24,
  crtcId: 28,
} as const;

/** The mode objects of a card = 0xC04064A0. */
export const DRM_IOCTL_MODE_GETRESOURCES = _IOWR(0x64, 0xa0, DRM_MODE_CARD_RES_LAYOUT.size);
/** Add a framebuffer from GEM handles = 0xC06864B8. */
export const DRM_IOCTL_MODE_ADDFB2 = _IOWR(0x64, 0xb8, DRM_MODE_FB_CMD2_LAYOUT.size);
/** Remove a framebuffer (argument: u32 fb_id) = 0xC00464AF. */
export const DRM_IOCTL_MODE_RMFB = _IOWR(0x64, 0xaf, 4);
/** Set a CRTC's mode and framebuffer = 0xC06864A2. */
export const DRM_IOCTL_MODE_SETCRTC = _IOWR(0x64, 0xa2, DRM_MODE_CRTC_LAYOUT.size);
/** Show another framebuffer at the next vblank = 0xC01864B0. */
export const DRM_IOCTL_MODE_PAGE_FLIP = _IOWR(0x64, 0xb0, DRM_MODE_PAGE_FLIP_LAYOUT.size);

/** Page flip flag: send a DRM_EVENT_FLIP_COMPLETE event when the flip is done. */
export const DRM_MODE_PAGE_FLIP_EVENT = 0x01;
/** Event type of a completed page flip. */
export const DRM_EVENT_FLIP_COMPLETE = 0x02;

/** fourcc 'XR24': 32-bit xRGB, 8 bits per channel. */
export const DRM_FORMAT_XRGB8888 = 0x34325258;
/** fourcc 'AR24': 32-bit ARGB, 8 bits per channel. */
export const DRM_FORMAT_ARGB8888 = 0x34325241;
