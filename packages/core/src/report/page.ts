// The report page shell: one HTML document with its stylesheet inline, and text helpers.

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Bytes as the kernel's tools print them: `1.00 MiB`, `4 KiB`, `300 B`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 || Number.isInteger(v) ? `${v} ${units[u]}` : `${v.toFixed(2)} ${units[u]}`;
}

/** Virtual nanoseconds in the largest unit that keeps them readable. */
export function formatNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(3)} µs`;
  return `${ns} ns`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 48px;color:#222;background:#fff}
header{border-bottom:2px solid #345;margin-bottom:8px}h1{margin:16px 0 4px;font-size:22px}
nav a{margin-right:12px}h2{margin-top:28px;border-bottom:1px solid #ccc}h3{margin:16px 0 6px}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
th{background:#eef}td ul{margin:0;padding-left:16px}.note{color:#666;font-size:12px}
.cols{display:flex;gap:32px;flex-wrap:wrap}.ok{color:#176}.leak,.failed h2{color:#b00}
.scroll{overflow-x:auto}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}
svg .cell.free,svg .free,.sw.free{fill:#cfe8cf;background:#cfe8cf}
svg .cell.used,svg .used,.sw.used{fill:#4a6fa5;background:#4a6fa5}
svg .cell.mixed,.sw.mixed{fill:#9db8d9;background:#9db8d9}
svg .cell.reserved,.sw.reserved{fill:#e0b050;background:#e0b050}
.sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:middle;border:1px solid #999}
.span.cpu,.sw.cpu{fill:#3a9d5d;background:#3a9d5d}.span.dma,.sw.dma{fill:#3a6fd8;background:#3a6fd8}
.span.wait,.sw.wait{fill:#f0a030;background:#f0a030}.span.buffer,.sw.buffer{fill:#c8c8c8;background:#c8c8c8}
.span.open{stroke:#c00;stroke-width:2;stroke-dasharray:4 2}.sw.open{border:2px dashed #c00}
.sw.finding{background:#d00}.finding-mark line{stroke:#d00;stroke-width:1.5}.finding-mark path{fill:#d00}
.mark{stroke:#333;stroke-width:1.5}.mark.fence{stroke:#808}.flow{stroke:#808;stroke-width:1.2}
marker path{fill:#808}.grid{stroke:#eee}.lane-label{font-size:11px;fill:#333}
.findings li.err{color:#a00}.findings li.warn{color:#a60}time{font-family:monospace;color:#555}
`;

/** The whole document. */
export function page(title: string, subtitle: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(subtitle)}</p>
<nav><a href="#summary">Summary</a><a href="#memory-map">Memory</a><a href="#buffers">Buffers</a><a href="#timeline">Timeline</a><a href="#findings">Findings</a></nav></header>
<main>
${body}
</main></body></html>
`;
}
