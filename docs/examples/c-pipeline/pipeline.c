/*
 * A camera -> CPU -> display pipeline over the Linux UAPIs. The camera captures into dma-bufs
 * from the CMA heap through V4L2 (V4L2_MEMORY_DMABUF). The CPU reads each frame and writes an
 * inverted copy into one of two framebuffers, each access bracketed by DMA_BUF_IOCTL_SYNC. The
 * display imports the framebuffers with PRIME, shows the first with SETCRTC and then
 * double-buffers with PAGE_FLIP, awaiting each flip's event with poll() and read().
 *
 * Build with -DFORGET_SYNC_END to drop the DMA_BUF_SYNC_END of frame 2's framebuffer: the
 * display then reads memory the CPU's writes have not reached, which dmabuf-run reports.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/videodev2.h>

#define WIDTH 64
#define HEIGHT 32
#define PITCH (WIDTH * 4)
#define SIZE (PITCH * HEIGHT)
#define FRAMES 4
#define CAMERA_BUFFERS 2
/* The model display's one CRTC; a real compositor finds it with DRM_IOCTL_MODE_GETRESOURCES. */

struct buffer {
  int dmabuf;
  uint32_t *pixels;
  uint32_t handle;
  uint32_t fb_id;
};

static int fail(const char *what) {
  perror(what);
  return 1;
}

static int cpu_access(int dmabuf, uint64_t flags) {
  struct dma_buf_sync sync = {.flags = flags};
  return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync);
}

static int alloc_mapped(int heap, struct buffer *b, int prot) {
  struct dma_heap_allocation_data alloc = {.len = SIZE, .fd_flags = O_RDWR | O_CLOEXEC};
  if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc)) return fail("DMA_HEAP_IOCTL_ALLOC");
  b->dmabuf = (int)alloc.fd;
  b->pixels = mmap(NULL, SIZE, prot, MAP_SHARED, b->dmabuf, 0);
  if (b->pixels == MAP_FAILED) return fail("mmap");
  return 0;
}

static int add_framebuffer(int card, struct buffer *b) {
  struct drm_prime_handle prime = {.fd = b->dmabuf};
  if (ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime)) return fail("PRIME_FD_TO_HANDLE");
  b->handle = prime.handle;
  struct drm_mode_fb_cmd2 cmd = {.width = WIDTH, .height = HEIGHT};
  cmd.pixel_format = DRM_FORMAT_XRGB8888;
  cmd.handles[0] = b->handle;
  cmd.pitches[0] = PITCH;
  if (ioctl(card, DRM_IOCTL_MODE_ADDFB2, &cmd)) return fail("MODE_ADDFB2");
  b->fb_id = cmd.fb_id;
  return 0;
}

static int start_camera(int video, int heap, struct buffer *cam) {
  struct v4l2_format fmt = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  fmt.fmt.pix.width = WIDTH;
  fmt.fmt.pix.height = HEIGHT;
  fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_XBGR32;
  if (ioctl(video, VIDIOC_S_FMT, &fmt)) return fail("VIDIOC_S_FMT");
  if (fmt.fmt.pix.sizeimage != SIZE) return fail("unexpected image size");
  struct v4l2_requestbuffers req = {
      .count = CAMERA_BUFFERS, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF};
  if (ioctl(video, VIDIOC_REQBUFS, &req)) return fail("VIDIOC_REQBUFS");
  for (unsigned i = 0; i < CAMERA_BUFFERS; i++) {
    if (alloc_mapped(heap, &cam[i], PROT_READ)) return 1;
    struct v4l2_buffer qb = {
        .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF};
    qb.m.fd = cam[i].dmabuf;
    if (ioctl(video, VIDIOC_QBUF, &qb)) return fail("VIDIOC_QBUF");
  }
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (ioctl(video, VIDIOC_STREAMON, &type)) return fail("VIDIOC_STREAMON");
  return 0;
}

