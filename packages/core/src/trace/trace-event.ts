// Export of a trace to the JSON trace-event format that Perfetto and chrome://tracing open.

import type { TraceRecorder } from "./recorder.js";
import { buildTimeline, type Timeline, type TimelineArgs } from "./timeline.js";

/** One event of the trace-event format (the fields this export writes). */
export interface TraceEventRecord {
  /** Event name. */
  name: string;
  /** Phase: `X` complete, `i` instant, `s`/`f` flow, `C` counter, `M` metadata. */
  ph: "X" | "i" | "s" | "f" | "C" | "M";
  /** Comma-separated categories. */
  cat?: string;
  /** Timestamp in microseconds. */
  ts?: number;
  /** Duration in microseconds (`X`). */
  dur?: number;
  /** Process id (track group). */
  pid: number;
  /** Thread id (track). */
  tid?: number;
  /** Flow id (`s`/`f`). */
  id?: number;
  /** Flow binding point: `e` binds the end to the enclosing slice (`f`). */
  bp?: "e";
  /** Instant scope: global, process or thread. */
  s?: "g" | "p" | "t";
  /** Arguments shown in the viewer. */
  args?: Record<string, string | number>;
}

/** A whole trace file in the JSON object format. */
export interface TraceEventFile {
  /** The events. */
  traceEvents: TraceEventRecord[];
  /** How the viewer shows times. */
  displayTimeUnit: "ns" | "ms";
  /** Free-form metadata. */
  otherData: Record<string, string | number>;
}

const us = (ns: number) => ns / 1000;

/**
 * Writes a {@link Timeline} as a trace-event file: one track group per process, one for the
 * devices (a track per device), one for fence timelines, one for buffers (a track per
 * buffer, spanning its life); CPU access windows on per-buffer tracks of their process; heap
 * memory as counters; flow arrows from each fence's signal to the waits it ended; findings as
 * global instant events.
 */
export function timelineToTraceEvents(t: Timeline): TraceEventFile {
  const out: TraceEventRecord[] = [];
  const byKey = new Map(t.lanes.map((l) => [l.key, l]));
  const seenPid = new Set<number>();
  let sort = 0;
  for (const l of t.lanes) {
    if (!seenPid.has(l.pid)) {
      seenPid.add(l.pid);
      out.push({ name: "process_name", ph: "M", pid: l.pid, args: { name: l.process } });
      out.push({ name: "process_sort_index", ph: "M", pid: l.pid, args: { sort_index: sort++ } });
    }
    out.push({ name: "thread_name", ph: "M", pid: l.pid, tid: l.tid, args: { name: l.thread } });
  }
  const track = (key: string) => {
    const l = byKey.get(key);
    return { pid: l?.pid ?? 0, tid: l?.tid ?? 0 };
  };
  for (const s of t.spans) {
    out.push({
      name: s.name,
      ph: "X",
      cat: s.cat,
      ts: us(s.start),
      dur: us(s.end - s.start),
      ...track(s.lane),
      args: s.open ? { ...s.args, open: "never ended" } : s.args,
    });
  }
  for (const m of t.marks) {
    out.push({
      name: m.name,
      ph: "i",
      cat: m.cat,
      ts: us(m.ts),
      s: m.cat === "finding" ? "g" : "t",
      ...track(m.lane),
      args: m.args,
    });
  }
  for (const f of t.flows) {
    // A tiny slice at the signal gives the flow's start a slice to bind to.
    out.push({
      name: `fence ${f.fence} signalled`,
      ph: "X",
      cat: "fence",
      ts: us(f.from.ts),
      dur: 0.001,
      ...track(f.from.lane),
    });
    out.push({
      name: "fence",
      ph: "s",
      cat: "fence",
      id: f.id,
      ts: us(f.from.ts),
      ...track(f.from.lane),
    });
    out.push({
      name: "fence",
      ph: "f",
      bp: "e",
      cat: "fence",
      id: f.id,
      ts: us(f.to.ts),
      ...track(f.to.lane),
    });
  }
  if (t.heapBytes.length > 0) {
    const pid = 1_000_000;
    out.push({ name: "process_name", ph: "M", pid, args: { name: "heap memory" } });
    for (const h of t.heapBytes) {
      out.push({
        name: "heap bytes",
        ph: "C",
        cat: "memory",
        ts: us(h.ts),
        pid,
        args: h.bytes as TimelineArgs,
      });
    }
  }
  return {
    traceEvents: out,
    displayTimeUnit: "ns",
    otherData: { source: "dmabuf SDK virtual clock", droppedEvents: t.dropped },
  };
}

/**
 * The kernel's trace as a trace-event file (`JSON.stringify` it to a `.json` file and open
 * it in ui.perfetto.dev or chrome://tracing).
 * @param trace - `kernel.trace`
 * @param endNs - where open spans end (default the last event; pass `kernel.clock.now`)
 */
export function toTraceEventFile(trace: TraceRecorder, endNs?: number): TraceEventFile {
  return timelineToTraceEvents(buildTimeline(trace, endNs));
}
