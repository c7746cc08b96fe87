// Parsers for the files the suites read: bufinfo (debugfs) and fdinfo (procfs).

/** One buffer's block of `/sys/kernel/debug/dma_buf/bufinfo`. */
export interface BufinfoEntry {
  /** Size in bytes. */
  readonly size: number;
  /** File flags (hex in the file). */
  readonly flags: number;
  /** File mode (hex in the file). */
  readonly mode: number;
  /** File reference count. */
  readonly count: number;
  /** Exporter name. */
  readonly expName: string;
  /** Inode number. */
  readonly ino: number;
  /** Buffer name, `<none>` when never named. */
  readonly name: string;
  /** Attached devices, as listed (newest first). */
  readonly devices: readonly string[];
}

/** `/sys/kernel/debug/dma_buf/bufinfo`, parsed. */
export interface Bufinfo {
  /** The buffers, in file order (newest first). */
  readonly buffers: readonly BufinfoEntry[];
  /** The closing line's object count. */
  readonly totalObjects: number;
  /** The closing line's byte count. */
  readonly totalBytes: number;
}

const ROW = /^(\d{8,})\t([0-9a-f]{8,})\t([0-9a-f]{8,})\t(\d{8,})\t([^\t]*)\t(\d{8,})\t(.*)$/;
const TOTAL = /^Total (\d+) objects, (\d+) bytes$/;

/**
 * Parses bufinfo text.
 * @throws TypeError when the text does not have bufinfo's layout.
 */
export function parseBufinfo(text: string): Bufinfo {
  const lines = text.split("\n");
  const buffers: BufinfoEntry[] = [];
  let current: { entry: Omit<BufinfoEntry, "devices">; devices: string[] } | undefined;
  let inDevices = false;
  let total: RegExpExecArray | null = null;
  for (const line of lines) {
    const row = ROW.exec(line);
    if (row) {
      current = {
        entry: {
          size: Number(row[1]),
          flags: Number.parseInt(row[2] as string, 16),
          mode: Number.parseInt(row[3] as string, 16),
          count: Number(row[4]),
          expName: row[5] as string,
          ino: Number(row[6]),
          name: row[7] as string,
        },
        devices: [],
      };
      buffers.push({ ...current.entry, devices: current.devices });
      inDevices = false;
      continue;
    }
    if (line === "\tAttached Devices:") {
      inDevices = true;
      continue;
    }
    if (/^Total \d+ devices attached$/.test(line)) {
      inDevices = false;
      continue;
    }
    if (inDevices && current && line.startsWith("\t")) {
      current.devices.push(line.slice(1));
      continue;
    }
    total = TOTAL.exec(line) ?? total;
  }
  if (!total) throw new TypeError("not bufinfo: no closing total line");
  return { buffers, totalObjects: Number(total[1]), totalBytes: Number(total[2]) };
}

/** `/proc/<pid>/fdinfo/<fd>` as a key → value map (`size`, `count`, `exp_name`, `name`, …). */
export function parseFdinfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).replace(/^\t/, ""));
  }
  return out;
}

/** The path of the bufinfo file. */
export const BUFINFO = "/sys/kernel/debug/dma_buf/bufinfo";
