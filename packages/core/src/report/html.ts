// The HTML report: one self-contained page of memory, buffer lives, the timeline and findings.

import type { Kernel } from "../kernel.js";
import type { TraceEvent } from "../trace/recorder.js";
import { buildTimeline, type Timeline } from "../trace/timeline.js";
import { type MemoryMap, readMemoryMap } from "./memory-map.js";
import { escapeHtml, formatBytes, formatNs, page } from "./page.js";

/** A section added to a report, e.g. one per failed conformance case. */
export interface ReportSection {
  /** Heading. */
  readonly title: string;
  /** Preformatted text (error, stack, kernel log). */
  readonly text: string;
  /** Whether it reports a failure (drawn in red). */
  readonly failed?: boolean;
}

/** Options of {@link renderKernelReport} and `kernel.report()`. */
export interface ReportOptions {
  /** Page title; default "dmabuf SDK kernel report". */
  readonly title?: string;
  /** Sections appended after the findings. */
  readonly sections?: readonly ReportSection[];
}

/**
 * Renders the report of a kernel as one HTML document with no external resources: a summary
 * (live buffers at the end with their holders, peak bytes per heap), the physical memory map
 * (RAM strip, buddy free areas, fragmentation, CMA bitmaps, carveouts), each buffer's life per
 * process, the timeline of CPU access, device jobs, fences and waits with findings marked,
 * and every finding (kernel log lines at warn or err level). Buffer lives and the timeline
 * come from `kernel.trace`: start it before the work to see them.
 */
export function renderKernelReport(kernel: Kernel, options: ReportOptions = {}): string {
  const timeline = buildTimeline(kernel.trace, kernel.clock.now);
  const mem = readMemoryMap(
    kernel.buddy,
    kernel.pageSize,
    kernel.reservations.list(),
    kernel.cmaAreas,
  );
  const events = kernel.trace.events();
  const body = [
    summarySection(kernel, timeline),
    memorySection(mem),
    buffersSection(kernel, events),
    timelineSection(timeline, kernel.trace.on || events.length > 0),
    findingsSection(kernel),
    ...(options.sections ?? []).map(extraSection),
  ].join("\n");
  const title = options.title ?? "dmabuf SDK kernel report";
  const sub = `Linux ${kernel.profile.version} profile · ${formatBytes(kernel.memory.bytes)} RAM · virtual time ${formatNs(kernel.clock.now)}`;
  return page(title, sub, body);
}

/**
 * Renders a report made only of sections (a conformance run: one section per failed case).
 */
export function renderSectionsReport(
  title: string,
  summary: string,
  sections: readonly ReportSection[],
): string {
  const body = [
    `<section id="summary"><h2>Summary</h2><p>${escapeHtml(summary)}</p></section>`,
    ...sections.map(extraSection),
  ].join("\n");
  return page(title, summary, body);
}

function extraSection(s: ReportSection, i: number): string {
  return `<section class="case${s.failed ? " failed" : ""}" id="case-${i + 1}"><h2>${escapeHtml(s.title)}</h2><pre>${escapeHtml(s.text)}</pre></section>`;
}

// ---- summary --------------------------------------------------------------------------------

