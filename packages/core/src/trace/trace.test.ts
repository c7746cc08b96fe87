// The event recorder and the trace-event export on a bare kernel, and the format's schema.

import { describe, expect, it } from "vitest";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel } from "../kernel.js";
import { O_CLOEXEC, O_RDWR } from "../uapi/fcntl.js";
import { TraceRecorder } from "./recorder.js";
import { toTraceEventFile } from "./trace-event.js";
import { traceEventFileSchema, traceEventProblems } from "./trace-event-schema.js";

describe("TraceRecorder", () => {
  it("is off by default and records with the clock and the current process once started", () => {
    const kernel = createKernel({ plugins: [PageExporter] });
    const proc = kernel.spawn({ name: "app" });
    expect(kernel.trace.on).toBe(false);
    const first = kernel.plugin(PageExporter).create(4096, O_RDWR);
    kernel.dmaBuf.put(first);
    expect(kernel.trace.events()).toEqual([]);
    kernel.clock.advance(1000);
    kernel.trace.start();
    const buf = kernel.plugin(PageExporter).create(8192, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
    kernel.clock.advance(500);
    proc.close(fd);
    expect(kernel.trace.events()).toEqual([
      { seq: 0, ts: 1000, kind: "export", pid: 0, buf: 2, bytes: 8192, text: "page-exporter" },
      { seq: 1, ts: 1000, kind: "fd-install", pid: 0, buf: 2, fd: 0 },
      { seq: 2, ts: 1500, kind: "fd-close", pid: 1, buf: 2, fd: 0 },
      { seq: 3, ts: 1500, kind: "release", pid: 1, buf: 2, bytes: 8192 },
    ]);
    expect(kernel.trace.processNames()).toEqual(new Map([[1, "app"]]));
  });

  it("turns warn and err log lines into findings, not info", () => {
    const kernel = createKernel();
    kernel.trace.start();
    kernel.log.info("hello");
    kernel.log.warn("careful");
    kernel.log.log("err", "broken");
    expect(kernel.trace.events().map((e) => [e.kind, e.level, e.text])).toEqual([
      ["finding", "warn", "careful"],
      ["finding", "err", "broken"],
    ]);
  });

  it("stop keeps the events; start clears them", () => {
    const kernel = createKernel();
    kernel.trace.start();
    kernel.log.warn("one");
    kernel.trace.stop();
    kernel.log.warn("two");
    expect(kernel.trace.events()).toHaveLength(1);
    kernel.trace.start({ capacity: 2 });
    expect(kernel.trace.events()).toEqual([]);
    for (const w of ["a", "b", "c"]) kernel.log.warn(w);
    expect(kernel.trace.events().map((e) => e.text)).toEqual(["b", "c"]);
    expect(kernel.trace.dropped).toBe(1);
  });

  it("a standalone recorder emits only what it is given", () => {
    const t = new TraceRecorder(
      () => 7,
      () => ({ pid: 3, name: "x" }),
    );
    t.start();
    t.emit("name", { buf: 1, text: "n" });
    expect(t.events()).toEqual([{ seq: 0, ts: 7, kind: "name", pid: 3, buf: 1, text: "n" }]);
  });
});

describe("trace-event export and schema", () => {
  it("exports the buffer's life on its own track and validates", () => {
    const kernel = createKernel({ plugins: [PageExporter] });
    const proc = kernel.spawn({ name: "app" });
    kernel.trace.start();
    const buf = kernel.plugin(PageExporter).create(4096, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    kernel.clock.advance(2000);
    proc.close(fd);
    const file = toTraceEventFile(kernel.trace, kernel.clock.now);
    const parsed = traceEventFileSchema.parse(JSON.parse(JSON.stringify(file)));
    expect(traceEventProblems(parsed)).toEqual([]);
    const life = parsed.traceEvents.find((e) => e.ph === "X" && e.cat === "buffer");
    expect(life).toEqual({
      name: "#1 page-exporter",
      ph: "X",
      cat: "buffer",
      ts: 0,
      dur: 2,
      pid: 1_000_003,
      tid: 1,
      args: { bytes: 4096 },
    });
  });

  it("rejects what the format does not allow", () => {
    const bad = (e: object) => traceEventFileSchema.safeParse({ traceEvents: [e] }).success;
    expect(bad({ name: "a", ph: "X", ts: 0, pid: 1, tid: 1 })).toBe(false); // no dur
    expect(bad({ name: "a", ph: "s", ts: 0, pid: 1, cat: "c" })).toBe(false); // flow without id
    expect(bad({ name: "a", ph: "i", ts: 0, pid: 1, s: "x" })).toBe(false); // bad scope
    expect(bad({ name: "thread_name", ph: "M", pid: 1, args: { sort_index: 1 } })).toBe(false);
    expect(bad({ name: "a", ph: "C", ts: 0, pid: 1, args: { v: "text" } })).toBe(false);
    expect(bad({ name: "a", ph: "Q", ts: 0, pid: 1 })).toBe(false);
    expect(bad({ name: "a", ph: "X", ts: 0, dur: 1, pid: 1, tid: 1 })).toBe(true);
  });

  it("finds slices that overlap without nesting and unpaired flows", () => {
    const file = traceEventFileSchema.parse({
      traceEvents: [
        { name: "a", ph: "X", ts: 0, dur: 10, pid: 1, tid: 1 },
        { name: "b", ph: "X", ts: 5, dur: 10, pid: 1, tid: 1 },
        { name: "c", ph: "X", ts: 2, dur: 2, pid: 1, tid: 1 },
        { name: "f", ph: "s", ts: 1, pid: 1, tid: 1, cat: "x", id: 1 },
      ],
    });
    expect(traceEventProblems(file)).toEqual([
      'track 1/1: "b" overlaps "a" without nesting',
      "flow x/1: 1 starts and 0 ends",
    ]);
  });
});
