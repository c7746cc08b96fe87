// The KMS subset of the scanout's DRM node: framebuffers from PRIME handles, SETCRTC, page flips and their events.

import { KernelError } from "@dmabuf/core";
import {
  DRM_EVENT_FLIP_COMPLETE,
  DRM_EVENT_VBLANK_LAYOUT,
  DRM_FORMAT_ARGB8888,
  DRM_FORMAT_XRGB8888,
  DRM_IOCTL_MODE_ADDFB2,
  DRM_IOCTL_MODE_GETRESOURCES,
  DRM_IOCTL_MODE_PAGE_FLIP,
  DRM_IOCTL_MODE_RMFB,
  DRM_IOCTL_MODE_SETCRTC,
  DRM_MODE_CARD_RES_LAYOUT,
  DRM_MODE_CRTC_LAYOUT,
  DRM_MODE_FB_CMD2_LAYOUT,
  DRM_MODE_PAGE_FLIP_EVENT,
  DRM_MODE_PAGE_FLIP_LAYOUT,
} from "@dmabuf/core/uapi";
import type { ImportedBuffer } from "./device-model.js";
import type { DrmDriverHooks, DrmFile } from "./drm-node.js";
import type { Scanout } from "./scanout.js";

/** The object id of the scanout's one CRTC (what SETCRTC and PAGE_FLIP name). */
export const SCANOUT_CRTC_ID = 31;
/** The object id of the scanout's one encoder. */
export const SCANOUT_ENCODER_ID = 32;
/** The object id of the scanout's one connector (what SETCRTC's connector array names). */
export const SCANOUT_CONNECTOR_ID = 33;
/** The mode config's size limits: min width, max width, min height, max height. */
const SIZE_LIMITS = [1, 8192, 1, 8192] as const;

interface Framebuffer {
  readonly id: number;
  readonly owner: DrmFile;
  readonly fb: ImportedBuffer;
}

/**
 * DRM driver hooks of a {@link Scanout}: the KMS requests a compositor's minimal path uses.
 * - DRM_IOCTL_MODE_ADDFB2: one plane of XRGB8888 or ARGB8888 from a PRIME handle; EINVAL for
 *   another format, a zero size, a pitch below width × 4 or a plane past the buffer's end;
 *   ENOENT for an unknown handle. Framebuffers belong to the open file (dropped at its close).
 * - DRM_IOCTL_MODE_RMFB: ENOENT for an id this file does not own.
 * - DRM_IOCTL_MODE_GETRESOURCES: the framebuffers of the calling file (newest first), CRTC
 *   {@link SCANOUT_CRTC_ID}, connector {@link SCANOUT_CONNECTOR_ID}, encoder
 *   {@link SCANOUT_ENCODER_ID} and the size limits 1–8192; each id array is filled up to the
 *   count given in (none with a count of 0) and the counts are set to the real numbers.
 * - DRM_IOCTL_MODE_SETCRTC on CRTC {@link SCANOUT_CRTC_ID}, as `drm_mode_setcrtc` checks it:
 *   ERANGE for x or y ≥ 65536; ENOENT for another CRTC or an unknown framebuffer (`fb_id` −1:
 *   the one shown, EINVAL when none); EINVAL for a mode without connectors, connectors without
 *   a mode, or more connectors than the card has; ENOENT for a connector id in
 *   `set_connectors_ptr` that is not {@link SCANOUT_CONNECTOR_ID}. With `mode_valid` the
 *   framebuffer is shown and the call returns once the scanout has read it, as a blocking
 *   modeset does; without it the CRTC is switched off.
 * - DRM_IOCTL_MODE_PAGE_FLIP: EINVAL for flags other than DRM_MODE_PAGE_FLIP_EVENT or a
 *   non-zero `reserved`; EBUSY when the CRTC is off or a flip is still pending; ENOENT for an
 *   unknown CRTC or framebuffer. The scanout reads the framebuffer during the next refresh;
 *   with the EVENT flag a DRM_EVENT_FLIP_COMPLETE record (user_data, time, frame count,
 *   crtc_id) is queued for read() on the file that asked.
 */
