// DRM dumb buffers on a shmem GEM driver: MODE_CREATE_DUMB, MODE_MAP_DUMB, MODE_DESTROY_DUMB.

import { KernelError } from "@dmabuf/core";
import {
  DRM_IOCTL_MODE_CREATE_DUMB,
  DRM_IOCTL_MODE_DESTROY_DUMB,
  DRM_IOCTL_MODE_MAP_DUMB,
  DRM_MODE_CREATE_DUMB_SIZE,
  DRM_MODE_DESTROY_DUMB_SIZE,
  DRM_MODE_MAP_DUMB_SIZE,
} from "@dmabuf/core/uapi";
import type { DrmFile } from "./drm-node.js";
import type { GemShmemDevice } from "./gem-shmem.js";

const U32_MAX = 0xffffffff;

function dv(a: Uint8Array, size: number): DataView {
  if (a.length < size) throw new KernelError("EFAULT", "drm_ioctl", "bad argument");
  return new DataView(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Serves the dumb-buffer requests of a shmem GEM driver's node for `dfile`; `undefined` for any
 * other request.
 *
 * - DRM_IOCTL_MODE_CREATE_DUMB (`drm_mode_create_dumb` + `drm_gem_shmem_dumb_create`): EINVAL
 *   when width, height or bpp is 0, when bpp > 2³²−9, when the 32-bit stride
 *   (⌈bpp/8⌉ × width) or size (stride × height) would overflow, or when the page-aligned size
 *   wraps to 0. The reported pitch is ⌈width × bpp / 8⌉ and size the page-aligned pitch ×
 *   height, both computed in 32 bits as the kernel does; handle, pitch and size given in are
 *   ignored. The object has no pages until first used (mmap, export attach, vmap).
 * - DRM_IOCTL_MODE_MAP_DUMB (`drm_gem_dumb_map_offset`): the fake offset to mmap() the node at
 *   (from 4 GiB); ENOENT for an unknown handle, EINVAL for an imported buffer.
 * - DRM_IOCTL_MODE_DESTROY_DUMB: drops the handle (EINVAL for an unknown one).
 */
export function dumbIoctl(
  gem: GemShmemDevice,
  dfile: DrmFile,
  cmd: number,
  arg: Uint8Array,
): number | undefined {
  if (cmd === DRM_IOCTL_MODE_CREATE_DUMB) {
    const v = dv(arg, DRM_MODE_CREATE_DUMB_SIZE);
    const height = v.getUint32(0, true);
    const width = v.getUint32(4, true);
    const bpp = v.getUint32(8, true);
    if (!width || !height || !bpp) throw new KernelError("EINVAL", "drm_mode_create_dumb");
    if (bpp > U32_MAX - 8) throw new KernelError("EINVAL", "drm_mode_create_dumb", "bpp");
    const cpp = Math.ceil(bpp / 8);
    if (cpp > Math.floor(U32_MAX / width)) {
      throw new KernelError("EINVAL", "drm_mode_create_dumb", "stride overflows");
    }
    const stride = cpp * width;
    if (height > Math.floor(U32_MAX / stride)) {
      throw new KernelError("EINVAL", "drm_mode_create_dumb", "size overflows");
    }
    const ps = gem.host.pageSize;
    const pageAlign32 = (n: number) =>
      Number((BigInt(n) + BigInt(ps - 1)) & ~BigInt(ps - 1) & 0xffffffffn);
    if (pageAlign32(height * stride) === 0) {
      throw new KernelError("EINVAL", "drm_mode_create_dumb", "size wraps");
    }
    // drm_gem_shmem_dumb_create, in u32 arithmetic: pitch from width × bpp (which may wrap).
    const bits = Number((BigInt(width) * BigInt(bpp)) & 0xffffffffn);
    const pitch = Math.floor(((bits + 7) >>> 0) / 8);
    const size = pageAlign32(Number((BigInt(pitch) * BigInt(height)) & 0xffffffffn));
    if (size === 0) throw new KernelError("EINVAL", "drm_gem_shmem_create", "size 0");
    const obj = gem.create(size);
    let handle: number;
    try {
      handle = dfile.addGem(obj);
    } finally {
      obj.put(); // the handle holds it now
    }
    v.setUint32(16, handle, true);
    v.setUint32(20, pitch, true);
    v.setBigUint64(24, BigInt(size), true);
    return 0;
  }
  if (cmd === DRM_IOCTL_MODE_MAP_DUMB) {
    const v = dv(arg, DRM_MODE_MAP_DUMB_SIZE);
    const handle = v.getUint32(0, true);
    const obj = dfile.lookupGem(handle);
    if (!obj) {
      if (dfile.lookup(handle)) {
        throw new KernelError("EINVAL", "drm_gem_dumb_map_offset", "imported buffer");
      }
      throw new KernelError("ENOENT", "drm_gem_dumb_map_offset", `no handle ${handle}`);
    }
    v.setBigUint64(8, BigInt(gem.mmapOffset(obj as Parameters<typeof gem.mmapOffset>[0])), true);
    return 0;
  }
  if (cmd === DRM_IOCTL_MODE_DESTROY_DUMB) {
    dfile.close(dv(arg, DRM_MODE_DESTROY_DUMB_SIZE).getUint32(0, true));
    return 0;
  }
  return undefined;
}
