// Fault injection.

export { FAULT_POINTS, FaultInjection, type FaultPoint } from "./fault-injection.js";
