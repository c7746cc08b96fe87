// tools/testing/selftests/dmabuf-heaps, re-expressed: 11 results for every heap in /dev/dma_heap.

import { allocFromHeap, type Kernel, type Process, withCpuAccess } from "@dmabuf/core";
import {
  _IOWR,
  DMA_HEAP_IOC_MAGIC,
  DMA_HEAP_IOCTL_ALLOC,
  encodeDmaHeapAllocationData,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  view,
} from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";

/** How the selftest gets kernels and (optionally) an importer. */
export interface HeapSelftestOptions {
  /** Boots a fresh, isolated kernel with the heaps under test; called once per case. */
  readonly kernel: () => Kernel;
  /**
   * Imports a dma-buf fd into a vgem-like device, the selftest's `DRM_IOCTL_PRIME_FD_TO_HANDLE`
   * step. Absent: that result is reported as skipped, as the selftest does without vgem.
   */
  readonly importFd?: (kernel: Kernel, proc: Process, fd: number) => void;
}

const MiB = 1024 * 1024;
const ONE_MEG = MiB;

/** Allocates `len` bytes as the selftest's `dmabuf_heap_alloc` does (O_RDWR | O_CLOEXEC). */
function heapAlloc(proc: Process, heapFd: number, len: number, heapFlags = 0n): number {
  return allocFromHeap(proc, heapFd, len, { fdFlags: O_RDWR | O_CLOEXEC, heapFlags });
}

/**
 * Declares the dmabuf-heaps selftest (SPEC §12.1) as vitest cases: for every entry of
 * /dev/dma_heap, in readdir order, the 11 results of the kernel's own test — allocate and
 * import, zeroed 4 KiB × 32 and 1 MiB × 32, the older and newer ALLOC struct variants, and the
 * three error cases.
 */
export function describeDmabufHeapsSelftest(options: HeapSelftestOptions): void {
  const heaps = options.kernel().spawn({ name: "dmabuf-heap" }).readdir("/dev/dma_heap");
  describe("dmabuf-heaps selftest", () => {
    it("lists at least one heap in /dev/dma_heap", () => {
      expect(heaps.length).toBeGreaterThan(0);
    });
    for (const name of heaps) {
      describe(`heap ${name}`, () => {
        const setup = () => {
          const kernel = options.kernel();
          const proc = kernel.spawn({ name: "dmabuf-heap" });
          const heapFd = proc.open(`/dev/dma_heap/${name}`, O_RDWR);
          return { kernel, proc, heapFd };
        };

        const allocAndFill = () => {
          const ctx = setup();
          const fd = heapAlloc(ctx.proc, ctx.heapFd, ONE_MEG);
          const map = ctx.proc.mmap(fd, ONE_MEG, PROT_READ | PROT_WRITE, MAP_SHARED);
          withCpuAccess(ctx.proc, fd, "rw", () => {
            map.fill(1, 0, ONE_MEG / 2);
            map.fill(0, ONE_MEG / 2, ONE_MEG / 2);
          });
          return { ...ctx, fd, map };
        };

        it.skipIf(!options.importFd)("alloc and import: import into a vgem-like device", () => {
          const { kernel, proc, fd } = allocAndFill();
          options.importFd?.(kernel, proc, fd);
        });

        it("alloc and import: dmabuf sync succeeded", () => {
          const { kernel, proc, fd, map } = allocAndFill();
          if (options.importFd) options.importFd(kernel, proc, fd);
          withCpuAccess(proc, fd, "rw", () => map.fill(0xff));
          expect(map.read(ONE_MEG - 1, 1)[0]).toBe(0xff);
        });

        for (const size of [4096, ONE_MEG]) {
          const label = size === 4096 ? "4k" : "1M";
          const fillAll = (proc: Process, heapFd: number) => {
            const fds: number[] = [];
            for (let i = 0; i < 32; i++) {
              const fd = heapAlloc(proc, heapFd, size);
              const map = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
              withCpuAccess(proc, fd, "rw", () => map.fill(0xff));
              proc.munmap(map);
              fds.push(fd);
            }
            for (const fd of fds) proc.close(fd);
          };
          it(`alloc zeroed ${label}: allocate and fill a bunch of buffers`, () => {
            const { proc, heapFd } = setup();
            fillAll(proc, heapFd);
          });
          it(`alloc zeroed ${label}: all buffers are zeroed`, () => {
            const { proc, heapFd } = setup();
            fillAll(proc, heapFd);
            for (let i = 0; i < 32; i++) {
              const fd = heapAlloc(proc, heapFd, size);
              const map = proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
              const bytes = withCpuAccess(proc, fd, "rw", () => map.read());
              expect(bytes.every((b) => b === 0)).toBe(true);
              proc.munmap(map);
            }
          });
        }

        it("alloc compat: the older 16-byte struct", () => {
          const { proc, heapFd } = setup();
          const arg = new Uint8Array(16);
          const v = view(arg);
          v.setBigUint64(0, BigInt(ONE_MEG), true);
          v.setUint32(12, O_RDWR | O_CLOEXEC, true);
          expect(proc.ioctl(heapFd, _IOWR(DMA_HEAP_IOC_MAGIC, 0, 16), arg)).toBe(0);
          proc.close(v.getUint32(8, true));
        });

        it("alloc compat: the newer 48-byte struct with garbage fields", () => {
          const { proc, heapFd } = setup();
          const arg = new Uint8Array(48);
          const v = view(arg);
          v.setBigUint64(0, BigInt(ONE_MEG), true);
          v.setUint32(12, O_RDWR | O_CLOEXEC, true);
          v.setUint32(24, 0xffffffff, true);
          v.setUint32(28, 0x88888888, true);
          v.setUint32(32, 0x11111111, true);
          expect(proc.ioctl(heapFd, _IOWR(DMA_HEAP_IOC_MAGIC, 0, 48), arg)).toBe(0);
          expect([v.getUint32(24, true), v.getUint32(28, true), v.getUint32(32, true)]).toEqual([
            0xffffffff, 0x88888888, 0x11111111,
          ]);
          proc.close(v.getUint32(8, true));
        });

        it("alloc errors: ALLOC on a fd that is not a heap fails", () => {
          const { proc, heapFd } = setup();
          proc.close(heapFd);
          const stdin = proc.open("/proc/self/comm", 0);
          expect(stdin).toBe(0);
          const arg = encodeDmaHeapAllocationData({ len: BigInt(ONE_MEG), fdFlags: O_RDWR });
          expect(() => proc.ioctl(stdin, DMA_HEAP_IOCTL_ALLOC, arg)).toThrow(
            expect.objectContaining({ code: "ENOTTY" }),
          );
        });

        it("alloc errors: invalid heap flags fail with EINVAL", () => {
          const { proc, heapFd } = setup();
          expect(() => heapAlloc(proc, heapFd, ONE_MEG, 0x111111n)).toThrow(
            expect.objectContaining({ code: "EINVAL" }),
          );
        });

        it("alloc errors: invalid fd flags fail with EINVAL", () => {
          const { proc, heapFd } = setup();
          expect(() =>
            allocFromHeap(proc, heapFd, ONE_MEG, { fdFlags: ~(O_RDWR | O_CLOEXEC) >>> 0 }),
          ).toThrow(expect.objectContaining({ code: "EINVAL" }));
        });
      });
    }
  });
}
