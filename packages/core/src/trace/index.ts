// The event trace and its export to the trace-event format (Perfetto, chrome://tracing).

export { fenceKey } from "./fence-points.js";
export * from "./recorder.js";
export * from "./timeline.js";
export * from "./trace-event.js";
export * from "./trace-event-schema.js";
