// The camera's V4L2 capture node (/dev/videoN): format, dma-buf buffer queue, streaming, poll.

import {
  type DeviceHost,
  type DmaBuf,
  type File,
  type FileOperations,
  type IoctlArg,
  KernelError,
  type Process,
} from "@dmabuf/core";
import {
  O_NONBLOCK,
  POLLERR,
  POLLIN,
  POLLRDNORM,
  V4L2_BUF_CAP_SUPPORTS_DMABUF,
  V4L2_BUF_FLAG_DONE,
  V4L2_BUF_FLAG_QUEUED,
  V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC,
  V4L2_BUF_TYPE_VIDEO_CAPTURE,
  V4L2_BUFFER_LAYOUT,
  V4L2_BUFFER32_LAYOUT,
  V4L2_CAP_DEVICE_CAPS,
  V4L2_CAP_STREAMING,
  V4L2_CAP_VIDEO_CAPTURE,
  V4L2_CAPABILITY_SIZE,
  V4L2_COLORSPACE_SRGB,
  V4L2_FIELD_NONE,
  V4L2_MEMORY_DMABUF,
  V4L2_PIX_FMT_XBGR32,
  V4L2_PIX_FORMAT_LAYOUT,
  V4L2_REQUESTBUFFERS_SIZE,
  type V4l2BufferLayout,
  VIDIOC_DQBUF,
  VIDIOC_DQBUF32,
  VIDIOC_G_FMT,
  VIDIOC_G_FMT32,
  VIDIOC_QBUF,
  VIDIOC_QBUF32,
  VIDIOC_QUERYCAP,
  VIDIOC_REQBUFS,
  VIDIOC_S_FMT,
  VIDIOC_S_FMT32,
  VIDIOC_STREAMOFF,
  VIDIOC_STREAMON,
} from "@dmabuf/core/uapi";
import type { Camera } from "./camera.js";
import type { ImportedBuffer } from "./device-model.js";

/** Major number of V4L2 nodes (/dev/videoN is 81:N). */
export const VIDEO_MAJOR = 81;
/** V4L2 minors (VIDEO_NUM_DEVICES). */
const VIDEO_NUM_DEVICES = 256;

/**
 * Takes the V4L2 minor of a camera of the kernel behind `host` from the kernel's char-device
 * registry: the lowest free one from `wanted` (default 0), as `__video_register_device` looks
 * for a free node number from the one asked for.
 * @throws KernelError ENFILE when none is free from there.
 */
export function v4l2Minor(host: Pick<DeviceHost, "allocMinor">, wanted = 0): number {
  try {
    return host.allocMinor(VIDEO_MAJOR, wanted, VIDEO_NUM_DEVICES);
  } catch (e) {
    if (e instanceof KernelError && e.code === "ENOSPC") {
      throw new KernelError("ENFILE", "__video_register_device", "no free device node number");
    }
    throw e;
  }
}

/** Most buffer slots REQBUFS grants (VIDEO_MAX_FRAME). */
const MAX_BUFFERS = 32;

interface Slot {
  imported: ImportedBuffer | undefined;
  state: "dequeued" | "queued" | "done";
  sequence: number;
  timestampNs: number;
}

function need(arg: IoctlArg, size: number): DataView {
  if (!(arg instanceof Uint8Array) || arg.length < size) {
    throw new KernelError("EFAULT", "video_usercopy", "bad argument");
  }
  return new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
}

function writeStr(a: DataView, at: number, size: number, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, size - 1);
  for (let i = 0; i < size; i++) a.setUint8(at + i, i < bytes.length ? (bytes[i] as number) : 0);
}

