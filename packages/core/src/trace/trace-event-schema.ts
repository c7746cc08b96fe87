// A zod schema of the JSON trace-event format (Google's "Trace Event Format" document).

import * as z from "zod";

const id = z.union([z.number(), z.string()]);
const args = z.record(z.string(), z.unknown());
const common = {
  name: z.string(),
  cat: z.string().optional(),
  ts: z.number().nonnegative(),
  tts: z.number().nonnegative().optional(),
  pid: z.number().int(),
  tid: z.number().int().optional(),
  args: args.optional(),
  cname: z.string().optional(),
};

/** Duration events: `B` begins a slice, `E` ends the innermost open one of the thread. */
const durationEvent = z.strictObject({ ...common, ph: z.literal(["B", "E"]) });
/** Complete events: a slice with its duration. */
const completeEvent = z.strictObject({
  ...common,
  ph: z.literal("X"),
  dur: z.number().nonnegative(),
  tdur: z.number().nonnegative().optional(),
});
/** Instant events, scoped to the thread (default), the process or everything. */
const instantEvent = z.strictObject({
  ...common,
  ph: z.literal(["i", "I"]),
  s: z.literal(["g", "p", "t"]).optional(),
});
/** Counter events: each numeric argument is a series. */
const counterEvent = z.strictObject({
  ...common,
  ph: z.literal("C"),
  args: z.record(z.string(), z.number()),
  id: id.optional(),
});
/** Async (nestable) events: a category and an id tie begin, instant and end together. */
const asyncEvent = z.strictObject({
  ...common,
  ph: z.literal(["b", "n", "e"]),
  cat: z.string(),
  id: id.optional(),
  id2: z.object({ local: id.optional(), global: id.optional() }).optional(),
  scope: z.string().optional(),
});
/** Flow events: start, step and end of an arrow, tied by category and id. */
const flowEvent = z.strictObject({
  ...common,
  ph: z.literal(["s", "t", "f"]),
  cat: z.string(),
  id,
  bp: z.literal("e").optional(),
});
/** Metadata events name and order processes and threads. */
const metadataEvent = z.union([
  z.strictObject({
    name: z.literal(["process_name", "thread_name"]),
    ph: z.literal("M"),
    pid: z.number().int(),
    tid: z.number().int().optional(),
    ts: z.number().optional(),
    cat: z.string().optional(),
    args: z.strictObject({ name: z.string() }),
  }),
  z.strictObject({
    name: z.literal(["process_sort_index", "thread_sort_index"]),
    ph: z.literal("M"),
    pid: z.number().int(),
    tid: z.number().int().optional(),
    ts: z.number().optional(),
    cat: z.string().optional(),
    args: z.strictObject({ sort_index: z.number().int() }),
  }),
  z.strictObject({
    name: z.literal("process_labels"),
    ph: z.literal("M"),
    pid: z.number().int(),
    args: z.strictObject({ labels: z.string() }),
  }),
]);

/** One event of the trace-event format, by phase. */
export const traceEventSchema = z.union([
  durationEvent,
  completeEvent,
  instantEvent,
  counterEvent,
  asyncEvent,
  flowEvent,
  metadataEvent,
]);

/** A trace-event file in the JSON object format. */
export const traceEventFileSchema = z.strictObject({
  traceEvents: z.array(traceEventSchema),
  displayTimeUnit: z.literal(["ms", "ns"]).optional(),
  otherData: z.record(z.string(), z.unknown()).optional(),
  stackFrames: z.record(z.string(), z.unknown()).optional(),
  samples: z.array(z.unknown()).optional(),
  systemTraceEvents: z.string().optional(),
});

/**
 * Checks what the schema cannot: complete events on one track nest (a viewer drops slices
 * that overlap without nesting), and every flow id has exactly one start and one end.
 * @returns the problems found, empty when none
 */
export function traceEventProblems(file: z.infer<typeof traceEventFileSchema>): string[] {
  const problems: string[] = [];
  const tracks = new Map<string, { ts: number; end: number; name: string }[]>();
  const flows = new Map<string, { s: number; f: number }>();
  for (const e of file.traceEvents) {
    if (e.ph === "X") {
      const key = `${e.pid}/${e.tid ?? 0}`;
      const list = tracks.get(key) ?? [];
      list.push({ ts: e.ts, end: e.ts + e.dur, name: e.name });
      tracks.set(key, list);
    } else if (e.ph === "s" || e.ph === "f") {
      const key = `${e.cat}/${e.id}`;
      const f = flows.get(key) ?? { s: 0, f: 0 };
      f[e.ph]++;
      flows.set(key, f);
    }
  }
  for (const [key, list] of tracks) {
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const stack: { end: number; name: string }[] = [];
    for (const s of list) {
      while (stack.length > 0 && (stack[stack.length - 1]?.end ?? 0) <= s.ts) stack.pop();
      const top = stack[stack.length - 1];
      if (top && s.end > top.end) {
        problems.push(`track ${key}: "${s.name}" overlaps "${top.name}" without nesting`);
      }
      stack.push(s);
    }
  }
  for (const [key, f] of flows) {
    if (f.s !== 1 || f.f !== 1) problems.push(`flow ${key}: ${f.s} starts and ${f.f} ends`);
  }
  return problems;
}
