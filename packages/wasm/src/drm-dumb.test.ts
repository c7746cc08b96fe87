// A C program creates a vgem dumb buffer, maps it through the node, exports it and reads it back.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createKernel } from "@dmabuf/core";
import { Vgem } from "@dmabuf/devices";
import { beforeAll, describe, expect, it } from "vitest";
import { compileC } from "./compile.js";
import { runWasm } from "./runtime.js";

const cacheDir = join(dirname(fileURLToPath(import.meta.url)), "../../../.cache");

const PROGRAM = `
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>

int main(void) {
  int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
  struct drm_mode_create_dumb bad = { .height = 8, .width = 0, .bpp = 32 };
  int r = ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &bad);
  printf("zero width: %d %s\\n", r, strerror(errno));

  struct drm_mode_create_dumb c = { .height = 48, .width = 40, .bpp = 32 };
  r = ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &c);
  printf("create: %d handle %u pitch %u size %llu\\n", r, c.handle, c.pitch,
         (unsigned long long)c.size);

  struct drm_mode_map_dumb m = { .handle = c.handle };
  r = ioctl(card, DRM_IOCTL_MODE_MAP_DUMB, &m);
  printf("map: %d offset %#llx\\n", r, (unsigned long long)m.offset);
  uint32_t *px = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, card, m.offset);
  if (px == MAP_FAILED) return 1;
  for (uint32_t y = 0; y < c.height; y++)
    for (uint32_t x = 0; x < c.width; x++) px[y * (c.pitch / 4) + x] = (y << 16) | x;

  struct drm_prime_handle p = { .handle = c.handle, .flags = DRM_CLOEXEC | DRM_RDWR };
  r = ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);
  printf("export: %d fd %d\\n", r, p.fd);
  struct drm_gem_close g = { .handle = c.handle };
  ioctl(card, DRM_IOCTL_GEM_CLOSE, &g);
  munmap(px, c.size);

  uint32_t *buf = mmap(NULL, c.size, PROT_READ, MAP_SHARED, p.fd, 0);
  if (buf == MAP_FAILED) return 2;
  printf("pixel (7,5) %#x, (39,47) %#x\\n", buf[5 * (c.pitch / 4) + 7], buf[47 * (c.pitch / 4) + 39]);
  munmap(buf, c.size);
  close(p.fd);
  close(card);
  return 0;
}
`;

describe("a C program on vgem's dumb buffers", () => {
  let wasm: Uint8Array;
  beforeAll(async () => {
    wasm = await compileC({ files: { "p.c": PROGRAM }, sources: ["p.c"], cacheDir });
  }, 300_000);

  it("creates, maps, exports and reads back pixels; everything is freed at the end", () => {
    const kernel = createKernel({ ram: "64MiB", plugins: [Vgem] });
    const before = kernel.snapshot();
    const r = runWasm(kernel, wasm);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "zero width: -1 Invalid argument\n" +
        "create: 0 handle 1 pitch 160 size 8192\n" +
        "map: 0 offset 0x100000000\n" +
        "export: 0 fd 4\n" +
        "pixel (7,5) 0x50007, (39,47) 0x2f0027\n",
    );
    expect(r.exitCode).toBe(0);
    expect(kernel.snapshot()).toEqual(before);
  }, 120_000);
});