function summarySection(kernel: Kernel, t: Timeline): string {
  const snap = kernel.snapshot();
  const live = kernel.dmaBuf.list();
  const rows = live
    .map((b) => {
      const holders: string[] = [];
      for (const p of kernel.processes().values()) {
        for (const fd of p.fds()) {
          if (p.fileOf(fd) === b.file) holders.push(`${p.name} (pid ${p.pid}) fd ${fd}`);
        }
        const maps = p.mappings().filter((m) => m.vma.file === b.file).length;
        if (maps > 0)
          holders.push(`${p.name} (pid ${p.pid}) ${maps} mapping${maps > 1 ? "s" : ""}`);
      }
      for (const a of b.attachments) holders.push(`device ${a.dev.name}`);
      if (b.vmappingCounter > 0) holders.push(`${b.vmappingCounter} vmap`);
      return `<tr><td>${b.ino}</td><td>${escapeHtml(b.name ?? "")}</td><td>${escapeHtml(b.expName)}</td><td>${formatBytes(b.size)}</td><td>${b.file.refCount}</td><td>${escapeHtml(holders.join("; ") || "kernel references only")}</td></tr>`;
    })
    .join("");
  const peaks = Object.entries(t.peakByHeap)
    .map(([heap, bytes]) => `<tr><td>${escapeHtml(heap)}</td><td>${formatBytes(bytes)}</td></tr>`)
    .join("");
  const findings = kernel.log.records.filter((r) => r.level === "err" || r.level === "warn").length;
  return `<section id="summary"><h2>Summary</h2>
<ul class="figures">
<li><b>${live.length}</b> live buffer${live.length === 1 ? "" : "s"} at the end (${snap.bufferRefs} references)</li>
<li><b>${snap.attachments}</b> attachments, <b>${snap.deviceMappings}</b> device mappings, <b>${snap.userMappings}</b> user mappings, <b>${snap.fds}</b> open fds</li>
<li><b>${findings}</b> finding${findings === 1 ? "" : "s"}</li>
<li>trace: ${kernel.trace.events().length} events kept, ${t.dropped} dropped (capacity ${kernel.trace.capacity})</li>
</ul>
<h3>Leaks: buffers alive at the end</h3>
${live.length === 0 ? '<p class="ok">None: every buffer was released.</p>' : `<table class="leaks"><thead><tr><th>inode</th><th>name</th><th>exporter</th><th>size</th><th>refs</th><th>held by</th></tr></thead><tbody>${rows}</tbody></table>`}
<h3>Peak memory per heap</h3>
${peaks ? `<table class="peaks"><thead><tr><th>heap</th><th>peak</th></tr></thead><tbody>${peaks}</tbody></table>` : "<p>No heap allocation was traced.</p>"}
</section>`;
}

// ---- memory map -----------------------------------------------------------------------------

function memorySection(m: MemoryMap): string {
  const W = 1024;
  const cw = W / Math.max(1, m.cells.length);
  const cells = m.cells
    .map((c, i) => {
      const cls = c.region ? "reserved" : c.free === 1 ? "free" : c.free === 0 ? "used" : "mixed";
      return `<rect class="cell ${cls}" x="${(i * cw).toFixed(2)}" y="0" width="${Math.max(1, cw).toFixed(2)}" height="28"><title>pfn ${c.pfn}–${c.pfn + c.pages - 1}: ${Math.round(c.free * 100)}% free${c.region ? `, reserved for ${escapeHtml(c.region)}` : ""}</title></rect>`;
    })
    .join("");
  const orders = m.freeBlocks
    .map(
      (n, k) =>
        `<tr><td>${k}</td><td>${formatBytes(2 ** k * m.pageSize)}</td><td>${n}</td><td>${(m.unusableIndex[k] ?? 0).toFixed(3)}</td></tr>`,
    )
    .join("");
  const cma = m.cma.map((a) => cmaFigure(a, m.pageSize)).join("");
  const carve = m.carveouts
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.name)}</td><td>0x${(r.basePfn * m.pageSize).toString(16)}</td><td>${formatBytes(r.pageCount * m.pageSize)}</td></tr>`,
    )
    .join("");
  return `<section id="memory-map"><h2>Physical memory</h2>
<p>${formatBytes(m.totalPages * m.pageSize)} managed: ${formatBytes(m.freePages * m.pageSize)} free, ${formatBytes(m.allocatedPages * m.pageSize)} allocated, ${formatBytes(m.reservedPages * m.pageSize)} reserved at boot.</p>
<svg class="ram" viewBox="0 0 ${W} 28" width="${W}" height="28" role="img" aria-label="RAM by physical address">${cells}</svg>
<p class="legend"><span class="sw free"></span>free <span class="sw mixed"></span>partly used <span class="sw used"></span>used <span class="sw reserved"></span>reserved (CMA, carveout)</p>
<div class="cols">
<div><h3>Buddy free areas</h3><table class="buddy"><thead><tr><th>order</th><th>block</th><th>free blocks</th><th>unusable index</th></tr></thead><tbody>${orders}</tbody></table>
<p class="note">Unusable index: the share of free memory in blocks too small for that order (0 = none, 1 = all).</p></div>
<div><h3>CMA areas</h3>${cma || "<p>No CMA area.</p>"}
<h3>Carveouts</h3>${carve ? `<table class="carveouts"><thead><tr><th>name</th><th>base</th><th>size</th></tr></thead><tbody>${carve}</tbody></table>` : "<p>No carveout.</p>"}</div>
</div></section>`;
}

function cmaFigure(a: MemoryMap["cma"][number], pageSize: number): string {
  const W = 512;
  const scale = W / Math.max(1, a.bits);
  const rects = a.runs
    .map(
      ([used, first, n]) =>
        `<rect class="${used ? "used" : "free"}" x="${(first * scale).toFixed(2)}" y="0" width="${Math.max(0.5, n * scale).toFixed(2)}" height="20"><title>bits ${first}–${first + n - 1}: ${used ? "allocated" : "free"}</title></rect>`,
    )
    .join("");
  return `<figure class="cma" data-area="${escapeHtml(a.name)}"><figcaption><b>${escapeHtml(a.name)}</b>: base 0x${(a.basePfn * pageSize).toString(16)}, ${formatBytes(a.count * pageSize)}, ${formatBytes(a.usedPages * pageSize)} used, largest free run ${formatBytes(a.largestFreeRun * pageSize)} in ${a.freeRuns} run${a.freeRuns === 1 ? "" : "s"}, ${a.allocFailures} failed allocations</figcaption>
