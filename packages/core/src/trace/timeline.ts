// A trace read as a timeline: lanes per process, device, buffer and fence timeline, with spans.

import { DMA_DIRECTION_NAMES, type DmaDirection } from "../dma/direction.js";
import type { TraceEvent, TraceRecorder } from "./recorder.js";

/** What a lane shows. */
export type LaneGroup = "kernel" | "process" | "device" | "fence" | "buffer";

/** One row of the timeline: a (pid, tid) track in the trace-event format. */
export interface Lane {
  /** Unique key, e.g. `proc:3`, `proc:3:buf:7`, `dev:camera0`, `fence:4`, `buf:7`. */
  readonly key: string;
  /** What it shows. */
  readonly group: LaneGroup;
  /** Track ids in the trace-event format. */
  readonly pid: number;
  /** Thread id within `pid`. */
  readonly tid: number;
  /** The process row's name. */
  readonly process: string;
  /** The lane's own name. */
  readonly thread: string;
}

/** Argument values a span or mark carries. */
export type TimelineArgs = Record<string, string | number>;

/** Something that lasts: a CPU access window, a device job, a wait, a buffer's life. */
export interface Span {
  /** Lane key. */
  readonly lane: string;
  /** Start and end, virtual ns. */
  readonly start: number;
  /** End, virtual ns (≥ start). */
  readonly end: number;
  /** Label. */
  readonly name: string;
  /** Category: `cpu`, `dma`, `wait`, `buffer`. */
  readonly cat: string;
  /** Details. */
  readonly args: TimelineArgs;
  /** True when the span never ended within the trace (a SYNC START without END). */
  readonly open?: boolean;
}

/** Something that happens at an instant; findings are marks of category `finding`. */
export interface Mark {
  /** Lane key. */
  readonly lane: string;
  /** When, virtual ns. */
  readonly ts: number;
  /** Label. */
  readonly name: string;
  /** Category: the event kind's family (`buffer`, `fd`, `map`, `fence`, `finding`). */
  readonly cat: string;
  /** Details. */
  readonly args: TimelineArgs;
}

/** An arrow from a fence's signal to a wait it ended. */
export interface Flow {
  /** Unique id. */
  readonly id: number;
  /** The fence, `context:seqno`. */
  readonly fence: string;
  /** Lane and time of the signal. */
  readonly from: { readonly lane: string; readonly ts: number };
  /** Lane and time the wait ended. */
  readonly to: { readonly lane: string; readonly ts: number };
}

/** Bytes allocated from each heap at one instant. */
export interface HeapSample {
  /** When, virtual ns. */
  readonly ts: number;
  /** Bytes by heap name. */
  readonly bytes: Readonly<Record<string, number>>;
}

/** A trace arranged for display. */
export interface Timeline {
  /** Lanes in display order (kernel, processes, devices, fence timelines, buffers). */
  readonly lanes: readonly Lane[];
  /** Every span. */
  readonly spans: readonly Span[];
  /** Every mark. */
  readonly marks: readonly Mark[];
  /** Fence → waiter arrows. */
  readonly flows: readonly Flow[];
  /** Heap memory over time (one sample per change). */
  readonly heapBytes: readonly HeapSample[];
  /** Highest bytes each heap held at once. */
  readonly peakByHeap: Readonly<Record<string, number>>;
  /** First and last virtual ns covered. */
  readonly start: number;
  /** Last virtual ns covered. */
  readonly end: number;
  /** Events the recorder dropped (the oldest). */
  readonly dropped: number;
}

/** pid of the device lanes in the trace-event format. */
export const DEVICES_PID = 1_000_001;
/** pid of the fence-timeline lanes. */
export const FENCES_PID = 1_000_002;
/** pid of the buffer lanes. */
export const BUFFERS_PID = 1_000_003;
/** tid offset of a process's per-buffer CPU-access lanes (tid = offset + inode). */
export const CPU_LANE_TID = 1_000_000;

const dirName = (d: number | undefined) =>
  d === undefined ? "" : (DMA_DIRECTION_NAMES[d as DmaDirection] ?? String(d));

/**
 * Arranges the recorder's events as a {@link Timeline}, up to `endNs` (default: the last
 * event). CPU access windows pair SYNC START with the next SYNC END of the same process and
 * buffer; one still open at the end is marked `open`.
 */