/* Waits for the next camera frame, inverts it into `fb`, and gives the camera buffer back. */
static int process(int video, struct buffer *cam, struct buffer *fb, int frame) {
  struct v4l2_buffer dq = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF};
  if (ioctl(video, VIDIOC_DQBUF, &dq)) return fail("VIDIOC_DQBUF");
  struct buffer *src = &cam[dq.index];
  if (cpu_access(src->dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) return fail("SYNC_START");
  if (cpu_access(fb->dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)) return fail("SYNC_START");
  for (int i = 0; i < WIDTH * HEIGHT; i++) fb->pixels[i] = ~src->pixels[i] | 0xff000000u;
  if (cpu_access(src->dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)) return fail("SYNC_END");
#ifdef FORGET_SYNC_END
  if (frame != 2) /* the bug: frame 2 reaches the display before the CPU's writes are flushed */
#endif
    if (cpu_access(fb->dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)) return fail("SYNC_END");
  printf("frame %d: camera sequence %u, ", frame, dq.sequence);
  struct v4l2_buffer qb = {
      .index = dq.index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF};
  qb.m.fd = src->dmabuf;
  if (ioctl(video, VIDIOC_QBUF, &qb)) return fail("VIDIOC_QBUF");
  return 0;
}

static int wait_flip(int card, int frame) {
  struct pollfd pfd = {.fd = card, .events = POLLIN};
  if (poll(&pfd, 1, 1000) != 1) return fail("poll");
  struct drm_event_vblank ev;
  if (read(card, &ev, sizeof ev) != (ssize_t)sizeof ev) return fail("read");
  if (ev.base.type != DRM_EVENT_FLIP_COMPLETE || ev.user_data != (uint64_t)frame) {
    fprintf(stderr, "unexpected event %u for %llu\n", ev.base.type,
            (unsigned long long)ev.user_data);
    return 1;
  }
  printf("on screen at scanout frame %u\n", ev.sequence);
  return 0;
}

int main(void) {
  int heap = open("/dev/dma_heap/default_cma_region", O_RDONLY | O_CLOEXEC);
  if (heap < 0) return fail("open /dev/dma_heap/default_cma_region");
  int video = open("/dev/video0", O_RDWR | O_CLOEXEC);
  if (video < 0) return fail("open /dev/video0");
  int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
  if (card < 0) return fail("open /dev/dri/card0");

  struct buffer cam[CAMERA_BUFFERS], fbs[2];
  for (int i = 0; i < 2; i++)
    if (alloc_mapped(heap, &fbs[i], PROT_READ | PROT_WRITE) || add_framebuffer(card, &fbs[i]))
      return 1;
  if (start_camera(video, heap, cam)) return 1;

  if (process(video, cam, &fbs[0], 0)) return 1;
  uint32_t crtc_id, connector;
  struct drm_mode_card_res res = {.crtc_id_ptr = (uint64_t)(uintptr_t)&crtc_id,
                                  .connector_id_ptr = (uint64_t)(uintptr_t)&connector,
                                  .count_crtcs = 1,
                                  .count_connectors = 1};
  if (ioctl(card, DRM_IOCTL_MODE_GETRESOURCES, &res)) return fail("MODE_GETRESOURCES");
  struct drm_mode_crtc crtc = {.crtc_id = crtc_id, .fb_id = fbs[0].fb_id, .mode_valid = 1};
  crtc.set_connectors_ptr = (uint64_t)(uintptr_t)&connector;
  crtc.count_connectors = 1;
  if (ioctl(card, DRM_IOCTL_MODE_SETCRTC, &crtc)) return fail("MODE_SETCRTC");
  printf("on screen (modeset)\n");

  for (int frame = 1; frame < FRAMES; frame++) {
    struct buffer *back = &fbs[frame % 2];
    if (process(video, cam, back, frame)) return 1;
    struct drm_mode_crtc_page_flip flip = {
        .crtc_id = crtc_id,
        .fb_id = back->fb_id,
        .flags = DRM_MODE_PAGE_FLIP_EVENT,
        .user_data = (uint64_t)frame,
    };
    if (ioctl(card, DRM_IOCTL_MODE_PAGE_FLIP, &flip)) return fail("MODE_PAGE_FLIP");
    if (wait_flip(card, frame)) return 1;
  }

  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  ioctl(video, VIDIOC_STREAMOFF, &type);
  for (int i = 0; i < CAMERA_BUFFERS; i++) {
    munmap(cam[i].pixels, SIZE);
    close(cam[i].dmabuf);
  }
  for (int i = 0; i < 2; i++) {
    ioctl(card, DRM_IOCTL_MODE_RMFB, &fbs[i].fb_id);
    struct drm_gem_close gem = {.handle = fbs[i].handle};
    ioctl(card, DRM_IOCTL_GEM_CLOSE, &gem);
    munmap(fbs[i].pixels, SIZE);
    close(fbs[i].dmabuf);
  }
  close(card);
  close(video);
  close(heap);
  return 0;
}
