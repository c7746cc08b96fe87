// pnpm demo: a newcomer's first tour of the model — heaps, sharing, mapping, SYNC, /proc text.

import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  allocFromHeap,
  createKernel,
  DMA_FROM_DEVICE,
  dmabufDump,
  formatDmabufDump,
  type Kernel,
  PageExporter,
  setBufferName,
  syncBuffer,
  toTraceEventFile,
  withCpuAccess,
} from "@dmabuf/core";
import {
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  POLLIN,
  PROT_READ,
  PROT_WRITE,
  SEEK_END,
} from "@dmabuf/core/uapi";
import { CacheModel, Camera, Scanout } from "@dmabuf/devices";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { explainBufinfo, explainFdinfo, explainMaps } from "./explain.js";

const say = (text: string) => process.stdout.write(`${text}\n`);
const explain = (lines: string[]) => {
  for (const l of lines) say(`  ↳ ${l}`);
};
/** Where the report and the trace go: `--out DIR`, else a folder in the system's temp dir. */
const outIndex = process.argv.indexOf("--out");
const outDir = resolve(
  outIndex > 0 ? (process.argv[outIndex + 1] ?? ".") : join(tmpdir(), "dmabuf-demo"),
);
const section = (title: string) =>
  say(`\n=== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}`);

const kernel = createKernel({ ram: "256MiB", plugins: [SystemHeap, PageExporter] });
section(`booted a simulated Linux ${kernel.profile.version} kernel with 256 MiB of sparse RAM`);
const camera = kernel.spawn({ name: "camera" });
const display = kernel.spawn({ name: "display" });
say(`heaps in /dev/dma_heap: ${camera.readdir("/dev/dma_heap").join(", ")}`);

section("camera: allocate 1 MiB + 4 KiB from the system heap and name it");
const fd = allocFromHeap(camera, "system", 1024 * 1024 + 4096, { fdFlags: O_RDWR | O_CLOEXEC });
setBufferName(camera, fd, "camera-frame-0");
say(`fd ${fd}, size ${camera.lseek(fd, 0, SEEK_END)} bytes (lseek SEEK_END)`);

section("hand the fd to the display process (SCM_RIGHTS)");
const displayFd = camera.sendFd(fd, display);
say(`display received fd ${displayFd}`);

section("both map it; data crosses under DMA_BUF_IOCTL_SYNC");
const camMap = camera.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
const dispMap = display.mmap(displayFd, 4096, PROT_READ, MAP_SHARED);
withCpuAccess(camera, fd, "write", () =>
  camMap.write(0, new TextEncoder().encode("hello, display")),
);
const seen = withCpuAccess(display, displayFd, "read", () => dispMap.read(0, 14));
say(`display read: "${new TextDecoder().decode(seen)}"`);

section("an in-kernel exporter: the reference PageExporter");
const buf = kernel.plugin(PageExporter).create(3 * 4096, O_RDWR);
const exportedFd = kernel.dmaBuf.fd(buf, display, O_CLOEXEC);
say(`exported inode ${buf.ino} as fd ${exportedFd} of display`);

section("/sys/kernel/debug/dma_buf/bufinfo");
const bufinfo = camera.readFile("/sys/kernel/debug/dma_buf/bufinfo");
process.stdout.write(bufinfo);
explain(explainBufinfo(bufinfo));

section(`/proc/${camera.pid}/fdinfo/${fd}`);
const fdinfo = camera.readFile(`/proc/${camera.pid}/fdinfo/${fd}`);
process.stdout.write(fdinfo);
explain(explainFdinfo(fdinfo));

section(`/proc/${display.pid}/maps`);
const maps = display.readFile(`/proc/${display.pid}/maps`);
process.stdout.write(maps);
explain(explainMaps(maps));

section("who holds what (built from /proc, like dmabuf_dump)");
process.stdout.write(formatDmabufDump(dmabufDump(kernel.spawn({ name: "dmabuf_dump" }))));

section("everyone exits: every buffer is released exactly once");
camera.exit();
display.exit();
process.stdout.write(kernel.spawn().readFile("/sys/kernel/debug/dma_buf/bufinfo"));