export function buildTimeline(trace: TraceRecorder, endNs?: number): Timeline {
  const events = trace.events();
  const names = trace.processNames();
  const last = events.length > 0 ? (events[events.length - 1] as TraceEvent).ts : 0;
  const end = Math.max(endNs ?? last, last);
  const start = events.length > 0 ? Math.min(trace.startedAt, (events[0] as TraceEvent).ts) : 0;
  const lanes = new Map<string, Lane>();
  const spans: Span[] = [];
  const marks: Mark[] = [];
  const flows: Flow[] = [];
  const deviceTids = new Map<string, number>();
  const bufNames = new Map<number, string>();
  const bufStart = new Map<number, TraceEvent>();
  const heapOf = new Map<number, string>();
  const heapNow: Record<string, number> = {};
  const peakByHeap: Record<string, number> = {};
  const heapBytes: HeapSample[] = [];
  const cpuOpen = new Map<string, TraceEvent>();
  const signals = new Map<string, { lane: string; ts: number; fence: string }>();
  let lastSignal: { lane: string; ts: number; fence: string } | undefined;

  const procName = (pid: number) =>
    pid === 0 ? "kernel" : `${names.get(pid) ?? "process"} (pid ${pid})`;
  const lane = (key: string, make: () => Omit<Lane, "key">): string => {
    if (!lanes.has(key)) lanes.set(key, { key, ...make() });
    return key;
  };
  const procLane = (pid: number) =>
    lane(pid === 0 ? "kernel" : `proc:${pid}`, () => ({
      group: pid === 0 ? "kernel" : "process",
      pid,
      tid: pid,
      process: procName(pid),
      thread: pid === 0 ? "kernel" : "syscalls",
    }));
  const bufLabel = (ino: number) => `#${ino}${bufNames.get(ino) ? ` ${bufNames.get(ino)}` : ""}`;
  const cpuLane = (pid: number, ino: number) =>
    lane(`proc:${pid}:buf:${ino}`, () => ({
      group: pid === 0 ? "kernel" : "process",
      pid,
      tid: CPU_LANE_TID + ino,
      process: procName(pid),
      thread: `CPU access ${bufLabel(ino)}`,
    }));
  const devLane = (dev: string) => {
    if (!deviceTids.has(dev)) deviceTids.set(dev, deviceTids.size + 1);
    return lane(`dev:${dev}`, () => ({
      group: "device",
      pid: DEVICES_PID,
      tid: deviceTids.get(dev) as number,
      process: "devices",
      thread: dev,
    }));
  };
  const fenceLane = (fence: string, text: string) => {
    const ctx = Number(fence.split(":")[0]);
    return lane(`fence:${ctx}`, () => ({
      group: "fence",
      pid: FENCES_PID,
      tid: ctx,
      process: "fence timelines",
      thread: `${text} (context ${ctx})`,
    }));
  };
  const bufLane = (ino: number) =>
    lane(`buf:${ino}`, () => ({
      group: "buffer",
      pid: BUFFERS_PID,
      tid: ino,
      process: "dma-bufs",
      thread: bufLabel(ino),
    }));
  const mark = (l: string, e: TraceEvent, name: string, cat: string, args: TimelineArgs) =>
    marks.push({ lane: l, ts: e.ts, name, cat, args });
  const heapSample = (ts: number) => heapBytes.push({ ts, bytes: { ...heapNow } });

  for (const e of events) {
    const who = procLane(e.pid);
    const ino = e.buf;
    switch (e.kind) {
      case "export":
        bufStart.set(ino as number, e);
        if (e.text) bufNames.set(ino as number, e.text);
        bufLane(ino as number);
        mark(`buf:${ino}`, e, "export", "buffer", { exporter: e.text ?? "", bytes: e.bytes ?? 0 });
        break;
      case "name":
        bufNames.set(ino as number, e.text ?? "");
        mark(who, e, `name #${ino} "${e.text}"`, "buffer", { buf: ino as number });
        break;
      case "alloc": {
        const heap = e.heap as string;
        heapOf.set(ino as number, heap);
        heapNow[heap] = (heapNow[heap] ?? 0) + (e.bytes ?? 0);
        peakByHeap[heap] = Math.max(peakByHeap[heap] ?? 0, heapNow[heap] as number);
        heapSample(e.ts);
        mark(who, e, `alloc ${heap} → #${ino}`, "buffer", {
          heap,
          bytes: e.bytes ?? 0,
          fd: e.fd ?? -1,
        });
        break;
      }
      case "release": {
        const s = bufStart.get(ino as number);
        spans.push({
          lane: bufLane(ino as number),
          start: s?.ts ?? start,
          end: e.ts,
          name: bufLabel(ino as number),
          cat: "buffer",
          args: { bytes: e.bytes ?? 0 },
        });
        bufStart.delete(ino as number);
        const heap = heapOf.get(ino as number);
        if (heap !== undefined) {
          heapNow[heap] = (heapNow[heap] ?? 0) - (e.bytes ?? 0);
          heapSample(e.ts);
        }
        mark(`buf:${ino}`, e, "release", "buffer", {});
        break;
      }
      case "fd-install":
      case "fd-close":
        mark(who, e, `${e.kind === "fd-install" ? "fd" : "close"} ${e.fd} #${ino}`, "fd", {
          fd: e.fd ?? -1,
          buf: ino as number,
        });
        mark(bufLane(ino as number), e, `${e.kind} pid ${e.pid} fd ${e.fd}`, "fd", {});
        break;
      case "mmap":
      case "munmap":
        mark(who, e, `${e.kind} #${ino}`, "map", {
          address: `0x${(e.iova ?? 0).toString(16)}`,
          bytes: e.bytes ?? 0,
        });
        mark(bufLane(ino as number), e, `${e.kind} pid ${e.pid}`, "map", {});
        break;
      case "attach":
      case "detach":
      case "map":
      case "unmap": {
        const args: TimelineArgs = { buf: ino as number };
        if (e.dir !== undefined) args.direction = dirName(e.dir);
        if (e.iova !== undefined) args.iova = `0x${e.iova.toString(16)}`;
        if (e.bytes !== undefined) args.bytes = e.bytes;
        mark(devLane(e.dev as string), e, `${e.kind} #${ino}`, "map", args);
        mark(bufLane(ino as number), e, `${e.kind} ${e.dev}`, "map", args);
        break;
      }
      case "cpu-begin":
        cpuOpen.set(`${e.pid}:${ino}`, e);
        break;
      case "cpu-end": {
        const b = cpuOpen.get(`${e.pid}:${ino}`);
        cpuOpen.delete(`${e.pid}:${ino}`);
        spans.push({
          lane: cpuLane(e.pid, ino as number),
          start: b?.ts ?? start,
          end: e.ts,
          name: `CPU ${dirName(b?.dir ?? e.dir)} #${ino}`,
          cat: "cpu",
          args: { buf: ino as number, direction: dirName(e.dir) },
        });
        break;
      }
      case "dma-job":
        spans.push({
          lane: devLane(e.dev as string),
          start: e.ts,
          end: e.end ?? e.ts,
          name: `DMA ${e.bytes} B → fence ${e.fence}`,
          cat: "dma",
          args: { bytes: e.bytes ?? 0, fence: e.fence ?? "", buffers: (e.bufs ?? []).join(",") },
        });
        break;
      case "fence-signal": {
        const l = fenceLane(e.fence as string, e.text ?? "");
        lastSignal = { lane: l, ts: e.ts, fence: e.fence as string };
        signals.set(e.fence as string, lastSignal);
        mark(l, e, `signal ${e.fence}`, "fence", {
          fence: e.fence ?? "",
          ...(e.error !== undefined ? { error: e.error } : {}),
        });
        break;
      }
      case "wait": {
        spans.push({
          lane: who,
          start: e.start ?? e.ts,
          end: e.ts,
          name: e.fence === undefined ? `wait (${e.text})` : `wait fence ${e.fence}`,
          cat: "wait",
          args: { fence: e.fence ?? "", result: e.text ?? "", ns: e.ts - (e.start ?? e.ts) },
        });
        // A wait for a file (poll) ends with the fence signal of that instant, if any.
        const sig = e.fence === undefined ? lastSignal : signals.get(e.fence);
        if (sig && sig.ts >= (e.start ?? e.ts) && (e.fence !== undefined || sig.ts === e.ts)) {
          flows.push({
            id: flows.length + 1,
            fence: e.fence ?? sig.fence,
            from: sig,
            to: { lane: who, ts: e.ts },
          });
        }
        break;
      }
      case "finding":
        mark(who, e, e.text ?? "", "finding", { level: e.level ?? "" });
        break;
    }
  }
  for (const [key, b] of cpuOpen) {
    const pid = Number(key.split(":")[0]);
    spans.push({
      lane: cpuLane(pid, b.buf as number),
      start: b.ts,
      end,
      name: `CPU ${dirName(b.dir)} #${b.buf} (no SYNC END)`,
      cat: "cpu",
      args: { buf: b.buf as number, direction: dirName(b.dir) },
      open: true,
    });
  }
  for (const [ino, s] of bufStart) {
    spans.push({
      lane: bufLane(ino),
      start: s.ts,
      end,
      name: `${bufLabel(ino)} (alive)`,
      cat: "buffer",
      args: { bytes: s.bytes ?? 0 },
      open: true,
    });
  }
  const order: Record<LaneGroup, number> = {
    kernel: 0,
    process: 1,
    device: 2,
    fence: 3,
    buffer: 4,
  };
  // Buffers are often named after export: label their lanes with the final names.
  const sorted = [...lanes.values()]
    .sort((a, b) => order[a.group] - order[b.group] || a.pid - b.pid || a.tid - b.tid)
    .map((l) => {
      if (l.group === "buffer") return { ...l, thread: bufLabel(l.tid) };
      if (l.tid >= CPU_LANE_TID)
        return { ...l, thread: `CPU access ${bufLabel(l.tid - CPU_LANE_TID)}` };
      return l;
    });
  return {
    lanes: sorted,
    spans,
    marks,
    flows,
    heapBytes,
    peakByHeap,
    start,
    end,
    dropped: trace.dropped,
  };
}