/**
 * The V4L2 file operations of a {@link Camera}: one single-planar capture queue in
 * V4L2_MEMORY_DMABUF mode, the path a camera HAL takes to fill buffers it allocated from a
 * heap. Requests served (LP64 and ILP32 encodings where they differ):
 * - VIDIOC_QUERYCAP: driver "dmabuf-camera", VIDEO_CAPTURE | STREAMING.
 * - VIDIOC_G_FMT / S_FMT (type VIDEO_CAPTURE, else EINVAL): one format, XR24 (4 bytes per
 *   pixel, progressive, sRGB); S_FMT clamps the size to 16…4096 and answers the adjusted
 *   format; EBUSY while buffers are allocated.
 * - VIDIOC_REQBUFS: memory DMABUF only (EINVAL otherwise, as vb2 answers an I/O mode the
 *   driver lacks); grants up to 32 slots; count 0 frees them; EBUSY while streaming.
 * - VIDIOC_QBUF: `m.fd` is imported (DMA_FROM_DEVICE) for the slot; EINVAL for a bad index,
 *   memory or type, a slot already queued, or a buffer smaller than `sizeimage`; EBADF for a
 *   bad fd. While streaming each queued buffer is captured, one frame period each.
 * - VIDIOC_DQBUF: the oldest filled buffer (flags DONE, bytesused = sizeimage, a monotonic
 *   timestamp, a frame sequence). EINVAL when not streaming; EAGAIN with O_NONBLOCK and none
 *   filled; a blocking call runs the virtual clock (EINTR when nothing is queued).
 * - VIDIOC_STREAMON / STREAMOFF (type VIDEO_CAPTURE): STREAMON needs slots (EINVAL);
 *   STREAMOFF waits for captures in flight and returns every buffer to user space.
 * - poll(): POLLIN | POLLRDNORM once a buffer is filled; POLLERR when not streaming.
 * Anything else fails with ENOTTY, as video_ioctl2 answers an unknown request.
 */
