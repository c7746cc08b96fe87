// Buffer lifetime: every kind of reference keeps a buffer alive, the last one releases it
// exactly once; inode numbers are unique, increasing and never reused.

import { describe, expect, it } from "vitest";
import { KernelBug } from "../errors/kernel-bug.js";
import { O_CLOEXEC, O_RDONLY, O_RDWR } from "../uapi/fcntl.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import {
  BUFINFO,
  BUFINFO_EMPTY,
  boot,
  device,
  exportRecording,
  PS,
  SYSFS_BUFFERS,
} from "./test-fixtures.js";

/** A kernel, two processes and one 2-page buffer at fd `fd` of `a`. */
function setup() {
  const { kernel, pages } = boot();
  const freeAtBoot = kernel.buddy.freePageCount();
  const a = kernel.spawn({ name: "a" });
  const b = kernel.spawn({ name: "b" });
  const observer = kernel.spawn({ name: "cat" });
  const buf = pages.create(2 * PS, O_RDWR);
  const fd = kernel.dmaBuf.fd(buf, a, O_CLOEXEC);
  const alive = () => {
    const listed = kernel.dmaBuf.list().includes(buf);
    expect(observer.readFile(BUFINFO).includes(`\tpage-exporter\t0000000${buf.ino}\t`)).toBe(
      listed,
    );
    expect(observer.readdir(SYSFS_BUFFERS).includes(String(buf.ino))).toBe(listed);
    return listed;
  };
  /** Checks the buffer is gone: released once, pages back, nothing listed. */
  const gone = () => {
    expect(alive()).toBe(false);
    expect(buf.priv.releases).toBe(1);
    expect(buf.file.refCount).toBe(0);
    expect(kernel.buddy.freePageCount()).toBe(freeAtBoot);
    expect(observer.readFile(BUFINFO)).toBe(BUFINFO_EMPTY);
    expect(observer.readdir(SYSFS_BUFFERS)).toEqual([]);
    expect(kernel.snapshot()).toMatchObject({ buffers: 0, bufferRefs: 0, files: 0 });
  };
  return { kernel, pages, a, b, buf, fd, alive, gone, freeAtBoot };
}

