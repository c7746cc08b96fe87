// The HTML report of a kernel: memory map, buffer lives, timeline and findings.

export * from "./html.js";
export * from "./memory-map.js";
export { escapeHtml, formatBytes, formatNs } from "./page.js";
