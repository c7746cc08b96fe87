// Trace points of fences: a signal, and a wait that ran the clock.

import type { DmaFence } from "../fence/dma-fence.js";
import type { TraceRecorder } from "./recorder.js";

/** The name a fence has in a trace: `context:seqno`. */
export function fenceKey(fence: DmaFence): string {
  return `${fence.context}:${fence.seqno}`;
}

/** Records that `fence` signals now (before its callbacks run), with its error if any. */
export function traceFenceSignal(trace: TraceRecorder, fence: DmaFence, error: number): void {
  trace.emit("fence-signal", {
    fence: fenceKey(fence),
    text: `${fence.ops.getDriverName(fence)} ${fence.ops.getTimelineName(fence)}`,
    ...(error < 0 ? { error } : {}),
  });
}

/** Records a wait for `fence` that began at `start` and ends now. */
export function traceFenceWait(trace: TraceRecorder, fence: DmaFence, start: number): void {
  trace.emit("wait", {
    fence: fenceKey(fence),
    start,
    text: fence.signaled ? "signaled" : "timeout or interrupted",
  });
}