<svg class="bitmap" viewBox="0 0 ${W} 20" width="${W}" height="20" role="img" aria-label="CMA bitmap of ${escapeHtml(a.name)}">${rects}</svg></figure>`;
}

// ---- buffer lives ---------------------------------------------------------------------------

const LIFE_WORDS: Partial<Record<TraceEvent["kind"], string>> = {
  alloc: "allocated",
  "fd-install": "fd",
  "fd-close": "closed fd",
  mmap: "mapped",
  munmap: "unmapped",
  "cpu-begin": "SYNC START",
  "cpu-end": "SYNC END",
  name: "named",
};

function buffersSection(kernel: Kernel, events: readonly TraceEvent[]): string {
  const bufs = new Map<
    number,
    {
      name: string;
      exp: string;
      bytes: number;
      heap: string;
      born: number;
      died: number | null;
      rows: Map<string, string[]>;
    }
  >();
  const names = kernel.trace.processNames();
  const who = (pid: number) =>
    pid === 0 ? "kernel" : `${names.get(pid) ?? "process"} (pid ${pid})`;
  for (const e of events) {
    if (e.kind === "export") {
      bufs.set(e.buf as number, {
        name: "",
        exp: e.text ?? "",
        bytes: e.bytes ?? 0,
        heap: "",
        born: e.ts,
        died: null,
        rows: new Map(),
      });
      continue;
    }
    const b = e.buf === undefined ? undefined : bufs.get(e.buf);
    if (!b) continue;
    if (e.kind === "release") b.died = e.ts;
    if (e.kind === "name") b.name = e.text ?? "";
    if (e.kind === "alloc") b.heap = e.heap ?? "";
    const lane = e.dev ? `device ${e.dev}` : who(e.pid);
    const word = e.dev ? e.kind : LIFE_WORDS[e.kind];
    if (!word) continue;
    const detail = e.fd !== undefined && e.kind !== "alloc" ? ` ${e.fd}` : "";
    const list = b.rows.get(lane) ?? [];
    list.push(`${word}${detail} @${formatNs(e.ts)}`);
    b.rows.set(lane, list);
  }
  if (bufs.size === 0) {
    return `<section id="buffers"><h2>Buffer lives</h2><p>${kernel.trace.on ? "No buffer was exported while tracing." : "Tracing was off: start <code>kernel.trace</code> before the work to see each buffer's life."}</p></section>`;
  }
  const rows = [...bufs]
    .map(([ino, b]) => {
      const lanes = [...b.rows]
        .map(([l, items]) => `<li><b>${escapeHtml(l)}</b>: ${escapeHtml(items.join(", "))}</li>`)
        .join("");
      const end =
        b.died === null
          ? '<span class="leak">alive at the end</span>'
          : `released @${formatNs(b.died)}`;
      return `<tr data-buf="${ino}"><td>${ino}</td><td>${escapeHtml(b.name)}</td><td>${escapeHtml(b.heap || b.exp)}</td><td>${formatBytes(b.bytes)}</td><td>exported @${formatNs(b.born)}<br>${end}</td><td><ul>${lanes}</ul></td></tr>`;
    })
    .join("");
  return `<section id="buffers"><h2>Buffer lives</h2><table class="lives"><thead><tr><th>inode</th><th>name</th><th>heap / exporter</th><th>size</th><th>life</th><th>per process and device</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

// ---- timeline -------------------------------------------------------------------------------

