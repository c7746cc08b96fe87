// The uapi headers dmabuf-cc gives C programs: written for this project, checked against core.

import * as core from "@dmabuf/core/uapi";
import type { SourceTree } from "./compile.js";

const hex = (n: number) => `0x${(n >>> 0).toString(16)}u`;

/** `_Static_assert`s that the header's request numbers and sizes equal the model's. */
function checks(pairs: readonly [expr: string, value: number][]): string {
  return pairs
    .map(
      ([expr, value]) =>
        `_Static_assert((${expr}) == ${hex(value)}, "${expr} differs from the model");`,
    )
    .join("\n");
}

const TYPES = `/* Fixed-width types of the Linux uapi. */
#ifndef _LINUX_TYPES_H
#define _LINUX_TYPES_H
typedef signed char __s8;
typedef unsigned char __u8;
typedef signed short __s16;
typedef unsigned short __u16;
typedef signed int __s32;
typedef unsigned int __u32;
typedef signed long long __s64 __attribute__((aligned(8)));
typedef unsigned long long __u64 __attribute__((aligned(8)));
#endif
`;

const IOCTL = `/* ioctl request encoding (asm-generic): dir:2 size:14 type:8 nr:8. */
#ifndef _LINUX_IOCTL_H
#define _LINUX_IOCTL_H
#define _IOC_NONE 0U
#define _IOC_WRITE 1U
#define _IOC_READ 2U
#define _IOC(dir, type, nr, size) \\
  (((unsigned)(dir) << 30) | ((unsigned)(size) << 16) | ((unsigned)(type) << 8) | (unsigned)(nr))
#define _IO(type, nr) _IOC(_IOC_NONE, (type), (nr), 0)
#define _IOR(type, nr, T) _IOC(_IOC_READ, (type), (nr), sizeof(T))
#define _IOW(type, nr, T) _IOC(_IOC_WRITE, (type), (nr), sizeof(T))
#define _IOWR(type, nr, T) _IOC(_IOC_READ | _IOC_WRITE, (type), (nr), sizeof(T))
#endif
`;

function dmaHeap(): string {
  return `/* DMA-BUF heaps: allocate a dma-buf from /dev/dma_heap/<name>. */
#ifndef _LINUX_DMA_HEAP_H
#define _LINUX_DMA_HEAP_H
#include <linux/ioctl.h>
#include <linux/types.h>
#define DMA_HEAP_VALID_FD_FLAGS (O_CLOEXEC | O_ACCMODE)
#define DMA_HEAP_VALID_HEAP_FLAGS (0ULL)
struct dma_heap_allocation_data {
  __u64 len;
  __u32 fd;
  __u32 fd_flags;
  __u64 heap_flags;
};
#define DMA_HEAP_IOC_MAGIC 'H'
#define DMA_HEAP_IOCTL_ALLOC _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct dma_heap_allocation_data)
${checks([
  ["DMA_HEAP_IOCTL_ALLOC", core.DMA_HEAP_IOCTL_ALLOC],
  ["sizeof(struct dma_heap_allocation_data)", core.DMA_HEAP_ALLOCATION_DATA_SIZE],
])}
#endif
`;
}

