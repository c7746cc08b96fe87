// The heap rules (dma-heap.c and the heaps): the factory, naming, the ALLOC ioctl, allocation,
// observability and leaks, seen from user space.

import { allocFromHeap, type Process, setBufferName, withCpuAccess } from "@dmabuf/core";
import {
  _IOWR,
  DMA_BUF_MAGIC,
  DMA_HEAP_IOC_MAGIC,
  DMA_HEAP_IOCTL_ALLOC,
  encodeDmaHeapAllocationData,
  F_GETFD,
  F_GETFL,
  FD_CLOEXEC,
  MAP_SHARED,
  O_ACCMODE,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  PROT_READ,
  PROT_WRITE,
  S_IFCHR,
  S_IFMT,
  SEEK_END,
  view,
} from "@dmabuf/core/uapi";
import {
  ConformanceFailure,
  check,
  checkEqual,
  checkUnchanged,
  expectError,
  expectSuccess,
} from "../assert.js";
import { needs } from "../capabilities.js";
import { firstNonZero, mapForDevice, testDevice } from "../device-view.js";
import { fitBudget, fitSize, fitSizes, KiB, MiB } from "../exporter/context.js";
import { BUFINFO, parseBufinfo, parseFdinfo } from "../observability.js";
import { readBack } from "../scratch.js";
import type { HeapSession } from "../session.js";
import type { HeapCase } from "./context.js";

/** Most allocations the fault walk tries to fail (a bound for heaps that allocate per page). */
const FAULT_WALK_LIMIT = 48;

/** The allocation points the fault walk fails, with their words. */
const FAILING_POINTS: readonly (readonly ["page" | "sg", string])[] = [
  ["page", "page allocation"],
  ["sg", "sg-table allocation"],
];

function factoryCheck(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure("FACTORY", message);
}

function bufferOf(s: HeapSession, fd: number, proc: Process = s.proc) {
  const buf = s.kernel.dmaBuf.fromFile(proc.fileOf(fd));
  check(buf, `fd ${fd} is not a dma-buf`);
  return buf;
}

function fdinfo(proc: Process, fd: number): Map<string, string> {
  return parseFdinfo(proc.readFile(`/proc/self/fdinfo/${fd}`));
}

function bufinfo(proc: Process) {
  return parseBufinfo(proc.readFile(BUFINFO));
}

function closeAll(proc: Process, fds: readonly number[]): void {
  for (const fd of fds) proc.close(fd);
}

/** The selftest's request with a struct of `size` bytes (older 16, newer 48). */
function allocWithStructSize(s: HeapSession, len: number, size: number): number {
  const arg = new Uint8Array(size);
  const v = view(arg);
  v.setBigUint64(0, BigInt(len), true);
  v.setUint32(12, O_RDWR | O_CLOEXEC, true);
  for (let i = 24; i + 4 <= size; i += 4) v.setUint32(i, 0x11111111 * ((i / 4) % 15), true);
  const tail = arg.slice(24);
  checkEqual(s.proc.ioctl(s.heapFd, _IOWR(DMA_HEAP_IOC_MAGIC, 0, size), arg), 0, "ioctl result");
  checkEqual(arg.slice(24), tail, `bytes past the 24-byte struct of a ${size}-byte request`);
  return v.getUint32(8, true);
}

/**
 * The heap cases, in order: the factory first (fresh, isolated kernels), then the heap's
 * user-space contract. The heap suite runs these and then the exporter cases through the
 * heap's allocate method.
 */
