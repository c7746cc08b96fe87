/*
 * A render -> display pipeline over the Linux UAPIs: two framebuffers from the CMA dma-buf
 * heap, drawn by the CPU (bracketed by DMA_BUF_IOCTL_SYNC), imported into the display with
 * PRIME, shown with SETCRTC and then double-buffered with PAGE_FLIP, each flip awaited with
 * poll() and its completion event read from the DRM fd.
 *
 * Build with -DFORGET_SYNC_END to drop the DMA_BUF_SYNC_END of frame 2: the display then reads
 * memory the CPU's writes have not reached, which dmabuf-run reports.
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

#define WIDTH 64
#define HEIGHT 32
#define PITCH (WIDTH * 4)
#define SIZE (PITCH * HEIGHT)
#define FRAMES 4
/* The model display's one CRTC; a real compositor finds it with DRM_IOCTL_MODE_GETRESOURCES. */
#define CRTC_ID 31

struct fb {
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

static void draw(uint32_t *pixels, int frame) {
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      pixels[y * WIDTH + x] = 0xff000000u | (uint32_t)(frame * 40) << 16 | (uint32_t)(x * 4) << 8 |
                              (uint32_t)(y * 8);
}

static int render(struct fb *fb, int frame) {
  if (cpu_access(fb->dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)) return fail("SYNC_START");
  draw(fb->pixels, frame);
#ifdef FORGET_SYNC_END
  if (frame == 2) return 0; /* the bug: the display reads before the CPU's writes are flushed */
#endif
  if (cpu_access(fb->dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)) return fail("SYNC_END");
  return 0;
}

static int make_fb(int heap, int card, struct fb *fb) {
  struct dma_heap_allocation_data alloc = {.len = SIZE, .fd_flags = O_RDWR | O_CLOEXEC};
  if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc)) return fail("DMA_HEAP_IOCTL_ALLOC");
  fb->dmabuf = (int)alloc.fd;
  fb->pixels = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fb->dmabuf, 0);
  if (fb->pixels == MAP_FAILED) return fail("mmap");
  struct drm_prime_handle prime = {.fd = fb->dmabuf};
  if (ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime)) return fail("PRIME_FD_TO_HANDLE");
  fb->handle = prime.handle;
  struct drm_mode_fb_cmd2 cmd = {.width = WIDTH, .height = HEIGHT};
  cmd.pixel_format = DRM_FORMAT_XRGB8888;
  cmd.handles[0] = fb->handle;
  cmd.pitches[0] = PITCH;
  if (ioctl(card, DRM_IOCTL_MODE_ADDFB2, &cmd)) return fail("MODE_ADDFB2");
  fb->fb_id = cmd.fb_id;
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
  printf("frame %d on screen (scanout frame %u)\n", frame, ev.sequence);
  return 0;
}

int main(void) {
  int heap = open("/dev/dma_heap/default_cma_region", O_RDONLY | O_CLOEXEC);
  if (heap < 0) return fail("open /dev/dma_heap/default_cma_region");
  int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
  if (card < 0) return fail("open /dev/dri/card0");
  struct fb fbs[2];
  for (int i = 0; i < 2; i++)
    if (make_fb(heap, card, &fbs[i])) return 1;

  if (render(&fbs[0], 0)) return 1;
  struct drm_mode_crtc crtc = {.crtc_id = CRTC_ID, .fb_id = fbs[0].fb_id, .mode_valid = 1};
  uint32_t connector = 1;
  crtc.set_connectors_ptr = (uint64_t)(uintptr_t)&connector;
  crtc.count_connectors = 1;
  if (ioctl(card, DRM_IOCTL_MODE_SETCRTC, &crtc)) return fail("MODE_SETCRTC");
  printf("frame 0 on screen (modeset)\n");

  for (int frame = 1; frame < FRAMES; frame++) {
    struct fb *back = &fbs[frame % 2];
    if (render(back, frame)) return 1;
    struct drm_mode_crtc_page_flip flip = {
        .crtc_id = CRTC_ID,
        .fb_id = back->fb_id,
        .flags = DRM_MODE_PAGE_FLIP_EVENT,
        .user_data = (uint64_t)frame,
    };
    if (ioctl(card, DRM_IOCTL_MODE_PAGE_FLIP, &flip)) return fail("MODE_PAGE_FLIP");
    if (wait_flip(card, frame)) return 1;
  }

  for (int i = 0; i < 2; i++) {
    ioctl(card, DRM_IOCTL_MODE_RMFB, &fbs[i].fb_id);
    struct drm_gem_close gem = {.handle = fbs[i].handle};
    ioctl(card, DRM_IOCTL_GEM_CLOSE, &gem);
    munmap(fbs[i].pixels, SIZE);
    close(fbs[i].dmabuf);
  }
  close(card);
  close(heap);
  return 0;
}