describe("release exactly once", () => {
  it("the exporter's pages are in use while the buffer lives", () => {
    const { kernel, freeAtBoot } = setup();
    expect(kernel.buddy.freePageCount()).toBe(freeAtBoot - 2);
  });

  it("fd: close releases", () => {
    const { a, buf, fd, alive, gone } = setup();
    expect(alive()).toBe(true);
    a.close(fd);
    gone();
    expect(buf.priv.releases).toBe(1);
  });

  it("dup: the buffer lives until the last of the fds closes, in either order", () => {
    for (const closeOriginalFirst of [true, false]) {
      const { a, buf, fd, alive, gone } = setup();
      const dup = a.dup(fd);
      expect(buf.file.refCount).toBe(2);
      a.close(closeOriginalFirst ? fd : dup);
      expect(alive()).toBe(true);
      expect(buf.priv.releases).toBe(0);
      a.close(closeOriginalFirst ? dup : fd);
      gone();
    }
  });

  it("an fd handed to another process keeps the buffer alive after the sender closes", () => {
    const { a, b, buf, fd, alive, gone } = setup();
    const fdB = a.sendFd(fd, b, { cloexec: true });
    expect(b.isCloexec(fdB)).toBe(true);
    expect(buf.file.refCount).toBe(2);
    a.close(fd);
    expect(alive()).toBe(true);
    expect(b.readlink(`/proc/self/fd/${fdB}`)).toBe("/dmabuf:");
    b.exit();
    gone();
  });

  it("sendFd to a full fd table is EMFILE and takes no reference", () => {
    const { kernel, a, b, buf, fd } = setup();
    b.rlimitNofile = 0;
    const before = kernel.snapshot();
    expect(() => a.sendFd(fd, b)).toThrow(expect.objectContaining({ code: "EMFILE" }));
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.file.refCount).toBe(1);
  });

  it("an importer's dma_buf_get keeps the buffer alive until dma_buf_put", () => {
    const { kernel, a, buf, fd, alive, gone } = setup();
    const got = kernel.dmaBuf.get(a, fd);
    a.exit();
    expect(alive()).toBe(true);
    const att = kernel.dmaBuf.attach(got, device("gpu"));
    kernel.dmaBuf.detach(got, att);
    expect(buf.priv.releases).toBe(0);
    kernel.dmaBuf.put(got);
    gone();
  });

  it("get_dma_buf is one more reference to drop", () => {
    const { kernel, a, buf, fd, gone } = setup();
    kernel.dmaBuf.getDmaBuf(buf);
    a.close(fd);
    expect(buf.priv.releases).toBe(0);
    kernel.dmaBuf.put(buf);
    gone();
  });

  it("a user mapping keeps the buffer alive (bufinfo, sysfs) after its fd is closed", () => {
    const { kernel, a, buf, fd, alive, gone } = setup();
    const m = a.mmap(fd, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    a.close(fd);
    expect(alive()).toBe(true);
    expect(buf.file.refCount).toBe(1);
    expect(a.readFile(`${SYSFS_BUFFERS}/${buf.ino}/size`)).toBe("8192\n");
    expect(a.readFile(BUFINFO)).toContain(
      `00008192\t00000002\t00080007\t00000001\tpage-exporter\t00000001\t<none>\n`,
    );
    expect(a.readFile("/proc/self/maps")).toContain(" /dmabuf:\n");
    expect(kernel.snapshot()).toMatchObject({ fds: 0, userMappings: 1, buffers: 1 });
    a.munmap(m);
    gone();
  });

  it("several mappings: the last munmap releases", () => {
    const { a, buf, fd, gone } = setup();
    const m1 = a.mmap(fd, PS, PROT_READ, MAP_SHARED);
    const m2 = a.mmap(fd, PS, PROT_READ, MAP_SHARED, PS);
    a.close(fd);
    a.munmap(m2);
    expect(buf.priv.releases).toBe(0);
    a.munmap(m1);
    gone();
  });

  it("exit drops every fd and mapping of the process", () => {
    const { a, fd, gone } = setup();
    a.dup(fd);
    a.mmap(fd, 2 * PS, PROT_READ, MAP_SHARED);
    a.mmap(fd, PS, PROT_READ, MAP_SHARED);
    a.exit();
    gone();
  });

  it("every reference kind at once: released once when the last one goes", () => {
    const { kernel, a, b, buf, fd, gone } = setup();
    const dup = a.dup(fd);
    const fdB = a.sendFd(fd, b);
    const got = kernel.dmaBuf.get(b, fdB);
    const m = b.mmap(fdB, PS, PROT_READ, MAP_SHARED);
    const map = kernel.dmaBuf.vmap(buf);
    expect(buf.file.refCount).toBe(5);
    a.close(fd);
    a.close(dup);
    b.close(fdB);
    kernel.dmaBuf.vunmap(buf, map);
    kernel.dmaBuf.put(got);
    expect(buf.priv.releases).toBe(0);
    b.munmap(m);
    gone();
  });

  it("vmap holds no reference: a release with a vmap user left frees the pages and reports the leak", () => {
    const { kernel, a, buf, fd, gone } = setup();
    kernel.dmaBuf.vmap(buf);
    expect(buf.file.refCount).toBe(1);
    expect(kernel.snapshot().bufferRefs).toBe(1);
    a.close(fd);
    gone();
    expect(kernel.log.findings).toMatchObject([
      {
        code: "DMA_BUF_RELEASE_VMAPPED",
        detail: `buffer ${buf.ino} [page-exporter] released with 1 vmap users`,
      },
    ]);
    expect(kernel.log.text()).toContain("BUG: DMA_BUF_RELEASE_VMAPPED: buffer");
    expect(kernel.snapshot().vmaps).toBe(0);
  });

  it("attach, map, vmap, CPU access and fd on a released buffer are DMA_BUF_USE_AFTER_FREE bugs that change nothing", () => {
    const { kernel, a, buf, fd } = setup();
    const dev = device("gpu0");
    const att = kernel.dmaBuf.attach(buf, dev);
    kernel.dmaBuf.detach(buf, att);
    const stale = kernel.dmaBuf.attach(buf, dev);
    a.close(fd);
    const before = kernel.snapshot();
    const calls: [string, () => unknown][] = [
      ["dma_buf_attach", () => kernel.dmaBuf.attach(buf, dev)],
      ["dma_buf_map_attachment", () => kernel.dmaBuf.mapAttachment(stale, 0)],
      ["dma_buf_vmap", () => kernel.dmaBuf.vmap(buf)],
      ["dma_buf_fd", () => kernel.dmaBuf.fd(buf, a, 0)],
      ["dma_buf_begin_cpu_access", () => kernel.dmaBuf.beginCpuAccess(buf, 0)],
    ];
    for (const [fn, call] of calls) {
      let bug: unknown;
      try {
        call();
      } catch (e) {
        bug = e;
      }
      expect(bug, fn).toBeInstanceOf(KernelBug);
      expect(bug).toMatchObject({ code: "DMA_BUF_USE_AFTER_FREE" });
      expect((bug as Error).message).toContain(`${fn}: buffer ${buf.ino} [page-exporter]`);
    }
    expect(a.fds()).toEqual([]);
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.priv.releases).toBe(1);
    expect(kernel.log.findings.map((f) => f.code)).toEqual(
      calls.map(() => "DMA_BUF_USE_AFTER_FREE"),
    );
  });

  it("dma_buf_fd into an exited process is ESRCH and the reference stays with the caller", () => {
    const { kernel, pages, a } = setup();
    a.exit();
    const buf = pages.create(PS, O_RDWR);
    const before = kernel.snapshot();
    expect(() => kernel.dmaBuf.fd(buf, a, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    expect(kernel.snapshot()).toEqual(before);
    expect(buf.file.refCount).toBe(1);
    kernel.dmaBuf.put(buf);
    expect(buf.priv.releases).toBe(1);
  });

  it("a put after the last reference is a KernelBug, not a second release", () => {
    const { kernel, a, buf, fd } = setup();
    a.close(fd);
    expect(() => kernel.dmaBuf.put(buf)).toThrow(
      expect.objectContaining({ code: "FILE_REFCOUNT_UNDERFLOW" }),
    );
    expect(() => kernel.dmaBuf.getDmaBuf(buf)).toThrow(KernelBug);
    expect(buf.priv.releases).toBe(1);
  });

  it("a buffer that never got an fd is released by dma_buf_put", () => {
    const { kernel, pages } = boot();
    const before = kernel.snapshot();
    const buf = pages.create(PS, O_RDONLY);
    kernel.dmaBuf.put(buf);
    expect(buf.priv.releases).toBe(1);
    expect(kernel.snapshot()).toEqual(before);
  });

  it("releasing with attachments left only warns; the exporter releases once", () => {
    const { kernel } = boot();
    const buf = exportRecording(kernel);
    kernel.dmaBuf.attach(buf, device("leaky"));
    kernel.dmaBuf.put(buf);
    expect(buf.priv.calls).toEqual(["attach leaky", "release"]);
    expect(kernel.log.records.filter((r) => r.level === "warn")).toHaveLength(1);
  });
});

describe("inode numbers", () => {
  it("start at 1, increase by one per export and are never reused", () => {
    const { kernel, pages } = boot();
    const p = kernel.spawn();
    const inos: number[] = [];
    for (let i = 0; i < 5; i++) {
      const buf = pages.create(PS, O_RDWR);
      inos.push(buf.ino);
      const fd = kernel.dmaBuf.fd(buf, p, 0);
      if (i % 2 === 0) p.close(fd); // released right away
    }
    expect(inos).toEqual([1, 2, 3, 4, 5]);
    expect(pages.create(PS, O_RDWR).ino).toBe(6);
    expect(p.fstat(0).ino).toBe(2);
    expect(p.fstat(1).ino).toBe(4);
  });

  it("are per kernel", () => {
    const k1 = boot();
    const k2 = boot();
    expect(k1.pages.create(PS, O_RDWR).ino).toBe(1);
    expect(k1.pages.create(PS, O_RDWR).ino).toBe(2);
    expect(k2.pages.create(PS, O_RDWR).ino).toBe(1);
  });

  it("name the sysfs directories, which disappear at the final release", () => {
    const { kernel, pages } = boot();
    const p = kernel.spawn();
    const fds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) =>
      kernel.dmaBuf.fd(pages.create(n * PS, O_RDWR), p, 0),
    );
    expect(p.readdir(SYSFS_BUFFERS).sort()).toEqual(
      ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"].sort(),
    );
    for (const fd of fds) {
      const ino = p.fstat(fd).ino;
      expect(p.readdir(`${SYSFS_BUFFERS}/${ino}`)).toEqual(["exporter_name", "size"]);
      expect(p.readFile(`${SYSFS_BUFFERS}/${ino}/size`)).toBe(`${ino * PS}\n`);
      expect(p.readFile(`${SYSFS_BUFFERS}/${ino}/exporter_name`)).toBe("page-exporter\n");
    }
    p.close(fds[2] as number);
    expect(p.readdir(SYSFS_BUFFERS)).not.toContain("3");
    expect(() => p.readFile(`${SYSFS_BUFFERS}/3/size`)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
    expect(pages.create(PS, O_RDWR).ino).toBe(12);
  });
});
