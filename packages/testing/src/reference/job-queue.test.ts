// The reference importer's job queue: implicit sync, in-order fences, a failing job's -EIO.

import {
  createKernel,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
  DmaFence,
  type Kernel,
  PageExporter,
} from "@dmabuf/core";
import { O_RDWR } from "@dmabuf/core/uapi";
import { describe, expect, it } from "vitest";
import { DeviceJobQueue, implicitDeps } from "./job-queue.js";

function setup() {
  const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter] });
  const buf = kernel.plugin(PageExporter).create(4096, O_RDWR);
  return { kernel, buf, queue: new DeviceJobQueue(kernel, "test", "dev0", 1000) };
}

function foreign(kernel: Kernel): DmaFence {
  const ops = { getDriverName: () => "other", getTimelineName: () => "other" };
  return new DmaFence(kernel.fences, ops, kernel.fences.contextAlloc(1), 1);
}

describe("DeviceJobQueue", () => {
  it("a read waits for the writers only, a write also for the readers; jobs end in order", () => {
    const { kernel, buf, queue } = setup();
    const reader = foreign(kernel);
    buf.resv.add(reader, DMA_RESV_USAGE_READ);
    const ran: string[] = [];
    const read = queue.submit({
      buf,
      write: false,
      deps: implicitDeps(buf, false),
      run: () => ran.push(`read at ${kernel.clock.now}`),
    });
    const write = queue.submit({
      buf,
      write: true,
      deps: implicitDeps(buf, true),
      run: () => ran.push(`write at ${kernel.clock.now}`),
    });
    expect(buf.resv.testSignaled(DMA_RESV_USAGE_WRITE)).toBe(false);
    kernel.clock.advance(1000);
    // The read did not wait for the other reader; the write does.
    expect(ran).toEqual(["read at 1000"]);
    expect(read.isSignaled()).toBe(true);
    kernel.clock.advance(5000);
    expect(write.isSignaled()).toBe(false);
    reader.signal();
    write.wait(true);
    expect(ran).toEqual(["read at 1000", "write at 7000"]);
    expect(buf.resv.testSignaled(DMA_RESV_USAGE_READ)).toBe(true);
    reader.put();
  });

  it("a job whose transfer throws signals its fence with -EIO and passes the error on", () => {
    const { buf, queue } = setup();
    const fence = queue.submit({
      buf,
      write: true,
      deps: [],
      run: () => {
        throw new RangeError("fault");
      },
    });
    expect(() => fence.wait(true)).toThrow(RangeError);
    expect(fence.getStatus()).toBe(-5);
  });
});
