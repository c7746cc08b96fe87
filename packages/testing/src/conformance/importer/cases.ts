// The importer rules (dma_buf_get/attach/map/unmap/detach/put): references, DMA, release order.

import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  DMA_TO_DEVICE,
  type DmaBuf,
  type DmaDirection,
  DmaFence,
  type Kernel,
  type Process,
  withCpuAccess,
} from "@dmabuf/core";
import { MAP_SHARED, O_RDWR, POLLIN, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import {
  ConformanceFailure,
  check,
  checkEqual,
  checkUnchanged,
  expectError,
  expectSuccess,
} from "../assert.js";
import { firstDifference, mapForDevice, pagePattern, testDevice } from "../device-view.js";
import { KiB } from "../exporter/context.js";
import { BUFINFO, parseBufinfo } from "../observability.js";
import { readBack } from "../scratch.js";
import type {
  BufferSource,
  ImporterCapabilities,
  ImporterCase,
  ImporterWork,
  ImportHandle,
  SourceBuffer,
} from "./context.js";
import { PinnablePageExporter } from "./pinnable-exporter.js";
import { type TracedCall, TracedPageExporter } from "./traced-exporter.js";

/** 1 MiB + 64 KiB + 12 KiB: several sg entries from the system heap. */
const SIZE = 1024 * KiB + 64 * KiB + 12 * KiB;

function checkBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const at = firstDifference(actual, expected);
  check(at < 0, `${what}: byte ${at} is ${actual[at]}, expected ${expected[at]}`);
}

function cpuWrite(proc: Process, b: SourceBuffer, offset: number, bytes: Uint8Array): void {
  const m = proc.mmap(b.fd, b.buf.size, PROT_READ | PROT_WRITE, MAP_SHARED);
  withCpuAccess(proc, b.fd, "write", () => m.write(offset, bytes));
  proc.munmap(m);
}

/** The whole buffer as the CPU reads it, into the read-back scratch (compare it at once). */
function cpuRead(proc: Process, b: SourceBuffer): Uint8Array {
  const m = proc.mmap(b.fd, b.buf.size, PROT_READ, MAP_SHARED);
  const bytes = withCpuAccess(proc, b.fd, "read", () =>
    m.read(0, m.length, readBack.take(m.length)),
  );
  proc.munmap(m);
  return bytes;
}

function isLive(kernel: Kernel, buf: DmaBuf): boolean {
  return kernel.dmaBuf.list().includes(buf);
}

function importOf(
  proc: Process,
  importer: { importFd(p: Process, fd: number): ImportHandle },
  b: SourceBuffer,
  source: BufferSource,
) {
  return expectSuccess(() => importer.importFd(proc, b.fd), `importing a ${source.name} buffer`);
}

function attachedDevices(proc: Process, buf: DmaBuf): readonly string[] {
  const entry = parseBufinfo(proc.readFile(BUFINFO)).buffers.find((e) => e.ino === buf.ino);
  check(entry, `bufinfo does not list buffer ${buf.ino}`);
  return entry.devices;
}

function traced(sources: readonly BufferSource[]): BufferSource & { calls: readonly TracedCall[] } {
  const s = sources.find((x) => x.calls !== undefined);
  if (!s?.calls) throw new ConformanceFailure("FACTORY", "no traced exporter in the session");
  return s as BufferSource & { calls: readonly TracedCall[] };
}

/** Mappings of `dev` live at `from` (mapped before, not unmapped) or made after it. */
function mappingsInUse(calls: readonly TracedCall[], from: number, dev: string): TracedCall[] {
  const live: TracedCall[] = [];
  for (const [i, c] of calls.entries()) {
    if (c.dev !== dev) continue;
    if (c.op === "map") live.push(c);
    if (c.op === "unmap" && i < from) {
      const j = live.findIndex((m) => m.sgt === c.sgt);
      if (j >= 0) live.splice(j, 1);
    }
  }
  return live;
}

/** The importer must declare asynchronous work for the fence cases. */
function needsAsyncWork(c: ImporterCapabilities): string | undefined {
  return c.asyncWork ? undefined : "the importer declares no asynchronous work (asyncWork)";
}

