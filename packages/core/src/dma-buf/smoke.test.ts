import { describe, expect, it } from "vitest";
import { createKernel, PageExporter } from "../index.js";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_RW,
  encodeDmaBufSync,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  SEEK_END,
} from "../uapi/index.js";

describe("smoke", () => {
  it("exports, shares, maps, names and renders", () => {
    const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter] });
    const a = kernel.spawn({ name: "a" });
    const b = kernel.spawn({ name: "b" });
    const buf = kernel.plugin(PageExporter).create(3 * 4096, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, a, O_CLOEXEC);
    expect(fd).toBe(0);
    expect(a.lseek(fd, 0, SEEK_END)).toBe(12288);
    const fdB = a.sendFd(fd, b);
    const m = a.mmap(fd, 12288, PROT_READ | PROT_WRITE, MAP_SHARED);
    a.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(DMA_BUF_SYNC_RW));
    m.fill(0xab, 0, 100);
    a.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END));
    const mb = b.mmap(fdB, 4096, PROT_READ, MAP_SHARED);
    expect(mb.read(0, 4)).toEqual(new Uint8Array([0xab, 0xab, 0xab, 0xab]));
    a.ioctl(fd, DMA_BUF_SET_NAME, "shared");
    expect(a.readFile(`/proc/${a.pid}/fdinfo/${fd}`)).toBe(
      `pos:\t0\nflags:\t02000002\nmnt_id:\t9\nino:\t1\nsize:\t12288\ncount:\t4\nexp_name:\tpage-exporter\nname:\tshared\n`,
    );
    expect(a.readFile("/proc/self/maps")).toBe(
      `7ffff7ff6000-7ffff7ff9000 rw-s 00000000 00:08 1${" ".repeat(26)}/dmabuf:shared\n`,
    );
    expect(a.readFile("/sys/kernel/debug/dma_buf/bufinfo")).toContain(
      "00012288\t00000002\t00080007\t00000004\tpage-exporter\t00000001\tshared\n",
    );
    a.exit();
    b.exit();
    expect(buf.priv.releases).toBe(1);
    expect(kernel.snapshot()).toMatchObject({ buffers: 0, files: 0 });
  });
});
