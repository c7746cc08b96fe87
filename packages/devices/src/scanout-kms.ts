// The KMS subset of the scanout's DRM node: framebuffers from PRIME handles, SETCRTC, page flips and their events.

import { KernelError } from "@dmabuf/core";
import {
  DRM_EVENT_FLIP_COMPLETE,
  DRM_EVENT_VBLANK_LAYOUT,
  DRM_FORMAT_ARGB8888,
  DRM_FORMAT_XRGB8888,
  DRM_IOCTL_MODE_ADDFB2,
  DRM_IOCTL_MODE_PAGE_FLIP,
  DRM_IOCTL_MODE_RMFB,
  DRM_IOCTL_MODE_SETCRTC,
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
 * - DRM_IOCTL_MODE_SETCRTC on CRTC {@link SCANOUT_CRTC_ID} (ENOENT for another): with
 *   `mode_valid` and at least one connector (EINVAL without; connector ids are not checked),
 *   the framebuffer is shown and the call returns once the scanout has read it, as a blocking
 *   modeset does; without `mode_valid` the CRTC is switched off.
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
      if (cmd === DRM_IOCTL_MODE_SETCRTC) {
        const l = DRM_MODE_CRTC_LAYOUT;
        const d = need(arg, l.size);
        checkCrtc(d.getUint32(l.crtcId, true));
        if (d.getUint32(l.modeValid, true) === 0) {
          current = undefined;
          return 0;
        }
        if (d.getUint32(l.countConnectors, true) === 0) {
          throw new KernelError("EINVAL", "drm_mode_setcrtc", "a mode without connectors");
        }
        const f = lookupFb(d.getUint32(l.fbId, true));
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