/** The importer must declare dynamic imports for the move-notify case. */
function needsDynamic(c: ImporterCapabilities): string | undefined {
  return c.dynamic ? undefined : "the importer declares no dynamic imports (dynamic)";
}

/** The queueing methods of an import whose importer declared `asyncWork`. */
function asyncOps(imp: ImportHandle): Pick<ImportHandle, "queueRead" | "queueWrite"> {
  if (!imp.queueRead && !imp.queueWrite) {
    throw new ConformanceFailure(
      "EXPECTATION_FAILED",
      "the importer declares asyncWork but its imports have neither queueRead nor queueWrite",
    );
  }
  return { queueRead: imp.queueRead?.bind(imp), queueWrite: imp.queueWrite?.bind(imp) };
}

/** An unsignalled fence of a pretend writer, signalled when the case says (a sw_sync point). */
function writerFence(kernel: Kernel, timeline = "writer"): DmaFence {
  const ops = { getDriverName: () => "conformance", getTimelineName: () => timeline };
  return new DmaFence(kernel.fences, ops, kernel.fences.contextAlloc(1), 1);
}

/**
 * Queues device work of `length` bytes at `at`: the `prefer`red kind when the import has it,
 * else the other. A write's bytes go into `expected`; a read's `check` compares what it read
 * with `expected` as it is now.
 */
function queueSome(
  ops: Pick<ImportHandle, "queueRead" | "queueWrite">,
  prefer: "read" | "write",
  at: number,
  length: number,
  expected: Uint8Array,
  seed: number,
  pageSize: number,
): { readonly work: ImporterWork; check(): void } {
  const { queueRead, queueWrite } = ops;
  if (queueWrite && (prefer === "write" || !queueRead)) {
    const bytes = pagePattern(length, pageSize, seed);
    const work = queueWrite(at, bytes);
    expected.set(bytes, at);
    return { work, check: () => undefined };
  }
  if (!queueRead) throw new ConformanceFailure("EXPECTATION_FAILED", "no queued work");
  const want = expected.slice(at, at + length);
  const work = queueRead(at, length);
  return { work, check: () => checkBytes(work.bytes, want, "a device read queued before release") };
}

/** Virtual nanoseconds the pretend writer takes before its fence signals. */
const WRITER_NS = 10_000_000;

const READABLE: readonly DmaDirection[] = [DMA_TO_DEVICE, DMA_BIDIRECTIONAL];
const WRITABLE: readonly DmaDirection[] = [DMA_FROM_DEVICE, DMA_BIDIRECTIONAL];