function dmaBuf(): string {
  return `/* dma-buf file ioctls: CPU access sync, naming, implicit-fence import/export. */
#ifndef _LINUX_DMA_BUF_H
#define _LINUX_DMA_BUF_H
#include <linux/ioctl.h>
#include <linux/types.h>
struct dma_buf_sync {
  __u64 flags;
};
#define DMA_BUF_SYNC_READ (1 << 0)
#define DMA_BUF_SYNC_WRITE (2 << 0)
#define DMA_BUF_SYNC_RW (DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE)
#define DMA_BUF_SYNC_START (0 << 2)
#define DMA_BUF_SYNC_END (1 << 2)
#define DMA_BUF_SYNC_VALID_FLAGS_MASK (DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END)
#define DMA_BUF_NAME_LEN 32
struct dma_buf_export_sync_file {
  __u32 flags;
  __s32 fd;
};
struct dma_buf_import_sync_file {
  __u32 flags;
  __s32 fd;
};
#define DMA_BUF_BASE 'b'
#define DMA_BUF_IOCTL_SYNC _IOW(DMA_BUF_BASE, 0, struct dma_buf_sync)
#define DMA_BUF_SET_NAME _IOW(DMA_BUF_BASE, 1, const char *)
#define DMA_BUF_SET_NAME_A _IOW(DMA_BUF_BASE, 1, __u32)
#define DMA_BUF_SET_NAME_B _IOW(DMA_BUF_BASE, 1, __u64)
#define DMA_BUF_IOCTL_EXPORT_SYNC_FILE _IOWR(DMA_BUF_BASE, 2, struct dma_buf_export_sync_file)
#define DMA_BUF_IOCTL_IMPORT_SYNC_FILE _IOW(DMA_BUF_BASE, 3, struct dma_buf_import_sync_file)
${checks([
  ["DMA_BUF_IOCTL_SYNC", core.DMA_BUF_IOCTL_SYNC],
  ["DMA_BUF_SET_NAME_A", core.DMA_BUF_SET_NAME_A],
  ["DMA_BUF_SET_NAME_B", core.DMA_BUF_SET_NAME_B],
  ["DMA_BUF_IOCTL_EXPORT_SYNC_FILE", core.DMA_BUF_IOCTL_EXPORT_SYNC_FILE],
  ["DMA_BUF_IOCTL_IMPORT_SYNC_FILE", core.DMA_BUF_IOCTL_IMPORT_SYNC_FILE],
])}
#endif
`;
}

function udmabuf(): string {
  return `/* /dev/udmabuf: a dma-buf over memfd pages. */
#ifndef _LINUX_UDMABUF_H
#define _LINUX_UDMABUF_H
#include <linux/ioctl.h>
#include <linux/types.h>
#define UDMABUF_FLAGS_CLOEXEC 0x01
struct udmabuf_create {
  __u32 memfd;
  __u32 flags;
  __u64 offset;
  __u64 size;
};
struct udmabuf_create_item {
  __u32 memfd;
  __u32 __pad;
  __u64 offset;
  __u64 size;
};
struct udmabuf_create_list {
  __u32 flags;
  __u32 count;
  struct udmabuf_create_item list[];
};
#define UDMABUF_CREATE _IOW('u', 0x42, struct udmabuf_create)
#define UDMABUF_CREATE_LIST _IOW('u', 0x43, struct udmabuf_create_list)
${checks([
  ["UDMABUF_CREATE", core.UDMABUF_CREATE],
  ["UDMABUF_CREATE_LIST", core.UDMABUF_CREATE_LIST],
  ["sizeof(struct udmabuf_create_item)", core.UDMABUF_CREATE_ITEM_SIZE],
])}
#endif
`;
}

function syncFile(): string {
  return `/* sync_file: a file holding a fence (merge, info, deadline). */
#ifndef _LINUX_SYNC_H
#define _LINUX_SYNC_H
#include <linux/ioctl.h>
#include <linux/types.h>
struct sync_merge_data {
  char name[32];
  __s32 fd2;
  __s32 fence;
  __u32 flags;
  __u32 pad;
};
struct sync_fence_info {
  char obj_name[32];
  char driver_name[32];
  __s32 status;
  __u32 flags;
  __u64 timestamp_ns;
};
struct sync_file_info {
  char name[32];
  __s32 status;
  __u32 flags;
  __u32 num_fences;
  __u32 pad;
  __u64 sync_fence_info;
};
struct sync_set_deadline {
  __u64 deadline_ns;
  __u64 pad;
};
#define SYNC_IOC_MAGIC '>'
#define SYNC_IOC_MERGE _IOWR(SYNC_IOC_MAGIC, 3, struct sync_merge_data)
#define SYNC_IOC_FILE_INFO _IOWR(SYNC_IOC_MAGIC, 4, struct sync_file_info)
#define SYNC_IOC_SET_DEADLINE _IOW(SYNC_IOC_MAGIC, 5, struct sync_set_deadline)
${checks([
  ["SYNC_IOC_MERGE", core.SYNC_IOC_MERGE],
  ["SYNC_IOC_FILE_INFO", core.SYNC_IOC_FILE_INFO],
  ["SYNC_IOC_SET_DEADLINE", core.SYNC_IOC_SET_DEADLINE],
  ["sizeof(struct sync_fence_info)", core.SYNC_FENCE_INFO_SIZE],
])}
#endif
`;
}

