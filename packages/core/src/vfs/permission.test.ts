// Tests of permission checks on pseudo files: debugfs is root-only, /proc/PID/{fd,fdinfo,maps}
// need the ptrace read check.

import { describe, expect, it } from "vitest";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel, type Kernel } from "../kernel.js";
import { O_DIRECTORY, O_RDONLY, O_RDWR } from "../uapi/fcntl.js";
import { MAP_SHARED, PROT_READ } from "../uapi/mman.js";
import { errnoOf, type Process } from "./process.js";

function boot(): Kernel {
  return createKernel({ ram: "16MiB", cma: { size: "2MiB" }, plugins: [PageExporter] });
}

/** A named one-page buffer installed in `proc`. */
function secretFd(kernel: Kernel, proc: Process): number {
  const fd = kernel.dmaBuf.fd(kernel.plugin(PageExporter).create(4096, O_RDWR), proc, 0);
  proc.ioctl(fd, 0x40086201, "secret-frame");
  return fd;
}

const DEBUGFS = [
  "/sys/kernel/debug/dma_buf/bufinfo",
  "/sys/kernel/debug/cma/reserved/bitmap",
  "/sys/kernel/debug/cma/reserved/count",
  "/sys/kernel/debug/sync/info",
];

describe("debugfs is mounted 0700 root", () => {
  it("a uid 1000 process gets EACCES for every debugfs file and the directory itself", () => {
    const kernel = boot();
    const user = kernel.spawn({ uid: 1000 });
    for (const path of DEBUGFS) {
      expect(
        errnoOf(() => user.readFile(path)),
        path,
      ).toBe("EACCES");
      expect(
        errnoOf(() => user.open(path, O_RDONLY)),
        path,
      ).toBe("EACCES");
    }
    expect(errnoOf(() => user.readdir("/sys/kernel/debug"))).toBe("EACCES");
    expect(errnoOf(() => user.readdir("/sys/kernel/debug/dma_buf"))).toBe("EACCES");
    expect(errnoOf(() => user.open("/sys/kernel/debug/sync/sw_sync", O_RDWR))).toBe("EACCES");
    expect(kernel.files.size).toBe(0);
  });

  it("root reads them, and stat shows the mount's 040700", () => {
    const kernel = boot();
    const root = kernel.spawn();
    for (const path of DEBUGFS)
      expect(
        errnoOf(() => root.readFile(path)),
        path,
      ).toBeNull();
    const fd = root.open("/sys/kernel/debug", O_RDONLY | O_DIRECTORY);
    expect(root.fstat(fd)).toMatchObject({ mode: 0o040700, uid: 0, gid: 0 });
    expect(root.fstat(root.open("/sys/kernel/debug/dma_buf/bufinfo", O_RDONLY)).mode).toBe(
      0o100444,
    );
  });
});

describe("/proc/PID/{fd,fdinfo,maps} need the ptrace read check", () => {
  it("uid 1000 cannot list, readlink or read root's fds, fdinfo or maps", () => {
    const kernel = boot();
    const root = kernel.spawn({ name: "init" });
    const fd = secretFd(kernel, root);
    root.mmap(fd, 4096, PROT_READ, MAP_SHARED);
    expect(root.readlink(`/proc/1/fd/${fd}`)).toBe("/dmabuf:secret-frame");
    const user = kernel.spawn({ uid: 1000 });
    expect(errnoOf(() => user.readdir("/proc/1/fd"))).toBe("EACCES");
    expect(errnoOf(() => user.readlink(`/proc/1/fd/${fd}`))).toBe("EACCES");
    expect(errnoOf(() => user.readdir("/proc/1/fdinfo"))).toBe("EACCES");
    expect(errnoOf(() => user.readFile(`/proc/1/fdinfo/${fd}`))).toBe("EACCES");
    expect(errnoOf(() => user.readFile("/proc/1/maps"))).toBe("EACCES");
    expect(errnoOf(() => user.open(`/proc/1/fd/${fd}`, O_RDONLY))).toBe("EACCES");
    // What is not guarded stays readable.
    expect(user.readFile("/proc/1/comm")).toBe("init\n");
    expect(user.readdir("/proc/1")).toContain("maps");
  });

  it("the same uid and root pass; stat shows the owner and dr-x------", () => {
    const kernel = boot();
    const a = kernel.spawn({ uid: 1000 });
    const b = kernel.spawn({ uid: 1000 });
    const fd = secretFd(kernel, a);
    expect(b.readlink(`/proc/${a.pid}/fd/${fd}`)).toBe("/dmabuf:secret-frame");
    expect(b.readFile(`/proc/${a.pid}/fdinfo/${fd}`)).toContain("name:\tsecret-frame\n");
    expect(b.readFile(`/proc/${a.pid}/maps`)).toBe("");
    const root = kernel.spawn();
    expect(root.readdir(`/proc/${a.pid}/fd`)).toEqual([String(fd)]);
    const dfd = b.open(`/proc/${a.pid}/fd`, O_RDONLY | O_DIRECTORY);
    expect(b.fstat(dfd)).toMatchObject({ mode: 0o040500, uid: 1000, gid: 1000 });
    const ifd = b.open(`/proc/${a.pid}/fdinfo/${fd}`, O_RDONLY);
    expect(b.fstat(ifd)).toMatchObject({ mode: 0o100400, uid: 1000 });
    const other = kernel.spawn({ uid: 1001 });
    expect(errnoOf(() => other.readFile(`/proc/${a.pid}/maps`))).toBe("EACCES");
  });
});
