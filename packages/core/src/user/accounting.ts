// Per-process dma-buf accounting built from /proc fdinfo and maps, the way dmabuf_dump does.

import { KernelError } from "../errors/kernel-error.js";
import type { Process } from "../vfs/process.js";

/** One buffer as seen from one process. */
export interface BufferUsage {
  /** Inode number: the buffer's identity across processes. */
  readonly ino: number;
  /** Size in bytes (from fdinfo, or from the mapping when only mapped). */
  readonly size: number;
  /** Exporter name (from fdinfo; `null` when the process only maps the buffer). */
  readonly expName: string | null;
  /** User-set name (`null` when unnamed). */
  readonly name: string | null;
  /** fds of the process that refer to it. */
  readonly fds: readonly number[];
  /** Bytes of it the process has mapped (sum over its mappings). */
  readonly mappedBytes: number;
}

/** The dma-bufs one process holds. */
export interface ProcessUsage {
  /** Process id. */
  readonly pid: number;
  /** Command name. */
  readonly comm: string;
  /** Buffers by inode, lowest first. */
  readonly buffers: readonly BufferUsage[];
  /** Distinct buffers held by fd. */
  readonly fdBuffers: number;
  /** Bytes of the buffers held by fd (each buffer counted once). */
  readonly fdBytes: number;
  /** Bytes mapped. */
  readonly mappedBytes: number;
  /** Bytes of every distinct buffer the process holds by fd or mapping. */
  readonly totalBytes: number;
}

/** What {@link dmabufDump} returns. */
export interface DmabufDump {
  /** Per process, lowest pid first; processes holding nothing are left out. */
  readonly processes: readonly ProcessUsage[];
  /** Distinct buffers held by anyone. */
  readonly totalBuffers: number;
  /** Bytes of distinct buffers held by anyone. */
  readonly totalBytes: number;
}

const field = (text: string, key: string): string | null => {
  const m = new RegExp(`^${key}:\\t(.*)$`, "m").exec(text);
  return m ? (m[1] as string) : null;
};

/**
 * Gathers, for every process `reader` can see under /proc, the dma-bufs it holds by fd and
 * by mapping. Everything comes from the text of /proc/PID/fd, /proc/PID/fdinfo and
 * /proc/PID/maps, as a user-space leak hunter would read them.
 * @param reader - the process doing the reading (root sees every process)
 */
export function dmabufDump(reader: Process): DmabufDump {
  const out: ProcessUsage[] = [];
  const all = new Map<number, number>();
  const pids = reader
    .readdir("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    let comm: string;
    let fdNames: string[];
    let maps: string;
    try {
      comm = reader.readFile(`/proc/${pid}/comm`).trimEnd();
      fdNames = reader.readdir(`/proc/${pid}/fd`);
      maps = reader.readFile(`/proc/${pid}/maps`);
    } catch (e) {
      if (e instanceof KernelError && e.code === "ENOENT") continue; // exited meanwhile
      throw e;
    }
    const byIno = new Map<
      number,
      { size: number; expName: string | null; name: string | null; fds: number[]; mapped: number }
    >();
    for (const n of fdNames) {
      const link = reader.readlink(`/proc/${pid}/fd/${n}`);
      if (!link.startsWith("/dmabuf:")) continue;
      const info = reader.readFile(`/proc/${pid}/fdinfo/${n}`);
      const ino = Number(field(info, "ino"));
      const rec = byIno.get(ino) ?? {
        size: Number(field(info, "size")),
        expName: field(info, "exp_name"),
        name: field(info, "name"),
        fds: [],
        mapped: 0,
      };
      rec.fds.push(Number(n));
      byIno.set(ino, rec);
    }
    for (const line of maps.split("\n")) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s+\/dmabuf:(.*)$/.exec(line);
      if (!m) continue;
      const len = Number.parseInt(m[2] as string, 16) - Number.parseInt(m[1] as string, 16);
      const ino = Number(m[3]);
      const rec = byIno.get(ino) ?? {
        size: len,
        expName: null,
        name: (m[4] as string) === "" ? null : (m[4] as string).replaceAll("\\012", "\n"),
        fds: [],
        mapped: 0,
      };
      rec.mapped += len;
      byIno.set(ino, rec);
    }
    if (byIno.size === 0) continue;
    const buffers = [...byIno.entries()]
      .sort(([a], [b]) => a - b)
      .map(([ino, r]) => ({
        ino,
        size: r.size,
        expName: r.expName,
        name: r.name,
        fds: r.fds,
        mappedBytes: r.mapped,
      }));
    for (const b of buffers) all.set(b.ino, Math.max(all.get(b.ino) ?? 0, b.size));
    const withFd = buffers.filter((b) => b.fds.length > 0);
    out.push({
      pid,
      comm,
      buffers,
      fdBuffers: withFd.length,
      fdBytes: withFd.reduce((s, b) => s + b.size, 0),
      mappedBytes: buffers.reduce((s, b) => s + b.mappedBytes, 0),
      totalBytes: buffers.reduce((s, b) => s + b.size, 0),
    });
  }
  let totalBytes = 0;
  for (const size of all.values()) totalBytes += size;
  return { processes: out, totalBuffers: all.size, totalBytes };
}

const kb = (bytes: number): string => `${Math.ceil(bytes / 1024)} kB`;

/** Renders a {@link DmabufDump} as a fixed-width table, one block per process. */
export function formatDmabufDump(dump: DmabufDump): string {
  const row = (cols: string[]) =>
    `${(cols[0] ?? "").padStart(8)}  ${(cols[1] ?? "").padStart(10)}  ${(cols[2] ?? "").padStart(10)}  ${(cols[3] ?? "").padEnd(16)}  ${(cols[4] ?? "").padEnd(10)}  ${cols[5] ?? ""}\n`;
  let s = "";
  for (const p of dump.processes) {
    s += `${p.comm}:${p.pid}\n`;
    s += row(["inode", "size", "mapped", "exporter", "fds", "name"]);
    for (const b of p.buffers) {
      s += row([
        String(b.ino),
        kb(b.size),
        kb(b.mappedBytes),
        b.expName ?? "?",
        b.fds.join(",") || "-",
        b.name ?? "<none>",
      ]);
    }
    s += `  PROCESS TOTAL  ${kb(p.totalBytes)} in ${p.buffers.length} buffers (${kb(p.fdBytes)} by fd, ${kb(p.mappedBytes)} mapped)\n\n`;
  }
  s += `dmabuf total: ${kb(dump.totalBytes)} in ${dump.totalBuffers} buffers\n`;
  return s;
}