function drm(): string {
  return `/* DRM: driver version, GEM handles and PRIME import/export (the subset the model serves). */
#ifndef _DRM_H_
#define _DRM_H_
#include <linux/ioctl.h>
#include <linux/types.h>
#include <stddef.h>
#define DRM_IOCTL_BASE 'd'
#define DRM_IOWR(nr, T) _IOWR(DRM_IOCTL_BASE, nr, T)
#define DRM_IOW(nr, T) _IOW(DRM_IOCTL_BASE, nr, T)
typedef struct drm_version {
  int version_major;
  int version_minor;
  int version_patchlevel;
  size_t name_len;
  char *name;
  size_t date_len;
  char *date;
  size_t desc_len;
  char *desc;
} drm_version_t;
struct drm_gem_close {
  __u32 handle;
  __u32 pad;
};
#define DRM_CLOEXEC O_CLOEXEC
#define DRM_RDWR O_RDWR
struct drm_prime_handle {
  __u32 handle;
  __u32 flags;
  __s32 fd;
};
#define DRM_IOCTL_VERSION DRM_IOWR(0x00, struct drm_version)
#define DRM_IOCTL_GEM_CLOSE DRM_IOW(0x09, struct drm_gem_close)
#define DRM_IOCTL_PRIME_HANDLE_TO_FD DRM_IOWR(0x2d, struct drm_prime_handle)
#define DRM_IOCTL_PRIME_FD_TO_HANDLE DRM_IOWR(0x2e, struct drm_prime_handle)
#include <drm/drm_mode.h>
#define DRM_IOCTL_MODE_GETRESOURCES DRM_IOWR(0xA0, struct drm_mode_card_res)
#define DRM_IOCTL_MODE_SETCRTC DRM_IOWR(0xA2, struct drm_mode_crtc)
#define DRM_IOCTL_MODE_RMFB DRM_IOWR(0xAF, unsigned int)
#define DRM_IOCTL_MODE_PAGE_FLIP DRM_IOWR(0xB0, struct drm_mode_crtc_page_flip)
#define DRM_IOCTL_MODE_ADDFB2 DRM_IOWR(0xB8, struct drm_mode_fb_cmd2)
#define DRM_IOCTL_MODE_CREATE_DUMB DRM_IOWR(0xB2, struct drm_mode_create_dumb)
#define DRM_IOCTL_MODE_MAP_DUMB DRM_IOWR(0xB3, struct drm_mode_map_dumb)
#define DRM_IOCTL_MODE_DESTROY_DUMB DRM_IOWR(0xB4, struct drm_mode_destroy_dumb)
struct drm_event {
  __u32 type;
  __u32 length;
};
#define DRM_EVENT_FLIP_COMPLETE 0x02
struct drm_event_vblank {
  struct drm_event base;
  __u64 user_data;
  __u32 tv_sec;
  __u32 tv_usec;
  __u32 sequence;
  __u32 crtc_id;
};
/* wasm32 is ILP32: drm_version takes the 32-bit (compat) layout. */
${checks([
  ["DRM_IOCTL_VERSION", core.DRM_IOCTL_VERSION32],
  ["sizeof(struct drm_version)", core.DRM_VERSION32_LAYOUT.size],
  ["offsetof(struct drm_version, desc)", core.DRM_VERSION32_LAYOUT.desc],
  ["DRM_IOCTL_GEM_CLOSE", core.DRM_IOCTL_GEM_CLOSE],
  ["DRM_IOCTL_PRIME_HANDLE_TO_FD", core.DRM_IOCTL_PRIME_HANDLE_TO_FD],
  ["DRM_IOCTL_PRIME_FD_TO_HANDLE", core.DRM_IOCTL_PRIME_FD_TO_HANDLE],
  ["DRM_IOCTL_MODE_GETRESOURCES", core.DRM_IOCTL_MODE_GETRESOURCES],
  ["DRM_IOCTL_MODE_SETCRTC", core.DRM_IOCTL_MODE_SETCRTC],
  ["DRM_IOCTL_MODE_RMFB", core.DRM_IOCTL_MODE_RMFB],
  ["DRM_IOCTL_MODE_PAGE_FLIP", core.DRM_IOCTL_MODE_PAGE_FLIP],
  ["DRM_IOCTL_MODE_ADDFB2", core.DRM_IOCTL_MODE_ADDFB2],
  ["DRM_IOCTL_MODE_CREATE_DUMB", core.DRM_IOCTL_MODE_CREATE_DUMB],
  ["DRM_IOCTL_MODE_MAP_DUMB", core.DRM_IOCTL_MODE_MAP_DUMB],
  ["DRM_IOCTL_MODE_DESTROY_DUMB", core.DRM_IOCTL_MODE_DESTROY_DUMB],
  ["DRM_EVENT_FLIP_COMPLETE", core.DRM_EVENT_FLIP_COMPLETE],
  ["sizeof(struct drm_event_vblank)", core.DRM_EVENT_VBLANK_LAYOUT.size],
  ["offsetof(struct drm_event_vblank, crtc_id)", core.DRM_EVENT_VBLANK_LAYOUT.crtcId],
])}
#endif
`;
}