function timelineSection(t: Timeline, traced: boolean): string {
  if (!traced || t.lanes.length === 0) {
    return `<section id="timeline"><h2>Timeline</h2><p>Tracing was off: start <code>kernel.trace</code> before the work to see the timeline.</p></section>`;
  }
  const LABEL = 260;
  const W = 900;
  const ROW = 20;
  const TOP = 24;
  const span = Math.max(1, t.end - t.start);
  const x = (ns: number) => LABEL + ((ns - t.start) / span) * W;
  const rowOf = new Map(t.lanes.map((l, i) => [l.key, i]));
  const y = (lane: string) => TOP + (rowOf.get(lane) ?? 0) * ROW;
  const H = TOP + t.lanes.length * ROW + 8;
  const labels = t.lanes
    .map(
      (l, i) =>
        `<text class="lane-label ${l.group}" x="4" y="${TOP + i * ROW + 14}">${escapeHtml(`${l.process} › ${l.thread}`)}</text><line class="grid" x1="0" x2="${LABEL + W}" y1="${TOP + i * ROW + ROW}" y2="${TOP + i * ROW + ROW}"/>`,
    )
    .join("");
  const spans = t.spans
    .map((s) => {
      const x0 = x(s.start);
      const w = Math.max(3, x(s.end) - x0);
      return `<rect class="span ${s.cat}${s.open ? " open" : ""}" x="${x0.toFixed(1)}" y="${y(s.lane) + 3}" width="${w.toFixed(1)}" height="${ROW - 6}"><title>${escapeHtml(s.name)} ${formatNs(s.start)} → ${formatNs(s.end)}</title></rect>`;
    })
    .join("");
  const marks = t.marks
    .filter((m) => m.cat !== "finding")
    .map(
      (m) =>
        `<line class="mark ${m.cat}" x1="${x(m.ts).toFixed(1)}" x2="${x(m.ts).toFixed(1)}" y1="${y(m.lane) + 4}" y2="${y(m.lane) + ROW - 4}"><title>${escapeHtml(m.name)} @${formatNs(m.ts)}</title></line>`,
    )
    .join("");
  const findings = t.marks
    .filter((m) => m.cat === "finding")
    .map((m) => {
      const fx = x(m.ts).toFixed(1);
      return `<g class="finding-mark"><line x1="${fx}" x2="${fx}" y1="${TOP}" y2="${H - 8}"/><path d="M${fx} ${TOP} l-6 -12 h12 z"/><title>${escapeHtml(m.name)} @${formatNs(m.ts)}</title></g>`;
    })
    .join("");
  const flows = t.flows
    .map(
      (f) =>
        `<line class="flow" x1="${x(f.from.ts).toFixed(1)}" y1="${y(f.from.lane) + ROW / 2}" x2="${x(f.to.ts).toFixed(1)}" y2="${y(f.to.lane) + ROW / 2}" marker-end="url(#arrow)"><title>fence ${escapeHtml(f.fence)} signalled → wait ends</title></line>`,
    )
    .join("");
  return `<section id="timeline"><h2>Timeline</h2>
<p>${formatNs(t.start)} → ${formatNs(t.end)} of virtual time. <span class="sw cpu"></span>CPU access (SYNC START…END) <span class="sw dma"></span>device job <span class="sw wait"></span>wait <span class="sw buffer"></span>buffer alive <span class="sw open"></span>never ended <span class="sw finding"></span>finding; arrows run from a fence's signal to the wait it ended.</p>
<div class="scroll"><svg class="timeline" viewBox="0 0 ${LABEL + W + 10} ${H}" width="${LABEL + W + 10}" height="${H}" role="img" aria-label="timeline">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z"/></marker></defs>
${labels}${spans}${marks}${flows}${findings}</svg></div></section>`;
}

// ---- findings -------------------------------------------------------------------------------

function findingsSection(kernel: Kernel): string {
  const records = kernel.log.records.filter((r) => r.level === "err" || r.level === "warn");
  const items = records
    .map(
      (r) =>
        `<li class="finding ${r.level}"><time>${formatNs(r.time)}</time> <b>${r.level}</b> ${escapeHtml(r.text)}</li>`,
    )
    .join("");
  return `<section id="findings"><h2>Findings</h2>${items ? `<ol class="findings">${items}</ol>` : '<p class="ok">No finding: nothing was logged at warn or err level.</p>'}</section>`;
}
