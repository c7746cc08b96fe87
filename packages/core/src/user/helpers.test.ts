import { describe, expect, it } from "vitest";
import type { DmaBuf } from "../dma-buf/dma-buf.js";
import { PageExporter } from "../examples/page-exporter.js";
import type { DmaHeapHandle, DmaHeapOps } from "../heap/ops.js";
import { createKernel, type Kernel } from "../kernel.js";
import type { HeapHost } from "../plugin/hosts.js";
import { heap } from "../plugin/metadata.js";
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_WRITE,
} from "../uapi/dma-buf.js";
import { F_GETFD, F_GETFL, O_RDONLY, O_RDWR } from "../uapi/fcntl.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { dmabufDump, formatDmabufDump } from "./accounting.js";
import { allocFromHeap, setBufferName, withCpuAccess } from "./helpers.js";

@heap({ name: "pages" })
class PagesHeap implements DmaHeapOps {
  readonly #pages: PageExporter;
  constructor(host: HeapHost) {
    this.#pages = new PageExporter(host);
  }
  allocate(h: DmaHeapHandle, len: number, fdFlags: number): DmaBuf {
    return this.#pages.create(len, fdFlags, h.name);
  }
}

const boot = () => createKernel({ ram: "16MiB", plugins: [PagesHeap] });

/** Records every SYNC the buffer's exporter sees. */
function recordSyncs(kernel: Kernel, proc: ReturnType<Kernel["spawn"]>, fd: number): string[] {
  const buf = kernel.dmaBuf.get(proc, fd);
  kernel.dmaBuf.put(buf);
  const log: string[] = [];
  const ops = buf.ops as { beginCpuAccess?: unknown; endCpuAccess?: unknown };
  ops.beginCpuAccess = (_b: unknown, dir: number) => log.push(`begin:${dir}`);
  ops.endCpuAccess = (_b: unknown, dir: number) => log.push(`end:${dir}`);
  return log;
}

describe("allocFromHeap", () => {
  it("allocates by heap name, closes the heap fd again, and honours fd_flags", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = allocFromHeap(p, "pages", 5000, { fdFlags: O_RDONLY });
    expect(p.fds()).toEqual([fd]);
    expect(p.fstat(fd).size).toBe(8192);
    expect(p.fcntl(fd, F_GETFL)).toBe(O_RDONLY);
    expect(p.fcntl(fd, F_GETFD)).toBe(0);
    const fd2 = allocFromHeap(p, "pages", 4096);
    expect(p.fcntl(fd2, F_GETFL)).toBe(O_RDWR);
    expect(p.fcntl(fd2, F_GETFD)).toBe(1);
  });

  it("reports ENOENT for an unknown heap and EINVAL for bad flags, leaving nothing open", () => {
    const kernel = boot();
    const p = kernel.spawn();
    expect(() => allocFromHeap(p, "nope", 4096)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
    expect(() => allocFromHeap(p, "pages", 4096, { heapFlags: 1n })).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(p.fds()).toEqual([]);
    expect(kernel.snapshot().buffers).toBe(0);
  });
});

describe("withCpuAccess", () => {
  it("brackets the callback with SYNC START and END in the asked direction", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = allocFromHeap(p, "pages", 4096);
    const log = recordSyncs(kernel, p, fd);
    const m = p.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(
      withCpuAccess(p, fd, "write", () => {
        m.fill(7);
        return 42;
      }),
    ).toBe(42);
    withCpuAccess(p, fd, "read", () => m.read(0, 1));
    withCpuAccess(p, fd, "rw", () => undefined);
    // DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2, DMA_BIDIRECTIONAL = 0
    expect(log).toEqual(["begin:1", "end:1", "begin:2", "end:2", "begin:0", "end:0"]);
    expect([DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_END]).toEqual([
      2, 1, 3, 4,
    ]);
  });

  it("issues END even when the callback throws, and rethrows the callback's error", () => {
    const kernel = boot();
    const p = kernel.spawn();
    const fd = allocFromHeap(p, "pages", 4096);
    const log = recordSyncs(kernel, p, fd);
    const boom = new Error("boom");
    expect(() =>
      withCpuAccess(p, fd, "rw", () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(log).toEqual(["begin:0", "end:0"]);
  });

  it("does not run the callback when START fails", () => {
    const kernel = boot();
    const p = kernel.spawn();
    let ran = false;
    expect(() => withCpuAccess(p, 7, "rw", () => (ran = true))).toThrow(
      expect.objectContaining({ code: "EBADF" }),
    );
    expect(ran).toBe(false);
  });
});

describe("dmabufDump", () => {
  it("accounts buffers per process by fd and by mapping, from /proc text", () => {
    const kernel = boot();
    const cam = kernel.spawn({ name: "camera" });
    const disp = kernel.spawn({ name: "display" });
    const fd = allocFromHeap(cam, "pages", 8192);
    setBufferName(cam, fd, "frame");
    const other = allocFromHeap(cam, "pages", 4096);
    const dfd = cam.sendFd(fd, disp);
    disp.mmap(dfd, 4096, PROT_READ, MAP_SHARED);
    disp.close(dfd); // display keeps only the mapping
    const dump = dmabufDump(kernel.spawn({ name: "dump" }));
    expect(dump.processes.map((p) => [p.comm, p.pid])).toEqual([
      ["camera", cam.pid],
      ["display", disp.pid],
    ]);
    const [c, d] = dump.processes;
    expect(c?.buffers).toEqual([
      { ino: 1, size: 8192, expName: "pages", name: "frame", fds: [fd], mappedBytes: 0 },
      { ino: 2, size: 4096, expName: "pages", name: null, fds: [other], mappedBytes: 0 },
    ]);
    expect(c).toMatchObject({ fdBuffers: 2, fdBytes: 12288, mappedBytes: 0, totalBytes: 12288 });
    expect(d?.buffers).toEqual([
      { ino: 1, size: 4096, expName: null, name: "frame", fds: [], mappedBytes: 4096 },
    ]);
    expect(dump).toMatchObject({ totalBuffers: 2, totalBytes: 12288 });
    const text = formatDmabufDump(dump);
    expect(text).toContain("camera:1\n");
    expect(text).toContain("dmabuf total: 12 kB in 2 buffers\n");
  });
});

describe("allocFromHeap argument errors", () => {
  it.each([100.5, -4096, Number.NaN, 2 ** 60, -1n, 1n << 64n])(
    "len %s is EINVAL naming the value, before anything is opened",
    (len) => {
      const kernel = boot();
      const proc = kernel.spawn();
      const before = proc.fds();
      expect(() => allocFromHeap(proc, "pages", len)).toThrow(
        expect.objectContaining({ code: "EINVAL", syscall: "allocFromHeap" }),
      );
      expect(() => allocFromHeap(proc, "pages", len)).toThrow(`not ${String(len)}`);
      expect(proc.fds()).toEqual(before);
    },
  );

  it("an unknown heap name is ENOENT listing the heaps that exist", () => {
    const proc = boot().spawn();
    expect(() => allocFromHeap(proc, "sytem", 4096)).toThrow(
      expect.objectContaining({
        code: "ENOENT",
        message: expect.stringContaining('no heap "sytem"; the heaps are: "pages"'),
      }),
    );
    expect(proc.fds()).toEqual([]);
  });

  it("a kernel without heaps says so", () => {
    const proc = createKernel({ ram: "16MiB" }).spawn();
    expect(() => allocFromHeap(proc, "system", 4096)).toThrow(
      'no heap "system"; the heaps are: none',
    );
  });
});