function drmMode(): string {
  return `/* KMS: framebuffers, CRTC mode setting and page flips (the subset the model serves). */
#ifndef _DRM_MODE_H
#define _DRM_MODE_H
#include <linux/types.h>
#include <stddef.h>
#define DRM_DISPLAY_MODE_LEN 32
#define DRM_MODE_PAGE_FLIP_EVENT 0x01
#define fourcc_code(a, b, c, d) \
  ((__u32)(a) | ((__u32)(b) << 8) | ((__u32)(c) << 16) | ((__u32)(d) << 24))
#define DRM_FORMAT_XRGB8888 fourcc_code('X', 'R', '2', '4')
#define DRM_FORMAT_ARGB8888 fourcc_code('A', 'R', '2', '4')
struct drm_mode_modeinfo {
  __u32 clock;
  __u16 hdisplay, hsync_start, hsync_end, htotal, hskew;
  __u16 vdisplay, vsync_start, vsync_end, vtotal, vscan;
  __u32 vrefresh;
  __u32 flags;
  __u32 type;
  char name[DRM_DISPLAY_MODE_LEN];
};
struct drm_mode_card_res {
  __u64 fb_id_ptr;
  __u64 crtc_id_ptr;
  __u64 connector_id_ptr;
  __u64 encoder_id_ptr;
  __u32 count_fbs;
  __u32 count_crtcs;
  __u32 count_connectors;
  __u32 count_encoders;
  __u32 min_width;
  __u32 max_width;
  __u32 min_height;
  __u32 max_height;
};
struct drm_mode_crtc {
  __u64 set_connectors_ptr;
  __u32 count_connectors;
  __u32 crtc_id;
  __u32 fb_id;
  __u32 x, y;
  __u32 gamma_size;
  __u32 mode_valid;
  struct drm_mode_modeinfo mode;
};
struct drm_mode_fb_cmd2 {
  __u32 fb_id;
  __u32 width;
  __u32 height;
  __u32 pixel_format;
  __u32 flags;
  __u32 handles[4];
  __u32 pitches[4];
  __u32 offsets[4];
  __u64 modifier[4];
};
/* Only u32/u64 members: the same layout for LP64 and wasm32 (no compat translation). */
struct drm_mode_create_dumb {
  __u32 height;
  __u32 width;
  __u32 bpp;
  __u32 flags;
  __u32 handle;
  __u32 pitch;
  __u64 size;
};
struct drm_mode_map_dumb {
  __u32 handle;
  __u32 pad;
  __u64 offset;
};
struct drm_mode_destroy_dumb {
  __u32 handle;
};
struct drm_mode_crtc_page_flip {
  __u32 crtc_id;
  __u32 fb_id;
  __u32 flags;
  __u32 reserved;
  __u64 user_data;
};
${checks([
  ["DRM_FORMAT_XRGB8888", core.DRM_FORMAT_XRGB8888],
  ["DRM_FORMAT_ARGB8888", core.DRM_FORMAT_ARGB8888],
  ["DRM_MODE_PAGE_FLIP_EVENT", core.DRM_MODE_PAGE_FLIP_EVENT],
  ["sizeof(struct drm_mode_modeinfo)", core.DRM_MODE_MODEINFO_SIZE],
  ["sizeof(struct drm_mode_card_res)", core.DRM_MODE_CARD_RES_LAYOUT.size],
  ["offsetof(struct drm_mode_card_res, count_fbs)", core.DRM_MODE_CARD_RES_LAYOUT.countFbs],
  ["sizeof(struct drm_mode_crtc)", core.DRM_MODE_CRTC_LAYOUT.size],
  ["offsetof(struct drm_mode_crtc, mode)", core.DRM_MODE_CRTC_LAYOUT.mode],
  ["sizeof(struct drm_mode_fb_cmd2)", core.DRM_MODE_FB_CMD2_LAYOUT.size],
  ["offsetof(struct drm_mode_fb_cmd2, modifier)", core.DRM_MODE_FB_CMD2_LAYOUT.modifier],
  ["sizeof(struct drm_mode_crtc_page_flip)", core.DRM_MODE_PAGE_FLIP_LAYOUT.size],
  ["sizeof(struct drm_mode_create_dumb)", core.DRM_MODE_CREATE_DUMB_SIZE],
  ["offsetof(struct drm_mode_create_dumb, size)", 24],
  ["sizeof(struct drm_mode_map_dumb)", core.DRM_MODE_MAP_DUMB_SIZE],
  ["offsetof(struct drm_mode_map_dumb, offset)", 8],
  ["sizeof(struct drm_mode_destroy_dumb)", core.DRM_MODE_DESTROY_DUMB_SIZE],
])}
#endif
`;
}