/** The importer cases, in order. Each runs against buffers of every exporter of the session. */
export const importerCases: readonly ImporterCase[] = [
  {
    id: "importer.factory.fresh-kernel",
    title: "Every kernel gets its own importer and device",
    run(ctx) {
      const a = ctx.boot();
      const b = ctx.boot();
      if (
        a.kernel === b.kernel ||
        a.importer === b.importer ||
        a.importer.device === b.importer.device
      ) {
        throw new ConformanceFailure("FACTORY", "two kernels share a kernel, importer or device");
      }
    },
  },
  {
    id: "importer.import.reference",
    title: "An import holds its own reference: the buffer outlives the fd it came from",
    spec: "SPEC §3.7",
    run(ctx) {
      const s = ctx.boot();
      for (const source of s.sources) {
        const b = source.create(SIZE);
        const pattern = pagePattern(SIZE, s.kernel.pageSize, 1);
        cpuWrite(s.proc, b, 0, pattern);
        const refs = b.buf.file.refCount;
        const imp = importOf(s.proc, s.importer, b, source);
        check(b.buf.file.refCount > refs, `importing a ${source.name} buffer took no reference`);
        s.proc.close(b.fd);
        check(isLive(s.kernel, b.buf), `the ${source.name} buffer died with its fd`);
        checkBytes(imp.read(0, SIZE), pattern, `reading a ${source.name} buffer after close(fd)`);
        imp.release();
        check(!isLive(s.kernel, b.buf), `the ${source.name} buffer outlived its import`);
      }
    },
  },
  {
    id: "importer.import.attaches",
    title: "While imported the importer's device is attached; after release it is not",
    spec: "SPEC §4.2, §11.1",
    run(ctx) {
      const s = ctx.boot();
      const dev = s.importer.device.name;
      for (const source of s.sources) {
        const b = source.create(SIZE);
        const imp = importOf(s.proc, s.importer, b, source);
        imp.read(0, s.kernel.pageSize);
        checkEqual(
          attachedDevices(s.proc, b.buf),
          [dev],
          `devices attached to a ${source.name} buffer`,
        );
        imp.release();
        checkEqual(attachedDevices(s.proc, b.buf), [], `devices attached after release`);
        s.proc.close(b.fd);
      }
    },
  },
  {
    id: "importer.import.bad-fd",
    title: "Importing a closed fd fails with EBADF, a non-dma-buf fd with EINVAL; nothing leaks",
    spec: "SPEC §3.7",
    run(ctx) {
      const s = ctx.boot();
      const devNull = s.proc.open("/dev/null", O_RDWR);
      const before = s.kernel.snapshot();
      expectError(() => s.importer.importFd(s.proc, 999), "EBADF", "importing fd 999");
      checkUnchanged(s.kernel, before, "kernel state after importing a closed fd");
      expectError(() => s.importer.importFd(s.proc, devNull), "EINVAL", "importing /dev/null");
      checkUnchanged(s.kernel, before, "kernel state after importing /dev/null");
    },
  },
  {
    id: "importer.import.failed-attach",
    title:
      "When the exporter's attach or map fails, the import fails with its errno and leaves no reference, attachment, mapping or IOVA",
    spec: "SPEC §3.7, §4.2",
    run(ctx) {
      const s = ctx.boot();
      const source = traced(s.sources);
      const exporter = s.kernel.plugin(TracedPageExporter);
      const before = s.kernel.snapshot();
      const b = source.create(SIZE);
      const refs = b.buf.file.refCount;
      const created = s.kernel.snapshot();
      // Behind an IOMMU the mapping's IOVA allocation fails too (kernel.faults, as fail-nth).
      const points = s.importer.device.iommu
        ? (["attach", "map", "IOVA allocation"] as const)
        : (["attach", "map"] as const);
      for (const op of points) {
        if (op === "IOVA allocation") s.kernel.faults.failNth("iova", 1);
        else exporter.failNext(op);
        expectError(
          () => {
            const imp = s.importer.importFd(s.proc, b.fd);
            // An importer that maps at its first transfer fails there.
            try {
              imp.read(0, s.kernel.pageSize);
            } finally {
              imp.release();
            }
          },
          "ENOMEM",
          `importing (and reading) a page-exporter buffer whose ${op} fails`,
        );
        exporter.failNext(undefined);
        s.kernel.faults.reset();
        checkEqual(
          b.buf.file.refCount,
          refs,
          `references on the buffer after an import whose ${op} failed`,
        );
        checkEqual(
          attachedDevices(s.proc, b.buf),
          [],
          `devices attached after an import whose ${op} failed`,
        );
        checkUnchanged(s.kernel, created, `kernel state after an import whose ${op} failed`);
      }
      const imp = importOf(s.proc, s.importer, b, source);
      imp.read(0, s.kernel.pageSize);
      imp.release();
      s.proc.close(b.fd);
      checkUnchanged(s.kernel, before, "kernel state once the buffer's fd was closed");
    },
  },
  {
    id: "importer.import.declares-async-work",
    title:
      "An importer whose imports queue device work (queueRead, queueWrite) declares asyncWork, so the queued-work cases run",
    spec: "SPEC §4.7",
    requires: (c) =>
      c.asyncWork ? "the importer declares asyncWork (the queued-work cases check it)" : undefined,
    run(ctx) {
      const s = ctx.boot();
      const source = s.sources[0] as BufferSource;
      const b = source.create(SIZE);
      const imp = importOf(s.proc, s.importer, b, source);
      const queues = [imp.queueRead && "queueRead", imp.queueWrite && "queueWrite"].filter(Boolean);
      imp.release();
      s.proc.close(b.fd);
      check(
        queues.length === 0,
        `its imports queue device work (${queues.join(", ")}) but the importer does not declare ` +
          "asyncWork, so the cases of queued work and its fences would be skipped: declare " +
          "capabilities { asyncWork: true }",
      );
    },
  },
  {
    id: "importer.dma.read",
    title: "The device reads what the CPU wrote (after SYNC END), at any offset",
    spec: "SPEC §5.1",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const source of s.sources) {
        const b = source.create(SIZE);
        const imp = importOf(s.proc, s.importer, b, source);
        for (const seed of [2, 3]) {
          const pattern = pagePattern(SIZE, ps, seed);
          cpuWrite(s.proc, b, 0, pattern);
          checkBytes(imp.read(0, SIZE), pattern, `device read of a ${source.name} buffer`);
          const at = 1024 * KiB - 100;
          checkBytes(imp.read(at, 5000), pattern.subarray(at, at + 5000), "a read across chunks");
        }
        imp.release();
        s.proc.close(b.fd);
      }
    },
  },
  {
    id: "importer.dma.write",
    title: "The CPU sees what the device wrote (after SYNC START); other bytes stay",
    spec: "SPEC §5.1",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const source of s.sources) {
        const b = source.create(SIZE);
        const imp = importOf(s.proc, s.importer, b, source);
        const expected = pagePattern(SIZE, ps, 4);
        cpuWrite(s.proc, b, 0, expected);
        const at = 1024 * KiB - 3 * ps - 7;
        const bytes = pagePattern(6 * ps, ps, 5);
        imp.write(at, bytes);
        expected.set(bytes, at);
        checkBytes(
          cpuRead(s.proc, b),
          expected,
          `CPU read of a device-written ${source.name} buffer`,
        );
        imp.release();
        s.proc.close(b.fd);
      }
    },
  },
  {
    id: "importer.dma.mapped-directions",
    title:
      "Reads happen under a TO_DEVICE/BIDIRECTIONAL mapping, writes under FROM_DEVICE/BIDIRECTIONAL",
    spec: "SPEC §4.5",
    run(ctx) {
      const s = ctx.boot();
      const source = traced(s.sources);
      const dev = s.importer.device.name;
      const b = source.create(SIZE);
      const imp = importOf(s.proc, s.importer, b, source);
      for (const [what, allowed, access] of [
        ["read", READABLE, () => imp.read(0, 64)],
        ["write", WRITABLE, () => imp.write(0, new Uint8Array(64))],
        ["read", READABLE, () => imp.read(64, 64)],
      ] as const) {
        const from = source.calls.length;
        access();
        const inUse = mappingsInUse(source.calls, from, dev);
        check(inUse.length > 0, `a device ${what} happened without a mapping`);
        check(
          inUse.some((m) => allowed.includes(m.dir as DmaDirection)),
          `a device ${what} happened under mappings of direction ${inUse.map((m) => m.dir).join(", ")}`,
        );
      }
      imp.release();
      s.proc.close(b.fd);
    },
  },
  {
    id: "importer.release.order",
    title: "Release unmaps every mapping, then detaches, then drops the reference",
    spec: "SPEC §3.8, §4.3",
    run(ctx) {
      const s = ctx.boot();
      const source = traced(s.sources);
      const dev = s.importer.device.name;
      const b = source.create(SIZE);
      const refs = b.buf.file.refCount;
      const imp = importOf(s.proc, s.importer, b, source);
      for (let i = 0; i < 4; i++) {
        imp.read(i * 4096, 4096);
        imp.write(i * 4096, new Uint8Array(16).fill(i));
      }
      imp.release();
      const mine = source.calls.filter((c) => c.dev === dev);
      const maps = mine.filter((c) => c.op === "map").length;
      const unmaps = mine.filter((c) => c.op === "unmap").length;
      checkEqual(unmaps, maps, "unmaps of the importer's mappings");
      const detach = mine.findIndex((c) => c.op === "detach");
      check(detach >= 0, "the importer never detached");
      check(
        mine.slice(detach + 1).every((c) => c.op !== "map" && c.op !== "unmap"),
        "the importer mapped or unmapped after detaching",
      );
      checkEqual(
        mine[detach]?.refs,
        refs + 1,
        "references when the importer detached (its own must still be held: put comes last)",
      );
      checkEqual(b.buf.file.refCount, refs, "references after release");
      check(isLive(s.kernel, b.buf), "the buffer died while user space still held its fd");
      s.proc.close(b.fd);
    },
  },
  {
    id: "importer.release.last-reference",
    title: "When the import is the last reference, release frees the buffer exactly once",
    spec: "SPEC §3.8",
    run(ctx) {
      const s = ctx.boot();
      const source = traced(s.sources);
      const b = source.create(SIZE);
      const imp = importOf(s.proc, s.importer, b, source);
      imp.read(0, 4096);
      s.proc.close(b.fd);
      const released = () => source.calls.filter((c) => c.op === "release" && c.ino === b.buf.ino);
      checkEqual(released().length, 0, "releases while the import holds the buffer");
      imp.release();
      checkEqual(released().length, 1, "releases after the import ended");
    },
  },
  {
    id: "importer.release.queued-work",
    title:
      "Release with device work queued: the work still moves its bytes through a live mapping, then the import ends (detach, put)",
    spec: "SPEC §3.8, §4.7",
    requires: needsAsyncWork,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const at = 5 * ps + 1;
      /** A pretend writer on `b` ahead of the work keeps it queued for WRITER_NS. */
      const holdBack = (b: SourceBuffer): DmaFence => {
        const writer = writerFence(s.kernel);
        b.buf.resv.add(writer, DMA_RESV_USAGE_WRITE);
        s.kernel.clock.schedule(WRITER_NS, () => writer.signal());
        return writer;
      };
      for (const source of s.sources) {
        // User space keeps its fd: the bytes must land, then the device must be detached.
        const kept = source.create(SIZE);
        const expected = pagePattern(SIZE, ps, 17);
        cpuWrite(s.proc, kept, 0, expected);
        const writer = holdBack(kept);
        const first = importOf(s.proc, s.importer, kept, source);
        const queued = queueSome(asyncOps(first), "write", at, 2 * ps, expected, 18, ps);
        check(!queued.work.done, `work queued on a ${source.name} buffer ran before its writer`);
        expectSuccess(
          () => first.release(),
          `releasing a ${source.name} import with device work queued`,
        );
        expectSuccess(
          () => queued.work.wait(),
          `device work queued on a ${source.name} buffer before its import was released`,
        );
        queued.check();
        checkBytes(
          cpuRead(s.proc, kept),
          expected,
          `CPU read once the released import's work ended`,
        );
        checkEqual(
          attachedDevices(s.proc, kept.buf),
          [],
          `devices attached to a ${source.name} buffer once the released import's work ended`,
        );
        s.proc.close(kept.fd);
        // The import holds the last reference: the buffer lives until the work is done.
        const last = source.create(SIZE);
        const pattern = pagePattern(SIZE, ps, 19);
        cpuWrite(s.proc, last, 0, pattern);
        const lastWriter = holdBack(last);
        const second = importOf(s.proc, s.importer, last, source);
        const work = queueSome(asyncOps(second), "read", at, 2 * ps, pattern, 20, ps);
        s.proc.close(last.fd);
        expectSuccess(
          () => second.release(),
          `releasing the last reference to a ${source.name} buffer with device work queued`,
        );
        check(
          work.work.done || isLive(s.kernel, last.buf),
          `the ${source.name} buffer was freed while device work on it was still queued`,
        );
        expectSuccess(
          () => work.work.wait(),
          `device work queued on a ${source.name} buffer whose last reference was released`,
        );
        work.check();
        check(
          !isLive(s.kernel, last.buf),
          `the ${source.name} buffer outlived its released import once the queued work ended`,
        );
        writer.put();
        lastWriter.put();
      }
    },
  },
  {
    id: "importer.leaks.process-exit",
    title: "An import survives its process; releasing it afterwards leaves nothing",
    spec: "SPEC §3.7",
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const before = s.kernel.snapshot();
      const producer = s.kernel.spawn({ name: "producer" });
      const imports = s.sources.map((source) => {
        const b = source.create(SIZE);
        const fd = s.proc.sendFd(b.fd, producer);
        s.proc.close(b.fd);
        const pattern = pagePattern(SIZE, ps, 6);
        cpuWrite(producer, { buf: b.buf, fd }, 0, pattern);
        return { imp: importOf(producer, s.importer, { buf: b.buf, fd }, source), pattern, source };
      });
      producer.exit();
      for (const { imp, pattern, source } of imports) {
        checkBytes(imp.read(0, SIZE), pattern, `a ${source.name} import after its process exited`);
        imp.release();
      }
      checkUnchanged(s.kernel, before, "kernel state after every import was released");
    },
  },
  {
    id: "importer.fences.adds-fence",
    title:
      "Queued device work keeps a fence on the buffer (WRITE for writes) until done; POLLIN and SYNC START wait for it",
    spec: "SPEC §4.7, §5.1",
    requires: needsAsyncWork,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const source of s.sources) {
        const b = source.create(SIZE);
        const imp = importOf(s.proc, s.importer, b, source);
        const { queueRead, queueWrite } = asyncOps(imp);
        const expected = pagePattern(SIZE, ps, 7);
        cpuWrite(s.proc, b, 0, expected);
        const at = 2 * ps + 5;
        if (queueWrite) {
          const bytes = pagePattern(4 * ps, ps, 8);
          const work = queueWrite(at, bytes);
          check(!work.done, `a queued write to a ${source.name} buffer completed at once`);
          check(
            !b.buf.resv.testSignaled(DMA_RESV_USAGE_WRITE),
            `no unsignalled WRITE fence on a ${source.name} buffer while a device write is queued`,
          );
          // As user space must: wait for POLLIN (the device's writes done) before SYNC START,
          // whose cache maintenance runs before it waits for the fences.
          const ready = [{ fd: b.fd, events: POLLIN, revents: 0 }];
          s.proc.poll(ready, -1);
          check(work.done, `POLLIN on a ${source.name} buffer came before the queued write ended`);
          const seen = cpuRead(s.proc, b);
          expected.set(bytes, at);
          checkBytes(seen, expected, `CPU read after a queued write to a ${source.name} buffer`);
        }
        if (queueRead) {
          const work = queueRead(at, 4 * ps);
          check(!work.done, `a queued read of a ${source.name} buffer completed at once`);
          check(
            !b.buf.resv.testSignaled(DMA_RESV_USAGE_READ),
            `no unsignalled fence on a ${source.name} buffer while a device read is queued`,
          );
          cpuWrite(s.proc, b, 0, pagePattern(SIZE, ps, 9));
          check(work.done, `SYNC START on a ${source.name} buffer returned before the read ended`);
          checkBytes(
            work.bytes,
            expected.subarray(at, at + 4 * ps),
            `a queued device read of a ${source.name} buffer (the CPU wrote after SYNC START)`,
          );
        }
        imp.release();
        s.proc.close(b.fd);
      }
    },
  },
  {
    id: "importer.fences.waits-for-writers",
    title: "Queued device work waits for an unsignalled WRITE fence already on the buffer",
    spec: "SPEC §4.7",
    requires: needsAsyncWork,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const source of s.sources) {
        const b = source.create(SIZE);
        const imp = importOf(s.proc, s.importer, b, source);
        const { queueRead, queueWrite } = asyncOps(imp);
        const expected = pagePattern(SIZE, ps, 10);
        cpuWrite(s.proc, b, 0, expected);
        const writer = writerFence(s.kernel);
        b.buf.resv.add(writer, DMA_RESV_USAGE_WRITE);
        s.kernel.clock.schedule(WRITER_NS, () => writer.signal());
        const at = 3 * ps + 11;
        const read = queueRead?.(at, 2 * ps);
        const bytes = pagePattern(2 * ps, ps, 11);
        const write = queueWrite?.(at, bytes);
        s.kernel.clock.advance(WRITER_NS / 2);
        check(!writer.isSignaled(), "the pretend writer's fence signalled early");
        check(!read?.done, `a device read of a ${source.name} buffer ran before its writer ended`);
        check(
          !write?.done,
          `a device write to a ${source.name} buffer ran before its writer ended`,
        );
        read?.wait();
        write?.wait();
        check(writer.isSignaled(), "queued work completed, yet the writer's fence never signalled");
        if (read) {
          checkBytes(read.bytes, expected.subarray(at, at + 2 * ps), "a read after the writer");
        }
        if (write) {
          expected.set(bytes, at);
          checkBytes(cpuRead(s.proc, b), expected, "a CPU read after a write after the writer");
        }
        writer.put();
        imp.release();
        s.proc.close(b.fd);
      }
    },
  },
  {
    id: "importer.fences.write-waits-for-readers",
    title:
      "A queued device write waits for an unsignalled READ fence already on the buffer (write-after-read)",
    spec: "SPEC §4.7",
    requires: needsAsyncWork,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      for (const source of s.sources) {
        const b = source.create(SIZE);
        const imp = importOf(s.proc, s.importer, b, source);
        const { queueWrite } = asyncOps(imp);
        const expected = pagePattern(SIZE, ps, 15);
        cpuWrite(s.proc, b, 0, expected);
        if (queueWrite) {
          // A pretend reader (a display scanning the buffer out): it reads at the end of its
          // work, then its READ fence signals.
          const reader = mapForDevice(
            s.kernel,
            b.buf,
            testDevice("conformance-reader"),
            DMA_TO_DEVICE,
          );
          const readerDone = writerFence(s.kernel, "reader");
          b.buf.resv.add(readerDone, DMA_RESV_USAGE_READ);
          const at = 4 * ps + 3;
          const length = 3 * ps;
          let seen: Uint8Array | undefined;
          s.kernel.clock.schedule(WRITER_NS, () => {
            seen = reader.read(at, length);
            readerDone.signal();
          });
          const bytes = pagePattern(length, ps, 16);
          const write = queueWrite(at, bytes);
          s.kernel.clock.advance(WRITER_NS / 2);
          const early = write.done;
          write.wait();
          readerDone.wait(true);
          reader.detach();
          check(seen, "the pretend reader never ran");
          checkBytes(
            seen,
            expected.subarray(at, at + length),
            `what an earlier reader of a ${source.name} buffer read (a queued device write did not wait for its READ fence)`,
          );
          check(
            !early,
            `a device write to a ${source.name} buffer completed before an earlier reader's READ fence signalled`,
          );
          expected.set(bytes, at);
          checkBytes(cpuRead(s.proc, b), expected, "a CPU read after a write after a reader");
          readerDone.put();
        }
        imp.release();
        s.proc.close(b.fd);
      }
    },
  },
  {
    id: "importer.dynamic.move-notify",
    title:
      "A dynamic importer stops using its mappings after move_notify: it re-maps and reads and writes the moved buffer",
    spec: "SPEC §4.2, §4.5, §4.6",
    requires: needsDynamic,
    run(ctx) {
      const s = ctx.boot();
      const ps = s.kernel.pageSize;
      const exporter = s.kernel.plugin(PinnablePageExporter);
      const size = 16 * ps;
      const buf = exporter.create(size, O_RDWR, "pinnable");
      const b: SourceBuffer = { buf, fd: s.kernel.dmaBuf.fd(buf, s.proc, 0) };
      const expected = pagePattern(size, ps, 12);
      cpuWrite(s.proc, b, 0, expected);
      const imp = expectSuccess(
        () => s.importer.importFd(s.proc, b.fd),
        "importing a pinnable page-exporter buffer",
      );
      checkBytes(imp.read(0, size), expected, "device read before the move");
      const mine = buf.attachments.filter((a) => a.dev === s.importer.device);
      check(mine.length > 0, "the importer's device is not attached");
      check(
        mine.every((a) => a.isDynamic),
        "the importer declares dynamic imports but attached without importer ops",
      );
      if (exporter.pinCount(buf) > 0) {
        // Pinned (dma_buf_pin, or pin-on-map without move-notify): the buffer cannot move.
        expectError(() => exporter.move(buf), "EBUSY", "moving a pinned buffer");
      } else {
        expectSuccess(() => exporter.move(buf), "moving the buffer");
        expected.set(pagePattern(size, ps, 13));
        cpuWrite(s.proc, b, 0, expected);
      }
      checkBytes(imp.read(0, size), expected, "device read after the move (stale mapping?)");
      const bytes = pagePattern(3 * ps, ps, 14);
      imp.write(5 * ps + 9, bytes);
      expected.set(bytes, 5 * ps + 9);
      checkBytes(cpuRead(s.proc, b), expected, "CPU read of a device write after the move");
      imp.release();
      checkEqual(exporter.pinCount(buf), 0, "pins left on the buffer after release");
      checkEqual(buf.priv.mapped.size, 0, "mappings of the buffer left after release");
      s.proc.close(b.fd);
    },
  },
];
