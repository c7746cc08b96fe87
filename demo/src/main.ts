// pnpm demo: a newcomer's first tour of the model — heaps, sharing, mapping, SYNC, /proc text.

import {
  allocFromHeap,
  createKernel,
  dmabufDump,
  formatDmabufDump,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PageExporter,
  PROT_READ,
  PROT_WRITE,
  SEEK_END,
  setBufferName,
  withCpuAccess,
} from "@dmabuf/core";
import { SystemHeap } from "@dmabuf/heaps-system";

const say = (text: string) => process.stdout.write(`${text}\n`);
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
process.stdout.write(camera.readFile("/sys/kernel/debug/dma_buf/bufinfo"));

section(`/proc/${camera.pid}/fdinfo/${fd}`);
process.stdout.write(camera.readFile(`/proc/${camera.pid}/fdinfo/${fd}`));

section(`/proc/${display.pid}/maps`);
process.stdout.write(display.readFile(`/proc/${display.pid}/maps`));

section("who holds what (built from /proc, like dmabuf_dump)");
process.stdout.write(formatDmabufDump(dmabufDump(kernel.spawn({ name: "dmabuf_dump" }))));

section("everyone exits: every buffer is released exactly once");
camera.exit();
display.exit();
process.stdout.write(kernel.spawn().readFile("/sys/kernel/debug/dma_buf/bufinfo"));