export function scanoutKms(scanout: Scanout): DrmDriverHooks {
  const fbs = new Map<number, Framebuffer>();
  let nextFb = SCANOUT_CRTC_ID + 1;
  let current: Framebuffer | undefined;
  let flipPending = false;
  const v = (a: Uint8Array) => new DataView(a.buffer, a.byteOffset, a.byteLength);
  const need = (a: Uint8Array, size: number) => {
    if (a.length < size) throw new KernelError("EFAULT", "drm_ioctl");
    return v(a);
  };
  const lookupFb = (id: number) => {
    const f = fbs.get(id);
    if (!f) throw new KernelError("ENOENT", "drm_framebuffer_lookup", `no framebuffer ${id}`);
    return f;
  };
  const checkCrtc = (id: number) => {
    if (id !== SCANOUT_CRTC_ID) throw new KernelError("ENOENT", "drm_crtc_find", `no CRTC ${id}`);
  };
  return {
    importBuffer: (buf) => scanout.addFramebuffer(buf),
    ioctl(dfile, cmd, arg) {
      if (cmd === DRM_IOCTL_MODE_ADDFB2) {
        const l = DRM_MODE_FB_CMD2_LAYOUT;
        const d = need(arg, l.size);
        const width = d.getUint32(l.width, true);
        const height = d.getUint32(l.height, true);
        const format = d.getUint32(l.pixelFormat, true);
        const pitch = d.getUint32(l.pitches, true);
        const offset = d.getUint32(l.offsets, true);
        if (format !== DRM_FORMAT_XRGB8888 && format !== DRM_FORMAT_ARGB8888) {
          throw new KernelError("EINVAL", "drm_mode_addfb2", "unsupported pixel format");
        }
        if (width === 0 || height === 0 || pitch < width * 4) {
          throw new KernelError("EINVAL", "drm_mode_addfb2", "bad size or pitch");
        }
        const imported = dfile.lookup(d.getUint32(l.handles, true));
        if (!imported) throw new KernelError("ENOENT", "drm_gem_object_lookup");
        if (offset + pitch * (height - 1) + width * 4 > imported.size) {
          throw new KernelError("EINVAL", "drm_gem_fb_init_with_funcs", "buffer too small");
        }
        const id = nextFb++;
        fbs.set(id, { id, owner: dfile, fb: imported });
        d.setUint32(l.fbId, id, true);
        return 0;
      }
      if (cmd === DRM_IOCTL_MODE_RMFB) {
        const id = need(arg, 4).getUint32(0, true);
        const f = fbs.get(id);
        if (!f || f.owner !== dfile) throw new KernelError("ENOENT", "drm_mode_rmfb");
        fbs.delete(id);
        if (current === f) current = undefined;
        return 0;
      }
      if (cmd === DRM_IOCTL_MODE_GETRESOURCES) {
        const l = DRM_MODE_CARD_RES_LAYOUT;
        const d = need(arg, l.size);
        const mine = [...fbs.values()].filter((f) => f.owner === dfile).reverse();
        const lists: [number, number, readonly number[]][] = [
          [l.fbIdPtr, l.countFbs, mine.map((f) => f.id)],
          [l.crtcIdPtr, l.countCrtcs, [SCANOUT_CRTC_ID]],
          [l.encoderIdPtr, l.countEncoders, [SCANOUT_ENCODER_ID]],
          [l.connectorIdPtr, l.countConnectors, [SCANOUT_CONNECTOR_ID]],
        ];
        for (const [ptrAt, countAt, ids] of lists) {
          const room = d.getUint32(countAt, true);
          const ptr = Number(d.getBigUint64(ptrAt, true));
          for (let i = 0; i < ids.length && i < room; i++) {
            if (ptr + 4 * (i + 1) > arg.length || ptr < l.size) {
              throw new KernelError("EFAULT", "drm_mode_getresources");
            }
            d.setUint32(ptr + 4 * i, ids[i] as number, true);
          }
          d.setUint32(countAt, ids.length, true);
        }
        [l.minWidth, l.maxWidth, l.minHeight, l.maxHeight].forEach((at, i) => {
          d.setUint32(at, SIZE_LIMITS[i] as number, true);
        });
        return 0;
      }
      if (cmd === DRM_IOCTL_MODE_SETCRTC) {
        const l = DRM_MODE_CRTC_LAYOUT;
        const d = need(arg, l.size);
        if ((d.getUint32(l.x, true) | d.getUint32(l.y, true)) & 0xffff0000) {
          throw new KernelError("ERANGE", "drm_mode_setcrtc", "x or y out of range");
        }
        checkCrtc(d.getUint32(l.crtcId, true));
        const modeValid = d.getUint32(l.modeValid, true) !== 0;
        let f: Framebuffer | undefined;
        if (modeValid) {
          const fbId = d.getInt32(l.fbId, true);
          if (fbId === -1) {
            if (!current) throw new KernelError("EINVAL", "drm_mode_setcrtc", "no current fb");
            f = current;
          } else f = lookupFb(fbId >>> 0);
        }
        const count = d.getUint32(l.countConnectors, true);
        if (count === 0 && modeValid) {
          throw new KernelError("EINVAL", "drm_mode_setcrtc", "a mode without connectors");
        }
        if (count > 0 && !modeValid) {
          throw new KernelError("EINVAL", "drm_mode_setcrtc", "connectors without a mode");
        }
        if (count > 1) throw new KernelError("EINVAL", "drm_mode_setcrtc", "too many connectors");
        if (count === 1) {
          const ptr = Number(d.getBigUint64(l.setConnectorsPtr, true));
          if (ptr < l.size || ptr + 4 > arg.length) {
            throw new KernelError("EFAULT", "drm_mode_setcrtc", "bad set_connectors_ptr");
          }
          const id = d.getUint32(ptr, true);
          if (id !== SCANOUT_CONNECTOR_ID) {
            throw new KernelError("ENOENT", "drm_connector_lookup", `no connector ${id}`);
          }
        }
        if (!f) {
          current = undefined;
          return 0;
        }
        scanout.wait(scanout.present(f.fb));
        current = f;
        return 0;
      }
      if (cmd === DRM_IOCTL_MODE_PAGE_FLIP) {
        const l = DRM_MODE_PAGE_FLIP_LAYOUT;
        const d = need(arg, l.size);
        checkCrtc(d.getUint32(l.crtcId, true));
        const flags = d.getUint32(l.flags, true);
        if (flags & ~DRM_MODE_PAGE_FLIP_EVENT || d.getUint32(l.reserved, true) !== 0) {
          throw new KernelError("EINVAL", "drm_mode_page_flip_ioctl", "bad flags");
        }
        if (!current || flipPending) throw new KernelError("EBUSY", "drm_mode_page_flip_ioctl");
        const f = lookupFb(d.getUint32(l.fbId, true));
        const userData = d.getBigUint64(l.userData, true);
        flipPending = true;
        current = f;
        scanout.present(f.fb).addCallback((fence) => {
          flipPending = false;
          if (!(flags & DRM_MODE_PAGE_FLIP_EVENT)) return;
          const e = DRM_EVENT_VBLANK_LAYOUT;
          const rec = new Uint8Array(e.size);
          const r = v(rec);
          const ns = fence.timestamp ?? 0;
          r.setUint32(e.type, DRM_EVENT_FLIP_COMPLETE, true);
          r.setUint32(e.length, e.size, true);
          r.setBigUint64(e.userData, userData, true);
          r.setUint32(e.tvSec, Math.floor(ns / 1e9), true);
          r.setUint32(e.tvUsec, Math.floor((ns % 1e9) / 1e3), true);
          r.setUint32(e.sequence, scanout.framesShown, true);
          r.setUint32(e.crtcId, SCANOUT_CRTC_ID, true);
          dfile.events.push(rec);
        });
        return 0;
      }
      return undefined;
    },
    waitEvent(dfile) {
      scanout.host.clock.runUntil(() => dfile.events.length > 0 || !flipPending, Infinity);
    },
    release(dfile) {
      for (const [id, f] of fbs) {
        if (f.owner !== dfile) continue;
        fbs.delete(id);
        if (current === f) current = undefined;
      }
    },
  };
}