export const heapCases: readonly HeapCase[] = [
  {
    id: "heap.factory.fresh-kernel",
    title: "The factory returns a new kernel, with the heap registered in it, on every call",
    run(ctx) {
      const a = ctx.boot();
      const b = ctx.boot();
      factoryCheck(a.kernel !== b.kernel, "the factory returned the same kernel twice");
      factoryCheck(a.heap !== b.heap, "two kernels share one registered heap");
      for (const s of [a, b]) {
        factoryCheck(s.kernel.dmaBuf.list().length === 0, "a fresh kernel already has buffers");
        factoryCheck(s.kernel.processes().size === 1, "a fresh kernel already has processes");
      }
    },
  },
  {
    id: "heap.factory.isolated",
    title: "Kernels from the factory share no state: buffers, pages and inode numbers",
    spec: "SPEC §3.6",
    run(ctx) {
      const a = ctx.boot();
      const b = ctx.boot();
      const size = fitSize(ctx.capabilities, a.kernel.pageSize, MiB);
      const before = b.kernel.snapshot();
      const fdA = a.alloc(size);
      factoryCheck(
        JSON.stringify(b.kernel.snapshot()) === JSON.stringify(before),
        "allocating in one kernel changed another kernel's state",
      );
      const fdB = b.alloc(size);
      factoryCheck(
        a.proc.fstat(fdA).ino === b.proc.fstat(fdB).ino,
        "inode numbers are shared between kernels (module-level state)",
      );
      factoryCheck(bufinfo(b.proc).totalObjects === 1, "one kernel lists another's buffers");
    },
  },
  {
    id: "heap.factory.registered",
    title: "The heap is registered: /dev/dma_heap/<name> and /sys/class/dma_heap/<name> exist",
    spec: "SPEC §7.3",
    run(ctx) {
      const s = ctx.boot();
      factoryCheck(
        s.proc.readdir("/dev/dma_heap").includes(ctx.heapName),
        `/dev/dma_heap does not list ${ctx.heapName}`,
      );
      checkEqual(s.proc.fstat(s.heapFd).mode & S_IFMT, S_IFCHR, "file type of the heap node");
      const fd = expectSuccess(
        () => s.proc.open(`/dev/dma_heap/${ctx.heapName}`, O_RDONLY),
        "opening the heap read-only",
      );
      s.proc.close(fd);
      const dev = s.proc.readFile(`/sys/class/dma_heap/${ctx.heapName}/dev`);
      check(/^\d+:\d+\n$/.test(dev), `/sys/class/dma_heap/${ctx.heapName}/dev reads ${dev}`);
    },
  },
  {
    id: "heap.naming.name",
    title: "The heap's name is a usable device name",
    spec: "SPEC §7.2",
    run(ctx) {
      const name = ctx.heapName;
      check(name.length > 0, "the heap has an empty name");
      check(!/[\s/]/.test(name), `heap name ${JSON.stringify(name)} has a slash or whitespace`);
      check(name !== "." && name !== "..", `heap name ${JSON.stringify(name)}`);
    },
  },
  {
    id: "heap.naming.exp-name",
    title: "Buffers carry the heap's name as exporter name (fdinfo, bufinfo)",
    spec: "SPEC §3.5, §11",
    run(ctx) {
      const s = ctx.boot();
      const fd = s.alloc(s.kernel.pageSize);
      const buf = bufferOf(s, fd);
      checkEqual(buf.expName, ctx.heapName, "the buffer's exporter name");
      checkEqual(fdinfo(s.proc, fd).get("exp_name"), ctx.heapName, "fdinfo exp_name");
      const entry = bufinfo(s.proc).buffers.find((e) => e.ino === buf.ino);
      checkEqual(entry?.expName, ctx.heapName, "bufinfo exp_name");
    },
  },
  {
    id: "heap.naming.set-name",
    title: "DMA_BUF_SET_NAME names a heap buffer, attached or not; 32 bytes fail with EINVAL",
    spec: "SPEC §2.2, §3.6",
    run(ctx) {
      const s = ctx.boot();
      const fd = s.alloc(s.kernel.pageSize);
      const buf = bufferOf(s, fd);
      setBufferName(s.proc, fd, "conformance-frame");
      checkEqual(fdinfo(s.proc, fd).get("name"), "conformance-frame", "fdinfo name");
      checkEqual(s.proc.readlink(`/proc/self/fd/${fd}`), "/dmabuf:conformance-frame", "fd link");
      const m = mapForDevice(s.kernel, buf, testDevice("namer"));
      expectSuccess(() => setBufferName(s.proc, fd, "renamed"), "renaming an attached buffer");
      m.detach();
      expectError(() => setBufferName(s.proc, fd, "x".repeat(32)), "EINVAL", "a 32-byte name");
      checkEqual(buf.name, "renamed", "the name after the refused rename");
    },
  },
  {
    id: "heap.ioctl.alloc",
    title: "ALLOC returns a dma-buf fd of the requested size",
    spec: "SPEC §3.6, §7.4",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const fds: number[] = [];
      for (const size of fitBudget(ctx.capabilities, ps, [ps, 3 * ps, MiB])) {
        const fd = expectSuccess(() => s.alloc(size), `allocating ${size} bytes`);
        fds.push(fd);
        checkEqual(s.proc.fstat(fd).size, size, "st_size");
        checkEqual(s.proc.fstatfs(fd).fType, DMA_BUF_MAGIC, "f_type");
        checkEqual(s.proc.lseek(fd, 0, SEEK_END), size, "lseek(SEEK_END)");
        checkEqual(
          s.proc.readlink(`/proc/self/fd/${fd}`),
          "/dmabuf:",
          "fd link of an unnamed buffer",
        );
      }
      checkEqual(new Set(fds).size, fds.length, "distinct fds");
      closeAll(s.proc, fds);
    },
  },
  {
    id: "heap.ioctl.struct-sizes",
    title: "ALLOC accepts the older 16-byte and newer 48-byte structs (extra bytes untouched)",
    spec: "SPEC §7.4, §12.1",
    run(ctx) {
      const s = ctx.boot();
      const len = fitSize(ctx.capabilities, s.kernel.pageSize, MiB);
      for (const size of [16, 24, 48]) {
        const fd = expectSuccess(() => allocWithStructSize(s, len, size), `${size}-byte struct`);
        checkEqual(s.proc.fstat(fd).size, len, `size allocated through a ${size}-byte struct`);
        s.proc.close(fd);
      }
    },
  },
  {
    id: "heap.ioctl.fd-flags",
    title: "fd_flags give the file its access mode and the fd close-on-exec",
    spec: "SPEC §3.6, §7.4",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const rw = s.alloc(ps, { fdFlags: O_RDWR | O_CLOEXEC });
      checkEqual(s.proc.fcntl(rw, F_GETFD), FD_CLOEXEC, "F_GETFD of an O_CLOEXEC buffer");
      checkEqual(s.proc.fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR, "access mode of an O_RDWR buffer");
      const ro = expectSuccess(
        () => s.alloc(ps, { fdFlags: O_RDONLY }),
        "allocating with fd_flags O_RDONLY",
      );
      checkEqual(s.proc.fcntl(ro, F_GETFD), 0, "F_GETFD without O_CLOEXEC");
      checkEqual(
        s.proc.fcntl(ro, F_GETFL) & O_ACCMODE,
        O_RDONLY,
        "access mode of an O_RDONLY buffer",
      );
      expectError(
        () => s.proc.mmap(ro, ps, PROT_READ | PROT_WRITE, MAP_SHARED),
        "EACCES",
        "a shared writable mapping of a read-only buffer",
      );
      const wo = expectSuccess(
        () => s.alloc(ps, { fdFlags: O_WRONLY }),
        "allocating with fd_flags O_WRONLY",
      );
      closeAll(s.proc, [rw, ro, wo]);
    },
  },
  {
    id: "heap.ioctl.invalid",
    title: "Invalid requests fail with EINVAL and allocate nothing",
    spec: "SPEC §7.4",
    run(ctx) {
      const s = ctx.boot();
      const ps = BigInt(s.kernel.pageSize);
      const before = s.kernel.snapshot();
      const requests: [string, () => unknown][] = [
        ["heap_flags 0x111111", () => s.alloc(ps, { heapFlags: 0x111111n })],
        ["fd_flags with O_NONBLOCK", () => s.alloc(ps, { fdFlags: O_RDWR | O_NONBLOCK })],
        [
          "fd_flags ~(O_RDWR|O_CLOEXEC)",
          () => s.alloc(ps, { fdFlags: ~(O_RDWR | O_CLOEXEC) >>> 0 }),
        ],
        ["len 0", () => s.alloc(0)],
        ["len wrapping past 2^64", () => s.alloc(2n ** 64n - 1n)],
        [
          "fd not 0 on input",
          () =>
            s.proc.ioctl(
              s.heapFd,
              DMA_HEAP_IOCTL_ALLOC,
              encodeDmaHeapAllocationData({ len: ps, fd: 5, fdFlags: O_RDWR }),
            ),
        ],
        [
          "ioctl nr 1",
          () =>
            s.proc.ioctl(
              s.heapFd,
              _IOWR(DMA_HEAP_IOC_MAGIC, 1, 24),
              encodeDmaHeapAllocationData({ len: ps, fdFlags: O_RDWR }),
            ),
        ],
      ];
      for (const [what, call] of requests) {
        expectError(call, "EINVAL", what);
        checkUnchanged(s.kernel, before, `kernel state after ${what}`);
      }
    },
  },
  {
    id: "heap.ioctl.not-a-heap",
    title: "ALLOC on a file that is not a heap fails with ENOTTY",
    spec: "SPEC §12.1",
    run(ctx) {
      const s = ctx.boot();
      const arg = () => encodeDmaHeapAllocationData({ len: 4096n, fdFlags: O_RDWR });
      const devNull = s.proc.open("/dev/null", O_RDWR);
      expectError(() => s.proc.ioctl(devNull, DMA_HEAP_IOCTL_ALLOC, arg()), "ENOTTY", "/dev/null");
      const buf = s.alloc(s.kernel.pageSize);
      expectError(() => s.proc.ioctl(buf, DMA_HEAP_IOCTL_ALLOC, arg()), "ENOTTY", "a dma-buf fd");
      closeAll(s.proc, [devNull, buf]);
    },
  },
  {
    id: "heap.ioctl.emfile",
    title: "ALLOC without a free fd fails with EMFILE and releases the buffer",
    spec: "SPEC §7.4 step 6",
    run(ctx) {
      const s = ctx.boot();
      const size = fitSize(ctx.capabilities, s.kernel.pageSize, 64 * KiB + s.kernel.pageSize);
      const before = s.kernel.snapshot();
      s.proc.rlimitNofile = Math.max(...s.proc.fds()) + 1;
      expectError(() => s.alloc(size), "EMFILE", "ALLOC with every fd in use");
      checkUnchanged(s.kernel, before, "kernel state after the EMFILE");
      s.proc.rlimitNofile = 1024;
      s.proc.close(expectSuccess(() => s.alloc(size), "ALLOC once an fd is free"));
    },
  },
  {
    id: "heap.alloc.page-rounding",
    title: "Lengths are rounded up to whole pages",
    spec: "SPEC §7.4 step 4",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const lens = [1, ps - 1, ps + 1, 3 * ps + 1].filter(
        (l) => ctx.capabilities.maxAllocation === undefined || l <= ctx.capabilities.maxAllocation,
      );
      for (const len of lens) {
        const fd = expectSuccess(() => s.alloc(len), `allocating ${len} bytes`);
        const want = Math.ceil(len / ps) * ps;
        checkEqual(s.proc.fstat(fd).size, want, `st_size of a ${len}-byte request`);
        checkEqual(fdinfo(s.proc, fd).get("size"), String(want), `fdinfo size of ${len} bytes`);
        s.proc.close(fd);
      }
    },
  },
  {
    id: "heap.alloc.zeroed-after-reuse",
    title: "Buffers read as zero from user space, also when they reuse freed memory",
    spec: "SPEC §8.1, §12.1 (test_alloc_zeroed)",
    requires: needs.mmap,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const size of fitSizes(ctx.capabilities, ps, [ps, 16 * ps, MiB])) {
        const fill = (fd: number, check0: boolean) => {
          const m = s.proc.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
          withCpuAccess(s.proc, fd, "rw", () => {
            if (check0) {
              const bytes = m.read(0, m.length, readBack.take(m.length));
              const at = firstNonZero(bytes);
              check(at < 0, `a ${size}-byte buffer has byte ${at} = ${bytes[at]}, not 0`);
            }
            m.fill(0xff);
          });
          s.proc.munmap(m);
        };
        const max = ctx.capabilities.maxAllocation ?? Number.POSITIVE_INFINITY;
        const count = Math.max(1, Math.min(8, Math.floor(max / size)));
        for (let round = 0; round < 2; round++) {
          const fds = Array.from({ length: count }, () => s.alloc(size));
          for (const fd of fds) fill(fd, true);
          closeAll(s.proc, fds);
        }
      }
    },
  },
  {
    id: "heap.alloc.distinct-memory",
    title: "Live buffers never share pages, and their pages are not free",
    spec: "SPEC §8.1",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const seen = new Map<number, number>();
      const fds = fitBudget(ctx.capabilities, ps, [ps, 16 * ps, 64 * KiB + ps, 2 * ps]).map(
        (size) => s.alloc(size),
      );
      for (const fd of fds) {
        const m = mapForDevice(s.kernel, bufferOf(s, fd), testDevice("pages"));
        const t = m.sgt;
        for (let i = 0; i < t.entryCount; i++) {
          const first = t.pfn[i] as number;
          for (let p = 0; p < (t.length[i] as number) / ps; p++) {
            const pfn = first + p;
            const owner = seen.get(pfn);
            check(
              owner === undefined,
              `page ${pfn} belongs to the buffers of fds ${owner} and ${fd}`,
            );
            check(!s.kernel.buddy.isFree(pfn), `page ${pfn} of a live buffer is free`);
            seen.set(pfn, fd);
          }
        }
        m.detach();
      }
      closeAll(s.proc, fds);
    },
  },
  {
    id: "heap.alloc.enomem",
    title:
      "Allocations beyond memory fail with ENOMEM, leave nothing behind, and the heap recovers",
    spec: "SPEC §8.1, §9.2",
    run(ctx) {
      const s = ctx.boot();
      const k = s.kernel;
      const ps = k.pageSize;
      const before = k.snapshot();
      expectError(() => s.alloc(k.memory.pageCount * ps + ps), "ENOMEM", "more than all RAM");
      checkUnchanged(k, before, "kernel state after an allocation larger than RAM");
      const small = s.alloc(ps);
      const mid = k.snapshot();
      const everything = (k.buddy.freePageCount() + 1) * ps;
      expectError(() => s.alloc(everything), "ENOMEM", "every free page and one more");
      checkUnchanged(k, mid, "kernel state after running out part-way");
      const size = fitSize(ctx.capabilities, ps, 64 * KiB + ps);
      s.proc.close(expectSuccess(() => s.alloc(size), "allocating again after ENOMEM"));
      s.proc.close(small);
    },
  },
  {
    id: "heap.alloc.max-allocation",
    title:
      "The declared maximum allocation succeeds on a fresh kernel; one page more fails (ENOMEM)",
    requires: needs.maxAllocation,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const max = Math.floor((ctx.capabilities.maxAllocation as number) / ps) * ps;
      s.proc.close(expectSuccess(() => s.alloc(max), `allocating the declared maximum (${max})`));
      const before = s.kernel.snapshot();
      expectError(() => s.alloc(max + ps), "ENOMEM", "one page more than the declared maximum");
      checkUnchanged(s.kernel, before, "kernel state after the refused allocation");
    },
  },
  {
    id: "heap.alloc.contiguous",
    title: "A contiguous heap's buffers are one physically contiguous run",
    requires: needs.contiguous,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const sizes = fitBudget(ctx.capabilities, ps, [ps, 5 * ps, 64 * KiB + 3 * ps, MiB + ps]);
      const fds = sizes.map((size) => s.alloc(size));
      for (const [i, fd] of fds.entries()) {
        const m = mapForDevice(s.kernel, bufferOf(s, fd), testDevice("scanout"));
        check(m.sgt.isContiguous(ps), `a ${sizes[i]}-byte buffer is not physically contiguous`);
        for (let j = 1; j < m.sgt.nents; j++) {
          const prevEnd = (m.sgt.dmaAddress[j - 1] as number) + (m.sgt.dmaLength[j - 1] as number);
          check(
            m.sgt.dmaAddress[j] === prevEnd,
            `DMA segment ${j} does not follow segment ${j - 1}`,
          );
        }
        m.detach();
      }
      closeAll(s.proc, fds);
    },
  },
  {
    id: "heap.alloc.fatal-signal",
    title: "An allocation by a killed process succeeds or fails with EINTR/ENOMEM, leaving nothing",
    spec: "SPEC §8.1, §9.2",
    run(ctx) {
      const s = ctx.boot();
      const victim = s.kernel.spawn({ name: "victim" });
      const heapFd = victim.open(`/dev/dma_heap/${ctx.heapName}`, O_RDWR);
      victim.kill();
      const before = s.kernel.snapshot();
      const size = fitSize(ctx.capabilities, s.kernel.pageSize, MiB);
      try {
        victim.ioctl(
          heapFd,
          DMA_HEAP_IOCTL_ALLOC,
          encodeDmaHeapAllocationData({ len: BigInt(size), fdFlags: O_RDWR }),
        );
      } catch (e) {
        const code = (e as { code?: string }).code;
        check(
          code === "EINTR" || code === "ENOMEM",
          `a killed allocation failed with ${String(code ?? e)}, not EINTR or ENOMEM`,
        );
        checkUnchanged(s.kernel, before, "kernel state after the interrupted allocation");
      }
      victim.exit();
    },
  },
  {
    id: "heap.alloc.fault-walk",
    title:
      "Failing each page or sg-table allocation of an ALLOC in turn, or killing the caller after each page, gives ENOMEM or EINTR and leaves the kernel as it was",
    spec: "SPEC §8.1, §9.2",
    run(ctx) {
      const s = ctx.boot();
      const k = s.kernel;
      const ps = k.pageSize;
      const size = fitSize(ctx.capabilities, ps, 64 * KiB + 3 * ps);
      const alloc = (proc: Process, heapFd: number) =>
        allocFromHeap(proc, heapFd, size, { fdFlags: O_RDWR });
      // fail_page_alloc and failslab (sg tables): the Nth allocation fails, for every N the
      // allocation reaches.
      for (const [point, what] of FAILING_POINTS) {
        for (let n = 1; n <= FAULT_WALK_LIMIT; n++) {
          const before = k.snapshot();
          k.faults.failNth(point, n);
          let fd = -1;
          try {
            fd = alloc(s.proc, s.heapFd);
          } catch (e) {
            const code = (e as { code?: string }).code;
            k.faults.reset();
            if (code !== "ENOMEM") {
              throw new ConformanceFailure(
                "WRONG_ERROR",
                `with ${what} ${n} failing: expected ENOMEM, got ${String(code ?? e)}`,
                code,
              );
            }
            checkUnchanged(k, before, `kernel state after ALLOC with ${what} ${n} failing`);
            continue;
          }
          // Success is allowed (a heap may fall back to smaller chunks); it must leave nothing.
          const reached = k.faults.count(point);
          k.faults.reset();
          s.proc.close(fd);
          checkUnchanged(k, before, `kernel state after freeing a buffer allocated past a failure`);
          if (reached < n) break;
        }
      }
      // A fatal signal after the Nth page allocation, for every N the allocation reaches.
      for (let n = 1; n <= FAULT_WALK_LIMIT; n++) {
        const victim = k.spawn({ name: "victim" });
        const heapFd = victim.open(`/dev/dma_heap/${ctx.heapName}`, O_RDWR);
        const before = k.snapshot();
        k.faults.fatalSignalAfterPages(n);
        let done = false;
        try {
          alloc(victim, heapFd);
          done = k.faults.count("page") < n;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code !== "EINTR" && code !== "ENOMEM") {
            throw new ConformanceFailure(
              "WRONG_ERROR",
              `killed after page allocation ${n}: expected EINTR or ENOMEM, got ${String(code ?? e)}`,
              code,
            );
          }
          checkUnchanged(k, before, `kernel state after ALLOC killed after page allocation ${n}`);
        } finally {
          k.faults.reset();
        }
        victim.exit();
        if (done) break;
      }
    },
  },
  {
    id: "heap.alloc.churn",
    title:
      "Allocating and freeing more than the heap can hold at once, in total, always succeeds and leaves nothing",
    spec: "SPEC §3.7, §8.1",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const capacity = ctx.capabilities.maxAllocation ?? s.kernel.memory.bytes;
      // About 18 rounds whatever the capacity, each buffer freed before the next.
      const size = fitSize(ctx.capabilities, ps, Math.max(4 * MiB, Math.ceil(capacity / 16)));
      const rounds = Math.floor(capacity / size) + 2;
      const before = s.kernel.snapshot();
      for (let round = 0; round < rounds; round++) {
        const fd = expectSuccess(
          () => s.alloc(size, { fdFlags: O_RDWR }),
          `allocation ${round + 1} of ${rounds} (${size} bytes; ${round * size} bytes allocated and freed before it)`,
        );
        s.proc.close(fd);
      }
      checkUnchanged(s.kernel, before, `kernel state after ${rounds} allocations of ${size} bytes`);
    },
  },
  {
    id: "heap.observability.fdinfo",
    title: "fdinfo shows the buffer's size, flags, inode, references, exporter and name",
    spec: "SPEC §11.3",
    run(ctx) {
      const s = ctx.boot();
      const size = fitSize(ctx.capabilities, s.kernel.pageSize, 3 * s.kernel.pageSize);
      const fd = s.alloc(size, { fdFlags: O_RDWR | O_CLOEXEC });
      let info = fdinfo(s.proc, fd);
      checkEqual(info.get("size"), String(size), "fdinfo size");
      checkEqual(info.get("exp_name"), ctx.heapName, "fdinfo exp_name");
      checkEqual(info.get("ino"), String(s.proc.fstat(fd).ino), "fdinfo ino");
      checkEqual(info.get("flags"), "02000002", "fdinfo flags of O_RDWR|O_CLOEXEC");
      checkEqual(info.has("name"), false, "fdinfo of an unnamed buffer has a name line");
      const count = Number(info.get("count"));
      const dup = s.proc.dup(fd);
      info = fdinfo(s.proc, fd);
      checkEqual(Number(info.get("count")), count + 1, "fdinfo count after dup");
      closeAll(s.proc, [dup, fd]);
    },
  },
  {
    id: "heap.observability.bufinfo",
    title: "bufinfo lists each live buffer with its size, exporter, inode and devices",
    spec: "SPEC §11.1",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const sizes = fitBudget(ctx.capabilities, ps, [2 * ps, 64 * KiB]);
      const fds = sizes.map((size) => s.alloc(size));
      const bufs = fds.map((fd) => bufferOf(s, fd));
      const m = mapForDevice(s.kernel, bufs[0] as (typeof bufs)[0], testDevice("bufinfo-dev"));
      let info = bufinfo(s.proc);
      for (const [i, buf] of bufs.entries()) {
        const e = info.buffers.find((b) => b.ino === buf.ino);
        check(e, `bufinfo does not list buffer ${buf.ino}`);
        checkEqual(e.size, sizes[i], `bufinfo size of buffer ${buf.ino}`);
        checkEqual(e.expName, ctx.heapName, `bufinfo exp_name of buffer ${buf.ino}`);
        checkEqual(e.name, "<none>", `bufinfo name of unnamed buffer ${buf.ino}`);
        checkEqual(e.devices, i === 0 ? ["bufinfo-dev"] : [], `devices of buffer ${buf.ino}`);
      }
      checkEqual(info.totalObjects, s.kernel.dmaBuf.list().length, "bufinfo object count");
      const bytes = s.kernel.dmaBuf.list().reduce((n, b) => n + b.size, 0);
      checkEqual(info.totalBytes, bytes, "bufinfo byte count");
      m.detach();
      s.proc.close(fds[0] as number);
      info = bufinfo(s.proc);
      check(
        !info.buffers.some((b) => b.ino === (bufs[0] as (typeof bufs)[0]).ino),
        "bufinfo still lists a released buffer",
      );
    },
  },
  {
    id: "heap.observability.sysfs",
    title: "/sys/kernel/dmabuf/buffers/<ino> shows exporter name and size while the buffer lives",
    spec: "SPEC §11.2",
    requires: needs.sysfsStats,
    run(ctx) {
      const s = ctx.boot();
      const size = fitSize(ctx.capabilities, s.kernel.pageSize, 2 * s.kernel.pageSize);
      const fd = s.alloc(size);
      const ino = s.proc.fstat(fd).ino;
      const dir = `/sys/kernel/dmabuf/buffers/${ino}`;
      checkEqual(s.proc.readFile(`${dir}/exporter_name`), `${ctx.heapName}\n`, "exporter_name");
      checkEqual(s.proc.readFile(`${dir}/size`), `${size}\n`, "size");
      s.proc.close(fd);
      check(
        !s.proc.readdir("/sys/kernel/dmabuf/buffers").includes(String(ino)),
        "the sysfs directory outlived the buffer",
      );
    },
  },
  {
    id: "heap.observability.maps",
    title: "/proc/PID/maps shows a heap mapping as a shared /dmabuf: mapping, with its name",
    spec: "SPEC §11.4",
    requires: needs.mmap,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const fd = s.alloc(ps);
      const m = s.proc.mmap(fd, ps, PROT_READ | PROT_WRITE, MAP_SHARED);
      const line = () =>
        s.proc
          .readFile("/proc/self/maps")
          .split("\n")
          .find((l) => l.startsWith(m.address.toString(16).padStart(8, "0")));
      check(line()?.includes(" rw-s "), `maps line ${line()} is not a shared rw mapping`);
      check(line()?.endsWith("/dmabuf:"), `maps line ${line()} does not name /dmabuf:`);
      setBufferName(s.proc, fd, "scanout");
      check(line()?.endsWith("/dmabuf:scanout"), `maps line ${line()} after naming`);
      s.proc.munmap(m);
      s.proc.close(fd);
    },
  },
  {
    id: "heap.leaks.process-exit",
    title: "Processes that allocate, share, map and exit leave no pages, files or references",
    spec: "SPEC §3.7, §3.8",
    run(ctx) {
      const s = ctx.boot();
      const k = s.kernel;
      const ps = k.pageSize;
      s.proc.exit();
      const before = k.snapshot();
      const procs = [k.spawn({ name: "camera" }), k.spawn({ name: "display" })];
      const sizes = fitBudget(ctx.capabilities, ps, [ps, 64 * KiB + ps, MiB], 2);
      for (const [i, p] of procs.entries()) {
        const heapFd = p.open(`/dev/dma_heap/${ctx.heapName}`, O_RDWR);
        for (const size of sizes) {
          const data = encodeDmaHeapAllocationData({ len: BigInt(size), fdFlags: O_RDWR });
          p.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, data);
          const fd = view(data).getUint32(8, true);
          setBufferName(p, fd, `buf${i}-${size}`);
          p.dup(fd);
          if (ctx.capabilities.mmap) p.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
          const other = procs[(i + 1) % procs.length] as Process;
          p.sendFd(fd, other);
        }
      }
      for (const p of procs) p.exit();
      checkUnchanged(k, before, "kernel state after every process exited");
    },
  },
];