function videodev2(): string {
  return `/* V4L2: single-planar video capture into dma-buf buffers (the subset the model serves). */
#ifndef _UAPI__LINUX_VIDEODEV2_H
#define _UAPI__LINUX_VIDEODEV2_H
#include <linux/ioctl.h>
#include <linux/types.h>
#include <stddef.h>
#include <sys/time.h>
#define v4l2_fourcc(a, b, c, d) \
  ((__u32)(a) | ((__u32)(b) << 8) | ((__u32)(c) << 16) | ((__u32)(d) << 24))
#define V4L2_PIX_FMT_XBGR32 v4l2_fourcc('X', 'R', '2', '4')
enum v4l2_field { V4L2_FIELD_ANY = 0, V4L2_FIELD_NONE = 1 };
enum v4l2_buf_type { V4L2_BUF_TYPE_VIDEO_CAPTURE = 1 };
enum v4l2_memory { V4L2_MEMORY_MMAP = 1, V4L2_MEMORY_USERPTR = 2, V4L2_MEMORY_OVERLAY = 3, V4L2_MEMORY_DMABUF = 4 };
#define V4L2_COLORSPACE_SRGB 8
#define V4L2_CAP_VIDEO_CAPTURE 0x00000001
#define V4L2_CAP_STREAMING 0x04000000
#define V4L2_CAP_DEVICE_CAPS 0x80000000
#define V4L2_BUF_CAP_SUPPORTS_DMABUF (1 << 2)
#define V4L2_BUF_FLAG_QUEUED 0x00000002
#define V4L2_BUF_FLAG_DONE 0x00000004
#define V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC 0x00002000
struct v4l2_capability {
  __u8 driver[16];
  __u8 card[32];
  __u8 bus_info[32];
  __u32 version;
  __u32 capabilities;
  __u32 device_caps;
  __u32 reserved[3];
};
struct v4l2_pix_format {
  __u32 width;
  __u32 height;
  __u32 pixelformat;
  __u32 field;
  __u32 bytesperline;
  __u32 sizeimage;
  __u32 colorspace;
  __u32 priv;
  __u32 flags;
  __u32 ycbcr_enc;
  __u32 quantization;
  __u32 xfer_func;
};
struct v4l2_format {
  __u32 type;
  union {
    struct v4l2_pix_format pix;
    void *window_placeholder[2]; /* v4l2_window holds pointers: the union is pointer-aligned */
    __u8 raw_data[200];
  } fmt;
};
struct v4l2_requestbuffers {
  __u32 count;
  __u32 type;
  __u32 memory;
  __u32 capabilities;
  __u8 flags;
  __u8 reserved[3];
};
struct v4l2_timecode {
  __u32 type;
  __u32 flags;
  __u8 frames;
  __u8 seconds;
  __u8 minutes;
  __u8 hours;
  __u8 userbits[4];
};
struct v4l2_buffer {
  __u32 index;
  __u32 type;
  __u32 bytesused;
  __u32 flags;
  __u32 field;
  struct timeval timestamp;
  struct v4l2_timecode timecode;
  __u32 sequence;
  __u32 memory;
  union {
    __u32 offset;
    unsigned long userptr;
    void *planes;
    __s32 fd;
  } m;
  __u32 length;
  __u32 reserved2;
  union {
    __s32 request_fd;
    __u32 reserved;
  };
};
#define VIDIOC_QUERYCAP _IOR('V', 0, struct v4l2_capability)
#define VIDIOC_G_FMT _IOWR('V', 4, struct v4l2_format)
#define VIDIOC_S_FMT _IOWR('V', 5, struct v4l2_format)
#define VIDIOC_REQBUFS _IOWR('V', 8, struct v4l2_requestbuffers)
#define VIDIOC_QBUF _IOWR('V', 15, struct v4l2_buffer)
#define VIDIOC_DQBUF _IOWR('V', 17, struct v4l2_buffer)
#define VIDIOC_STREAMON _IOW('V', 18, int)
#define VIDIOC_STREAMOFF _IOW('V', 19, int)
/* wasm32 is ILP32 with a 64-bit time_t: v4l2_buffer and v4l2_format take their 32-bit sizes. */
${checks([
  ["VIDIOC_QUERYCAP", core.VIDIOC_QUERYCAP],
  ["VIDIOC_G_FMT", core.VIDIOC_G_FMT32],
  ["VIDIOC_S_FMT", core.VIDIOC_S_FMT32],
  ["VIDIOC_REQBUFS", core.VIDIOC_REQBUFS],
  ["VIDIOC_QBUF", core.VIDIOC_QBUF32],
  ["VIDIOC_DQBUF", core.VIDIOC_DQBUF32],
  ["VIDIOC_STREAMON", core.VIDIOC_STREAMON],
  ["VIDIOC_STREAMOFF", core.VIDIOC_STREAMOFF],
  ["V4L2_PIX_FMT_XBGR32", core.V4L2_PIX_FMT_XBGR32],
  ["sizeof(struct v4l2_buffer)", core.V4L2_BUFFER32_LAYOUT.size],
  ["offsetof(struct v4l2_buffer, timestamp)", core.V4L2_BUFFER32_LAYOUT.timestamp],
  ["offsetof(struct v4l2_buffer, sequence)", core.V4L2_BUFFER32_LAYOUT.sequence],
  ["offsetof(struct v4l2_buffer, m)", core.V4L2_BUFFER32_LAYOUT.m],
  ["offsetof(struct v4l2_buffer, length)", core.V4L2_BUFFER32_LAYOUT.length],
  ["sizeof(struct v4l2_format)", core.V4L2_FORMAT32_SIZE],
  ["offsetof(struct v4l2_format, fmt.pix.sizeimage)", 4 + core.V4L2_PIX_FORMAT_LAYOUT.sizeimage],
])}
#endif
`;
}

/**
 * `drm/{drm,drm_mode}.h` (the DRM subset the model's DRM nodes serve) and
 * `linux/{types,ioctl,dma-buf,dma-heap,udmabuf,sync_file,memfd,videodev2}.h` for programs
 * that include them: the same names and layouts as Linux's uapi, with `_Static_assert`s that
 * every request number and struct size equals the model's, so a header and the model cannot
 * drift apart.
 * (Flag values such as `MFD_*` and `O_*` come from the force-included ABI header.)
 */
export function uapiHeaders(): SourceTree {
  return {
    linux: {
      "types.h": TYPES,
      "ioctl.h": IOCTL,
      "dma-heap.h": dmaHeap(),
      "dma-buf.h": dmaBuf(),
      "udmabuf.h": udmabuf(),
      "sync_file.h": syncFile(),
      "memfd.h": "/* MFD_* flags come from the dmabuf ABI header. */\n",
      "videodev2.h": videodev2(),
    },
    drm: { "drm.h": drm(), "drm_mode.h": drmMode() },
  };
}
