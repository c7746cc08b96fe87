// The translation cache of mapped windows never serves a stale page: aliases, device writes, truncation, munmap, the cache model.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allocFromHeap, createKernel, DMA_FROM_DEVICE, type Kernel } from "@dmabuf/core";
import { CacheModel, Camera } from "@dmabuf/devices";
import { SystemHeap } from "@dmabuf/heaps-system";
import { beforeAll, describe, expect, it } from "vitest";
import { compileC } from "./compile.js";
import { runWasm } from "./runtime.js";

const cacheDir = join(dirname(fileURLToPath(import.meta.url)), "../../../.cache");

const PROGRAM = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ps;

static char *map(int fd, int len) { return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); }

/* A page read through one mapping, written through another, read again: no syscall between. */
static int alias(void) {
  int fd = memfd_create("alias", 0);
  ftruncate(fd, ps);
  volatile char *a = map(fd, ps), *b = map(fd, ps);
  int z = a[100] + b[100]; /* first touches */
  z += a[100];             /* cached: the page has no RAM of its own yet */
  b[100] = 42;
  printf("zero %d then %d\\n", z, a[100]);
  return 0;
}

/* Pages gain RAM one by one (until their section is backed whole) while a view of page 0 is in use. */
static int dense(void) {
  int n = 1024, fd = memfd_create("dense", 0);
  ftruncate(fd, n * ps);
  volatile char *a = map(fd, n * ps), *b = map(fd, n * ps);
  int z = 0;
  for (int i = 0; i < n; i++) z += a[i * ps] + b[i * ps];
  for (int i = 0; i < n; i++) {
    b[i * ps + 2] = (char)(i + 1);
    if (i < 600) a[1] = (char)(i % 100);
  }
  volatile char *c = map(fd, n * ps);
  int bad = 0;
  for (int i = 0; i < n; i++) bad += c[i * ps + 2] != (char)(i + 1);
  printf("zero %d, page 0 holds %d, %d pages wrong\\n", z, c[1], bad);
  return 0;
}

/* The camera captures between two reads of a cached page. */
static int device(int fd) {
  volatile unsigned char *p = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, fd, 0);
  int before = p[1] + p[ps + 5];
  before += p[1] + p[ps + 5];
  printf("before %d\\n", before);
  fflush(stdout);
  printf("after %d %d %d\\n", p[1], p[2], p[ps + 5]);
  return 0;
}

/* A cached page past the new end of a truncated file raises SIGBUS. */
static int truncated(void) {
  int fd = memfd_create("t", 0);
  ftruncate(fd, 2 * ps);
  volatile char *p = map(fd, 2 * ps);
  p[ps] = 5;
  p[ps] += 1;
  printf("%d\\n", p[ps]);
  fflush(stdout);
  p[ps] += 1; /* cached again after the output call */
  ftruncate(fd, ps);
  p[ps] = 7;
  printf("not reached\\n");
  return 0;
}

/* Memory handed out again after munmap is plain memory: its stores do not reach the file. */
static int reuse(void) {
  int fd = memfd_create("r", 0), other = memfd_create("o", 0);
  ftruncate(fd, ps);
  ftruncate(other, ps);
  volatile char *lo = map(other, ps);
  volatile char *p = map(fd, ps);
  volatile char *hi = map(other, ps);
  p[0] = 1;
  p[0] += 1;
  munmap((void *)p, ps);
  volatile char *q = aligned_alloc(ps, ps);
  q[0] = 9;
  volatile char *r = map(fd, ps);
  printf("%s, heap %d, file %d, around %d\\n", q == p ? "same address" : "other address", q[0],
         r[0], lo[0] + hi[0]);
  return 0;
}

int main(int argc, char **argv) {
  ps = getpagesize();
  if (!strcmp(argv[1], "alias")) return alias();
  if (!strcmp(argv[1], "dense")) return dense();
  if (!strcmp(argv[1], "device")) return device(atoi(argv[2]));
  if (!strcmp(argv[1], "truncate")) return truncated();
  if (!strcmp(argv[1], "reuse")) return reuse();
  return 2;
}
`;

describe("mapped windows in wasm never see a stale page", () => {
  let wasm: Uint8Array;
  beforeAll(async () => {
    wasm = await compileC({ files: { "w.c": PROGRAM }, sources: ["w.c"], cacheDir });
  }, 300_000);

  it("a store through one mapping is seen by a load through another (no syscall between)", () => {
    const r = runWasm(createKernel({}), wasm, { args: ["alias"] });
    expect(r.stdout).toBe("zero 0 then 42\n");
    expect(r.exitCode).toBe(0);
    expect(r.accesses.fast).toBeGreaterThan(0);
  }, 60_000);

  it("stores through a cached page land while RAM's backing changes under it", () => {
    const r = runWasm(createKernel({ ram: "256MiB" }), wasm, { args: ["dense"] });
    expect(r.stdout).toBe("zero 0, page 0 holds 99, 0 pages wrong\n");
    expect(r.exitCode).toBe(0);
  }, 120_000);

  function cameraRun(kernel: Kernel) {
    const proc = kernel.spawn({ name: "viewer", stdio: true });
    const buf = allocFromHeap(proc, "system", 2 * kernel.pageSize);
    const camera = kernel.plugin(Camera);
    const target = camera.importFd(proc, buf, DMA_FROM_DEVICE);
    let captured = false;
    const r = runWasm(kernel, wasm, {
      process: proc,
      args: ["device", String(buf)],
      onOutput: () => {
        if (captured) return;
        captured = true;
        camera.wait(camera.capture(target));
      },
    });
    return r;
  }

  it("a device write between two loads of a cached page is seen (plain coherent CPU)", () => {
    const r = cameraRun(createKernel({ plugins: [SystemHeap, Camera] }));
    // framePattern(0): byte i is (i * 7) & 0xff.
    expect(r.stdout).toBe("before 0\nafter 7 14 35\n");
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it("with the cache model installed every access goes through it: the stale read is reported", () => {
    const kernel = createKernel({ plugins: [SystemHeap, Camera, CacheModel] });
    const r = cameraRun(kernel);
    // The CPU still holds the lines it read before the capture: it reads stale zeros.
    expect(r.stdout).toBe("before 0\nafter 0 0 0\n");
    expect(
      kernel.plugin(CacheModel).checker.violations.map((v) => [v.kind, v.offset, v.writer]),
    ).toEqual([
      ["cpu-read-device-written", 0, "camera0"],
      ["cpu-read-device-written", 4096, "camera0"],
    ]);
  }, 60_000);

  it("a cached page past the end of a truncated file raises SIGBUS", () => {
    const r = runWasm(createKernel({}), wasm, { args: ["truncate"] });
    expect(r.stdout).toBe("6\n");
    expect(r.signal).toBe("SIGBUS");
    expect(r.exitCode).toBe(128 + 7);
  }, 60_000);

  it("memory reused after munmap is the program's own: its stores do not reach the file", () => {
    const r = runWasm(createKernel({}), wasm, { args: ["reuse"] });
    expect(r.stdout).toBe("same address, heap 9, file 2, around 0\n");
  }, 60_000);
});