export function cameraV4l2(camera: Camera): FileOperations {
  const fmt = { width: 640, height: 480 };
  const slots: Slot[] = [];
  const done: number[] = [];
  let streaming = false;
  let owner: File | undefined;
  let sequence = 0;
  const sizeimage = () => fmt.width * fmt.height * 4;

  const capture = (i: number) => {
    const slot = slots[i] as Slot;
    const imported = slot.imported as ImportedBuffer;
    camera.capture(imported).addCallback((fence) => {
      if (slot.state !== "queued") return;
      slot.state = "done";
      slot.sequence = sequence++;
      slot.timestampNs = fence.timestamp ?? camera.host.clock.now;
      done.push(i);
    });
  };

  const fmtIoctl = (arg: IoctlArg, pix: number, set: boolean) => {
    const v = need(arg, pix + 48);
    if (v.getUint32(0, true) !== V4L2_BUF_TYPE_VIDEO_CAPTURE) {
      throw new KernelError("EINVAL", "v4l_g_fmt", "not a video capture format");
    }
    const p = V4L2_PIX_FORMAT_LAYOUT;
    if (set) {
      if (slots.length > 0) throw new KernelError("EBUSY", "vb2_is_busy");
      const clamp = (n: number) => Math.min(4096, Math.max(16, n));
      fmt.width = clamp(v.getUint32(pix + p.width, true));
      fmt.height = clamp(v.getUint32(pix + p.height, true));
    }
    for (let i = 0; i < 48; i++) v.setUint8(pix + i, 0);
    v.setUint32(pix + p.width, fmt.width, true);
    v.setUint32(pix + p.height, fmt.height, true);
    v.setUint32(pix + p.pixelformat, V4L2_PIX_FMT_XBGR32, true);
    v.setUint32(pix + p.field, V4L2_FIELD_NONE, true);
    v.setUint32(pix + p.bytesperline, fmt.width * 4, true);
    v.setUint32(pix + p.sizeimage, sizeimage(), true);
    v.setUint32(pix + p.colorspace, V4L2_COLORSPACE_SRGB, true);
    return 0;
  };

  const stop = () => {
    if (!streaming) return;
    camera.wait();
    streaming = false;
    done.length = 0;
    for (const s of slots) s.state = "dequeued";
  };

  const free = () => {
    for (const s of slots) s.imported?.release();
    slots.length = 0;
    done.length = 0;
  };

  const qbuf = (arg: IoctlArg, l: V4l2BufferLayout, proc: Process) => {
    const v = need(arg, l.size);
    const index = v.getUint32(l.index, true);
    if (v.getUint32(l.type, true) !== V4L2_BUF_TYPE_VIDEO_CAPTURE) {
      throw new KernelError("EINVAL", "vb2_qbuf", "wrong buffer type");
    }
    if (v.getUint32(l.memory, true) !== V4L2_MEMORY_DMABUF) {
      throw new KernelError("EINVAL", "vb2_qbuf", "wrong memory type");
    }
    const slot = slots[index];
    if (!slot) throw new KernelError("EINVAL", "vb2_qbuf", `no buffer ${index}`);
    if (slot.state !== "dequeued") throw new KernelError("EINVAL", "vb2_qbuf", "already queued");
    const core = camera.host.dmaBuf;
    const buf: DmaBuf = core.get(proc, v.getInt32(l.m, true));
    try {
      if (buf.size < sizeimage()) {
        throw new KernelError("EINVAL", "__prepare_dmabuf", "buffer smaller than the image");
      }
      if (slot.imported?.buf !== buf) {
        slot.imported?.release();
        slot.imported = undefined;
        slot.imported = camera.importCapture(buf);
      }
    } finally {
      core.put(buf);
    }
    slot.state = "queued";
    v.setUint32(l.flags, V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC, true);
    v.setUint32(l.length, buf.size, true);
    if (streaming) capture(index);
    return 0;
  };

  const dqbuf = (file: File, arg: IoctlArg, l: V4l2BufferLayout) => {
    const v = need(arg, l.size);
    if (v.getUint32(l.type, true) !== V4L2_BUF_TYPE_VIDEO_CAPTURE) {
      throw new KernelError("EINVAL", "vb2_dqbuf", "wrong buffer type");
    }
    if (!streaming) throw new KernelError("EINVAL", "__vb2_wait_for_done_vb", "not streaming");
    if (done.length === 0) {
      if (file.fFlags & O_NONBLOCK) throw new KernelError("EAGAIN", "vb2_dqbuf");
      camera.host.clock.runUntil(
        () => done.length > 0 || !slots.some((s) => s.state === "queued"),
        Infinity,
      );
      if (done.length === 0) throw new KernelError("EINTR", "vb2_dqbuf");
    }
    const index = done.shift() as number;
    const slot = slots[index] as Slot;
    slot.state = "dequeued";
    for (let i = 0; i < l.size; i++) v.setUint8(i, 0);
    v.setUint32(l.index, index, true);
    v.setUint32(l.type, V4L2_BUF_TYPE_VIDEO_CAPTURE, true);
    v.setUint32(l.bytesused, sizeimage(), true);
    v.setUint32(l.flags, V4L2_BUF_FLAG_DONE | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC, true);
    v.setUint32(l.field, V4L2_FIELD_NONE, true);
    v.setBigInt64(l.timestamp, BigInt(Math.floor(slot.timestampNs / 1e9)), true);
    v.setBigInt64(
      l.timestamp + l.timeWord,
      BigInt(Math.floor((slot.timestampNs % 1e9) / 1e3)),
      true,
    );
    v.setUint32(l.sequence, slot.sequence, true);
    v.setUint32(l.memory, V4L2_MEMORY_DMABUF, true);
    v.setInt32(l.m, -1, true);
    v.setUint32(l.length, slot.imported?.size ?? 0, true);
    return 0;
  };

  const busy = (file: File) => {
    if (owner && owner !== file) throw new KernelError("EBUSY", "vb2_queue_is_busy");
  };

  return {
    ioctl(file, cmd, arg, proc) {
      switch (cmd >>> 0) {
        case VIDIOC_QUERYCAP: {
          const v = need(arg, V4L2_CAPABILITY_SIZE);
          writeStr(v, 0, 16, "dmabuf-camera");
          writeStr(v, 16, 32, "dmabuf model camera");
          writeStr(v, 48, 32, `platform:${camera.device.name}`);
          v.setUint32(80, 0x060c00, true);
          v.setUint32(84, V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS, true);
          v.setUint32(88, V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING, true);
          for (let i = 92; i < 104; i++) v.setUint8(i, 0);
          return 0;
        }
        case VIDIOC_G_FMT:
          return fmtIoctl(arg, 8, false);
        case VIDIOC_G_FMT32:
          return fmtIoctl(arg, 4, false);
        case VIDIOC_S_FMT:
          busy(file);
          return fmtIoctl(arg, 8, true);
        case VIDIOC_S_FMT32:
          busy(file);
          return fmtIoctl(arg, 4, true);
        case VIDIOC_REQBUFS: {
          const v = need(arg, V4L2_REQUESTBUFFERS_SIZE);
          if (v.getUint32(4, true) !== V4L2_BUF_TYPE_VIDEO_CAPTURE) {
            throw new KernelError("EINVAL", "vb2_reqbufs", "wrong buffer type");
          }
          if (v.getUint32(8, true) !== V4L2_MEMORY_DMABUF) {
            throw new KernelError("EINVAL", "vb2_verify_memory_type", "only DMABUF is served");
          }
          busy(file);
          if (streaming) throw new KernelError("EBUSY", "vb2_core_reqbufs", "streaming");
          free();
          const count = Math.min(v.getUint32(0, true), MAX_BUFFERS);
          for (let i = 0; i < count; i++) {
            slots.push({ imported: undefined, state: "dequeued", sequence: 0, timestampNs: 0 });
          }
          owner = count > 0 ? file : undefined;
          v.setUint32(0, count, true);
          v.setUint32(12, V4L2_BUF_CAP_SUPPORTS_DMABUF, true);
          return 0;
        }
        case VIDIOC_QBUF:
          busy(file);
          return qbuf(arg, V4L2_BUFFER_LAYOUT, proc);
        case VIDIOC_QBUF32:
          busy(file);
          return qbuf(arg, V4L2_BUFFER32_LAYOUT, proc);
        case VIDIOC_DQBUF:
          busy(file);
          return dqbuf(file, arg, V4L2_BUFFER_LAYOUT);
        case VIDIOC_DQBUF32:
          busy(file);
          return dqbuf(file, arg, V4L2_BUFFER32_LAYOUT);
        case VIDIOC_STREAMON:
        case VIDIOC_STREAMOFF: {
          const v = need(arg, 4);
          if (v.getUint32(0, true) !== V4L2_BUF_TYPE_VIDEO_CAPTURE) {
            throw new KernelError("EINVAL", "vb2_streamon", "wrong buffer type");
          }
          busy(file);
          if (cmd >>> 0 === VIDIOC_STREAMOFF) {
            stop();
            return 0;
          }
          if (slots.length === 0)
            throw new KernelError("EINVAL", "vb2_core_streamon", "no buffers");
          if (streaming) return 0;
          streaming = true;
          slots.forEach((s, i) => {
            if (s.state === "queued") capture(i);
          });
          return 0;
        }
        default:
          throw new KernelError("ENOTTY", "video_ioctl2", `request 0x${(cmd >>> 0).toString(16)}`);
      }
    },
    poll(file) {
      if (!streaming || (owner && owner !== file)) return POLLERR;
      return done.length > 0 ? POLLIN | POLLRDNORM : 0;
    },
    release(file) {
      if (owner !== file) return;
      stop();
      free();
      owner = undefined;
    },
  };
}