// ---- a camera → CPU → display pipeline on non-coherent devices -----------------------------

/** A 320×240 RGBA frame: 300 KiB. */
const FRAME = 320 * 240 * 4;

/**
 * One frame through the pipeline on a fresh kernel with a CPU cache model: a non-coherent
 * camera writes a system-heap buffer, the CPU inverts it through mmap, a contiguous-only,
 * non-coherent scanout reads the result from a CMA buffer. `forgetEnd` drops the SYNC END
 * after the CPU's writes to the framebuffer.
 */
function pipeline(forgetEnd: boolean): Kernel {
  const k = createKernel({
    ram: "256MiB",
    cma: { size: "64MiB" },
    plugins: [SystemHeap, CmaHeap, CacheModel, Camera, Scanout],
  });
  k.trace.start();
  const app = k.spawn({ name: "viewfinder" });
  const camera = k.plugin(Camera);
  const scanout = k.plugin(Scanout);
  const frameFd = allocFromHeap(app, "system", FRAME, { fdFlags: O_RDWR | O_CLOEXEC });
  const fbFd = allocFromHeap(app, "default_cma_region", FRAME, { fdFlags: O_RDWR | O_CLOEXEC });
  setBufferName(app, frameFd, "camera-frame");
  setBufferName(app, fbFd, "framebuffer");
  // Drivers import their buffers once, up front (V4L2 QBUF, DRM AddFB).
  const capture = camera.importFd(app, frameFd, DMA_FROM_DEVICE);
  const fb = scanout.addFramebuffer(app, fbFd);
  const frameMap = app.mmap(frameFd, FRAME, PROT_READ, MAP_SHARED);
  const fbMap = app.mmap(fbFd, FRAME, PROT_READ | PROT_WRITE, MAP_SHARED);

  camera.capture(capture);
  say(`camera0 (non-coherent) captures into "camera-frame" (${capture.sgt.nents} DMA segments)`);
  app.poll([{ fd: frameFd, events: POLLIN }], -1);
  say(`poll(POLLIN) returned at t=${(k.clock.now / 1e6).toFixed(3)} ms: the frame is complete`);
  const pixels = withCpuAccess(app, frameFd, "read", () => frameMap.read());
  const inverted = pixels.map((b) => 255 - b);
  if (forgetEnd) {
    syncBuffer(app, fbFd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    fbMap.write(0, inverted);
    say('the CPU writes the inverted frame into "framebuffer" — and forgets SYNC END');
  } else {
    withCpuAccess(app, fbFd, "write", () => fbMap.write(0, inverted));
    say('the CPU writes the inverted frame into "framebuffer" between SYNC START and END');
  }
  scanout.wait(scanout.present(fb));
  const shown = scanout.lastFrame ?? new Uint8Array(0);
  let wrong = 0;
  for (let i = 0; i < FRAME; i++) if (shown[i] !== inverted[i]) wrong++;
  say(
    `scanout0 (contiguous-only, non-coherent) showed the frame at t=${(k.clock.now / 1e6).toFixed(3)} ms: ` +
      (wrong === 0 ? "every byte right" : `${wrong} of ${FRAME} bytes are not what the CPU wrote`),
  );
  process.stdout.write(`coherency checker: ${k.plugin(CacheModel).checker.report()}`);
  app.exit();
  return k;
}

section("pipeline: camera → CPU (mmap + SYNC) → display, with a cache model");
pipeline(false);

section("the same pipeline with one SYNC removed");
const broken = pipeline(true);

section("what the kernel saw: a Perfetto trace and an HTML report");
mkdirSync(outDir, { recursive: true });
const tracePath = join(outDir, "pipeline-trace.json");
const reportPath = join(outDir, "pipeline-report.html");
writeFileSync(tracePath, JSON.stringify(toTraceEventFile(broken.trace, broken.clock.now)));
writeFileSync(reportPath, broken.report({ title: "camera → CPU → display, one SYNC END missing" }));
say(`trace:  ${tracePath}  (${broken.trace.events().length} events; open it in ui.perfetto.dev)`);
say(`report: ${reportPath}  (memory map, buffer lives, timeline, the coherency finding)`);
