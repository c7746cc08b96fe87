// A DRM character device (/dev/dri/cardN): version query and PRIME/GEM handles per open file.

import {
  type DeviceHost,
  DMA_BIDIRECTIONAL,
  type DmaBuf,
  type DmaDirection,
  type File,
  type FileOperations,
  type IoctlArg,
  KernelError,
  type Process,
  type Vma,
} from "@dmabuf/core";
import {
  DRM_CLOEXEC,
  DRM_GEM_CLOSE_SIZE,
  DRM_IOCTL_GEM_CLOSE,
  DRM_IOCTL_PRIME_FD_TO_HANDLE,
  DRM_IOCTL_PRIME_HANDLE_TO_FD,
  DRM_IOCTL_VERSION,
  DRM_IOCTL_VERSION32,
  DRM_MAJOR,
  DRM_PRIME_HANDLE_SIZE,
  DRM_RDWR,
  DRM_VERSION_LAYOUT,
  DRM_VERSION32_LAYOUT,
  type DrmVersionLayout,
  O_NONBLOCK,
  POLLIN,
  POLLRDNORM,
} from "@dmabuf/core/uapi";
import type { DeviceModel, ImportedBuffer } from "./device-model.js";

/** What DRM_IOCTL_VERSION reports. */
export interface DrmDriverInfo {
  /** Driver name, e.g. "vgem". */
  readonly name: string;
  /** Driver date string. */
  readonly date: string;
  /** Driver description. */
  readonly desc: string;
  /** Major, minor, patchlevel. */
  readonly version: readonly [number, number, number];
}

/**
 * A GEM object a DRM driver owns (not an import): what a handle of an open file can name
 * besides an {@link ImportedBuffer}.
 */
export interface DrmGemObject {
  /**
   * PRIME export (`drm_gem_prime_handle_to_fd`): the object's dma-buf, exported on the first
   * call with `flags` (DRM_RDWR gives a read-write file) and kept while the object has
   * handles. Called by PRIME_HANDLE_TO_FD. **Required**.
   * @returns a new reference for the caller
   * @throws KernelError ENOENT when the object has no handle left.
   */
  exportDmaBuf(flags: number): DmaBuf;
  /** A handle now names the object (it takes a reference). **Required**. */
  handleOpened(): void;
  /** A handle naming the object was dropped (it gives its reference back). **Required**. */
  handleClosed(): void;
}

type HandleEntry =
  | { readonly imported: ImportedBuffer; readonly gem?: undefined }
  | { readonly gem: DrmGemObject; readonly imported?: undefined };

/**
 * One open file of a DRM device (`struct drm_file`): its GEM handles. Handles are per open
 * file and numbered as `idr_alloc(…, 1, 0)` does (the lowest free one from 1), as in Linux;
 * the file's release drops every handle it still holds.
 */
export class DrmFile {
  /** Events queued for read() (`drm_event` records, oldest first). */
  readonly events: Uint8Array[] = [];
  readonly #handles = new Map<number, HandleEntry>();
  readonly #byBuffer = new Map<DmaBuf, number>();
  readonly #byGem = new Map<DrmGemObject, number>();

  /** The import behind `handle`, if any. */
  lookup(handle: number): ImportedBuffer | undefined {
    return this.#handles.get(handle)?.imported;
  }

  /** The driver's own object behind `handle`, if any. */
  lookupGem(handle: number): DrmGemObject | undefined {
    return this.#handles.get(handle)?.gem;
  }

  /** The handle of `buf` in this file, if it was imported here. */
  handleOf(buf: DmaBuf): number | undefined {
    return this.#byBuffer.get(buf);
  }

  /** The handle of the driver's object `obj` in this file, if it has one. */
  gemHandleOf(obj: DrmGemObject): number | undefined {
    return this.#byGem.get(obj);
  }

  #alloc(): number {
    let h = 1;
    while (this.#handles.has(h)) h++;
    return h;
  }

  /** Adds `imported` under a new handle. @returns the handle */
  add(imported: ImportedBuffer): number {
    const h = this.#alloc();
    this.#handles.set(h, { imported });
    this.#byBuffer.set(imported.buf, h);
    return h;
  }

  /** Adds the driver's object `obj` under a new handle (`drm_gem_handle_create`). @returns the handle */
  addGem(obj: DrmGemObject): number {
    const h = this.#alloc();
    this.#handles.set(h, { gem: obj });
    this.#byGem.set(obj, h);
    obj.handleOpened();
    return h;
  }

  /** Drops `handle` and releases its import or object. @throws KernelError EINVAL for an unknown handle. */
  close(handle: number): void {
    const entry = this.#handles.get(handle);
    if (!entry) throw new KernelError("EINVAL", "drm_gem_close", `no handle ${handle}`);
    this.#handles.delete(handle);
    if (entry.gem) {
      this.#byGem.delete(entry.gem);
      entry.gem.handleClosed();
      return;
    }
    this.#byBuffer.delete(entry.imported.buf);
    entry.imported.release();
  }

