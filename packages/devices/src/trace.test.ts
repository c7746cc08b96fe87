// The event trace of a camera → CPU → display pipeline: what is recorded, exported and validated.

import {
  allocFromHeap,
  createKernel,
  DMA_FROM_DEVICE,
  type Kernel,
  setBufferName,
  syncBuffer,
  toTraceEventFile,
  traceEventFileSchema,
  traceEventProblems,
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
} from "@dmabuf/core/uapi";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { CacheModel } from "./cache-model.js";
import { Camera } from "./camera.js";
import { Scanout } from "./scanout.js";

const FRAME = 64 * 1024;

/** One frame: camera writes, CPU copies under SYNC (or forgets END), scanout reads. */
function pipeline(kernel: Kernel, forgetEnd: boolean) {
  const app = kernel.spawn({ name: "viewfinder" });
  const camera = kernel.plugin(Camera);
  const scanout = kernel.plugin(Scanout);
  const frameFd = allocFromHeap(app, "system", FRAME, { fdFlags: O_RDWR | O_CLOEXEC });
  const fbFd = allocFromHeap(app, "default_cma_region", FRAME, { fdFlags: O_RDWR | O_CLOEXEC });
  setBufferName(app, frameFd, "frame");
  setBufferName(app, fbFd, "fb");
  const capture = camera.importFd(app, frameFd, DMA_FROM_DEVICE);
  const fb = scanout.addFramebuffer(app, fbFd);
  const frameMap = app.mmap(frameFd, FRAME, PROT_READ, MAP_SHARED);
  const fbMap = app.mmap(fbFd, FRAME, PROT_READ | PROT_WRITE, MAP_SHARED);
  camera.capture(capture);
  app.poll([{ fd: frameFd, events: POLLIN }], -1);
  const pixels = withCpuAccess(app, frameFd, "read", () => frameMap.read());
  if (forgetEnd) {
    syncBuffer(app, fbFd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    fbMap.write(0, pixels);
  } else {
    withCpuAccess(app, fbFd, "write", () => fbMap.write(0, pixels));
  }
  try {
    scanout.wait(scanout.present(fb));
  } catch {
    // A fatal coherency finding ends the job with -EIO; the trace still has it.
  }
  return app;
}

function boot(): Kernel {
  return createKernel({
    ram: "256MiB",
    cma: { size: "16MiB" },
    plugins: [SystemHeap, CmaHeap, CacheModel, Camera, Scanout],
  });
}

describe("event trace", () => {
  it("records nothing while off", () => {
    const kernel = boot();
    pipeline(kernel, false).exit();
    expect(kernel.trace.events()).toEqual([]);
  });

  it("records the pipeline in order, on the virtual clock", () => {
    const kernel = boot();
    kernel.trace.start();
    pipeline(kernel, false).exit();
    const events = kernel.trace.events();
    const kinds = events.map((e) => `${e.kind}${e.dev ? `:${e.dev}` : ""}`);
    expect(kinds.join(" ")).toBe(
      "export fd-install alloc export fd-install alloc name name " +
        "attach:camera0 map:camera0 attach:scanout0 map:scanout0 mmap mmap " +
        "dma-job:camera0 fence-signal wait cpu-begin cpu-end cpu-begin cpu-end " +
        "dma-job:scanout0 fence-signal wait munmap munmap fd-close fd-close",
    );
    const [alloc] = events.filter((e) => e.kind === "alloc");
    expect(alloc).toEqual({
      seq: 2,
      ts: 0,
      kind: "alloc",
      pid: 1,
      heap: "system",
      bytes: FRAME,
      buf: 1,
      fd: 1,
    });
    const job = events.find((e) => e.kind === "dma-job");
    // 64 KiB at the camera's frame time: the job ends when its fence signals.
    const signal = events.find((e) => e.kind === "fence-signal");
    expect(job?.end).toBe(signal?.ts);
    expect(job).toMatchObject({ dev: "camera0", bytes: FRAME, fence: signal?.fence, bufs: [1] });
    const [poll, wait] = events.filter((e) => e.kind === "wait");
    expect(poll).toEqual({
      seq: 16,
      ts: signal?.ts,
      kind: "wait",
      pid: 1,
      start: 0,
      text: "poll: ready",
    });
    expect(wait).toMatchObject({ fence: "2:1", text: "signaled", ts: kernel.clock.now });
    expect(kernel.trace.processNames().get(1)).toBe("viewfinder");
  });

  it("keeps the newest events in a bounded ring and counts the dropped ones", () => {
    const kernel = boot();
    kernel.trace.start({ capacity: 5 });
    pipeline(kernel, false).exit();
    const events = kernel.trace.events();
    expect(events.map((e) => e.seq)).toEqual([23, 24, 25, 26, 27]);
    expect(kernel.trace.dropped).toBe(23);
    expect(() => kernel.trace.start({ capacity: 0 })).toThrow(RangeError);
  });

  it("pins a missing SYNC END's coherency finding to its moment", () => {
    const kernel = boot();
    kernel.trace.start();
    pipeline(kernel, true);
    const finding = kernel.trace.events().find((e) => e.kind === "finding");
    expect(finding?.level).toBe("err");
    expect(finding?.text).toMatch(/^coherency: /);
    expect(finding?.ts).toBe(
      kernel.trace.events().find((e) => e.dev === "scanout0" && e.kind === "dma-job")?.end,
    );
  });

  it("exports a file the trace-event schema accepts", () => {
    const kernel = boot();
    kernel.trace.start();
    pipeline(kernel, true).exit();
    const file = toTraceEventFile(kernel.trace, kernel.clock.now);
    const parsed = traceEventFileSchema.safeParse(JSON.parse(JSON.stringify(file)));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    if (parsed.success) expect(traceEventProblems(parsed.data)).toEqual([]);
    const flows = file.traceEvents.filter((e) => e.ph === "s" || e.ph === "f");
    expect(flows.map((e) => `${e.ph}${e.id} ${e.pid}/${e.tid}`)).toEqual([
      "s1 1000002/1",
      "f1 1/1",
      "s2 1000002/2",
      "f2 0/0",
    ]);
    const tracks = file.traceEvents
      .filter((e) => e.name === "thread_name")
      .map((e) => `${e.pid}/${e.tid} ${e.args?.name}`);
    expect(tracks).toContain("1000001/1 camera0");
    expect(tracks).toContain("1000003/2 #2 fb");
    expect(tracks).toContain("1/1000002 CPU access #2 fb");
  });
});