  /** Releases every handle (`drm_gem_release` at the file's last close). */
  releaseAll(): void {
    for (const h of [...this.#handles.keys()]) this.close(h);
  }
}

/** What a DRM driver adds to the generic node. */
export interface DrmDriverHooks {
  /** Imports a buffer for PRIME_FD_TO_HANDLE; default `model.import(buf, dir, true)`. */
  importBuffer?(buf: DmaBuf): ImportedBuffer;
  /** A driver-specific ioctl: returns undefined for a request it does not serve. */
  ioctl?(dfile: DrmFile, cmd: number, arg: Uint8Array, proc: Process): number | undefined;
  /**
   * Runs the virtual clock until `dfile` has an event queued or nothing the driver has pending
   * can produce one (a blocking read()).
   */
  waitEvent?(dfile: DrmFile): void;
  /** Called when an open file is released, before its handles are dropped. */
  release?(dfile: DrmFile): void;
  /**
   * The driver's own object behind `buf` when it exported it (PRIME self-import: the handle
   * names the object again instead of importing its dma-buf).
   */
  gemOf?(buf: DmaBuf): DrmGemObject | undefined;
  /** mmap() of the node (`drm_gem_mmap`); absent, mmap fails with ENODEV. */
  mmap?(dfile: DrmFile, vma: Vma): void;
}

/**
 * The file operations of a DRM device node serving, for both the LP64 and the ILP32
 * (compat) encodings where they differ: DRM_IOCTL_VERSION, DRM_IOCTL_PRIME_FD_TO_HANDLE
 * (imports with `dir` through `model`; the same buffer again gives the same handle),
 * DRM_IOCTL_PRIME_HANDLE_TO_FD (flags DRM_CLOEXEC | DRM_RDWR only, else EINVAL; ENOENT for an
 * unknown handle) and DRM_IOCTL_GEM_CLOSE (EINVAL for an unknown handle), then the driver's
 * `hooks.ioctl`. Any other request fails with EINVAL, as drm_ioctl answers a request it has no
 * entry for. read() returns whole queued events that fit in `count` (nothing when the
 * first does not fit; EAGAIN with O_NONBLOCK and none queued; a blocking read runs the clock through
 * `hooks.waitEvent`, EINTR when nothing can come); poll() reports POLLIN | POLLRDNORM while an
 * event is queued.
 * Pointer fields of an ioctl argument are byte offsets into the argument (the model's
 * convention for user pointers).
 */
export function drmFileOperations(
  info: DrmDriverInfo,
  model: DeviceModel,
  dir: DmaDirection = DMA_BIDIRECTIONAL,
  hooks: DrmDriverHooks = {},
): FileOperations {
  const files = new WeakMap<File, DrmFile>();
  const stateOf = (file: File) => {
    let s = files.get(file);
    if (!s) {
      s = new DrmFile();
      files.set(file, s);
    }
    return s;
  };
  return {
    ioctl: (file, cmd, arg, proc) => {
      const dfile = stateOf(file);
      const c = cmd >>> 0;
      if (c === DRM_IOCTL_VERSION) return version(info, DRM_VERSION_LAYOUT, need(arg, 64));
      if (c === DRM_IOCTL_VERSION32) return version(info, DRM_VERSION32_LAYOUT, need(arg, 36));
      if (c === DRM_IOCTL_PRIME_FD_TO_HANDLE) {
        const a = need(arg, DRM_PRIME_HANDLE_SIZE);
        const v = dv(a);
        const core = model.host.dmaBuf;
        const buf = core.get(proc, v.getInt32(8, true));
        try {
          const own = hooks.gemOf?.(buf);
          const h = own
            ? (dfile.gemHandleOf(own) ?? dfile.addGem(own))
            : (dfile.handleOf(buf) ??
              dfile.add(hooks.importBuffer?.(buf) ?? model.import(buf, dir, true)));
          v.setUint32(0, h, true);
          return 0;
        } finally {
          core.put(buf);
        }
      }
      if (c === DRM_IOCTL_PRIME_HANDLE_TO_FD) {
        const a = need(arg, DRM_PRIME_HANDLE_SIZE);
        const v = dv(a);
        const flags = v.getUint32(4, true);
        if (flags & ~(DRM_CLOEXEC | DRM_RDWR)) {
          throw new KernelError("EINVAL", "drm_prime_handle_to_fd_ioctl", "unknown flags");
        }
        const handle = v.getUint32(0, true);
        const imported = dfile.lookup(handle);
        const own = dfile.lookupGem(handle);
        if (!imported && !own) throw new KernelError("ENOENT", "drm_gem_prime_handle_to_fd");
        const core = model.host.dmaBuf;
        const buf = imported
          ? core.getDmaBuf(imported.buf)
          : (own as DrmGemObject).exportDmaBuf(flags);
        try {
          v.setInt32(8, core.fd(buf, proc, flags & DRM_CLOEXEC), true);
        } catch (e) {
          core.put(buf);
          throw e;
        }
        return 0;
      }
      if (c === DRM_IOCTL_GEM_CLOSE) {
        dfile.close(dv(need(arg, DRM_GEM_CLOSE_SIZE)).getUint32(0, true));
        return 0;
      }
      const r = arg instanceof Uint8Array ? hooks.ioctl?.(dfile, c, arg, proc) : undefined;
      if (r !== undefined) return r;
      throw new KernelError("EINVAL", "drm_ioctl", `request 0x${c.toString(16)} not served`);
    },
    read: (file, count) => {
      const dfile = stateOf(file);
      if (dfile.events.length === 0) {
        if (file.fFlags & O_NONBLOCK) throw new KernelError("EAGAIN", "drm_read");
        hooks.waitEvent?.(dfile);
        if (dfile.events.length === 0) throw new KernelError("EINTR", "drm_read");
      }
      const out: Uint8Array[] = [];
      let n = 0;
      for (const e of dfile.events) {
        if (n + e.length > count) break;
        out.push(e);
        n += e.length;
      }
      if (out.length === 0) return new Uint8Array(0);
      dfile.events.splice(0, out.length);
      const bytes = new Uint8Array(n);
      let at = 0;
      for (const e of out) {
        bytes.set(e, at);
        at += e.length;
      }
      return bytes;
    },
    poll: (file) => (stateOf(file).events.length > 0 ? POLLIN | POLLRDNORM : 0),
    ...(hooks.mmap ? { mmap: (file: File, vma: Vma) => hooks.mmap?.(stateOf(file), vma) } : {}),
    release: (file) => {
      const dfile = files.get(file);
      if (!dfile) return;
      hooks.release?.(dfile);
      dfile.releaseAll();
    },
  };
}

/** rdev of /dev/dri/card`minor`. */
export function drmRdev(minor: number): readonly [number, number] {
  return [DRM_MAJOR, minor];
}

/** DRM primary minors: card0 to card63 (`DRM_MINOR_LIMIT` of the primary type). */
const DRM_PRIMARY_MINORS = 64;

/**
 * Takes the DRM minor of a device of the kernel behind `host` from the kernel's char-device
 * registry (`drm_minor_alloc`): `wanted`, or the lowest free primary minor (the first DRM
 * device is card0; a removed card's minor is the next one handed out).
 * @throws KernelError ENOSPC when `wanted` is held or all 64 primary minors are.
 */
export function drmMinor(host: Pick<DeviceHost, "allocMinor">, wanted?: number): number {
  return wanted === undefined
    ? host.allocMinor(DRM_MAJOR, 0, DRM_PRIMARY_MINORS)
    : host.allocMinor(DRM_MAJOR, wanted, wanted + 1);
}

function need(arg: IoctlArg, size: number): Uint8Array {
  if (!(arg instanceof Uint8Array) || arg.length < size) {
    throw new KernelError("EFAULT", "drm_ioctl", "bad argument");
  }
  return arg;
}

function dv(a: Uint8Array): DataView {
  return new DataView(a.buffer, a.byteOffset, a.byteLength);
}

// drm_copy_field: reports the full length, copies at most the room the caller gave (no NUL).
function version(info: DrmDriverInfo, l: DrmVersionLayout, a: Uint8Array): number {
  const v = dv(a);
  v.setInt32(l.major, info.version[0], true);
  v.setInt32(l.minor, info.version[1], true);
  v.setInt32(l.patchlevel, info.version[2], true);
  const word = (at: number) =>
    l.word === 8 ? Number(v.getBigUint64(at, true)) : v.getUint32(at, true);
  const setWord = (at: number, n: number) => {
    if (l.word === 8) v.setBigUint64(at, BigInt(n), true);
    else v.setUint32(at, n, true);
  };
  const fields: [number, number, string][] = [
    [l.nameLen, l.name, info.name],
    [l.dateLen, l.date, info.date],
    [l.descLen, l.desc, info.desc],
  ];
  for (const [lenAt, ptrAt, text] of fields) {
    const bytes = new TextEncoder().encode(text);
    const room = word(lenAt);
    const ptr = word(ptrAt);
    const n = Math.min(room, bytes.length);
    setWord(lenAt, bytes.length);
    if (n > 0 && ptr !== 0) {
      if (ptr + n > a.length) throw new KernelError("EFAULT", "drm_copy_field");
      a.set(bytes.subarray(0, n), ptr);
    }
  }
  return 0;
}
