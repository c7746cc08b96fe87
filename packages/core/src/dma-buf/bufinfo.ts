// debugfs dma_buf/bufinfo and sysfs dmabuf/buffers: rendered from the live buffer list.

import { dynamicDir, type Namespace, textFile } from "../vfs/namespace.js";
import { type TextBytes, textBytes } from "../vfs/text-bytes.js";
import type { DmaBufCore } from "./core.js";

const pad8 = (n: number): string => String(n).padStart(8, "0");
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

/**
 * The text of /sys/kernel/debug/dma_buf/bufinfo, as Linux prints it (names set as bytes that
 * are not UTF-8 are decoded with replacement characters; the file itself has them raw).
 */
export function renderBufinfo(core: DmaBufCore): string {
  const text = bufinfoBytes(core);
  return typeof text === "string" ? text : new TextDecoder().decode(text);
}

/** The content of bufinfo, byte for byte: user-set names are printed as their raw bytes. */
function bufinfoBytes(core: DmaBufCore): TextBytes {
  const parts: TextBytes[] = ["\nDma-buf Objects:\n"];
  let out = `${"size".padEnd(8)}\t${"flags".padEnd(8)}\t${"mode".padEnd(8)}\t${"count".padEnd(8)}\texp_name\t${"ino".padEnd(8)}\tname\n`;
  let count = 0;
  let bytes = 0;
  for (const buf of core.list()) {
    out += `${pad8(buf.size)}\t${hex8(buf.file.fFlags)}\t${hex8(buf.file.fMode)}\t${pad8(buf.file.refCount)}\t${buf.expName}\t${pad8(buf.ino)}\t`;
    if (buf.nameBytes === null) out += "<none>";
    else {
      parts.push(out, buf.nameBytes);
      out = "";
    }
    out += "\n";
    out += buf.resv.describe();
    out += "\tAttached Devices:\n";
    for (const a of buf.attachments) out += `\t${a.dev.name}\n`;
    out += `Total ${buf.attachments.length} devices attached\n\n`;
    count++;
    bytes += buf.size;
  }
  out += `\nTotal ${count} objects, ${bytes} bytes\n`;
  parts.push(out);
  return textBytes(...parts);
}

/**
 * Installs /sys/kernel/debug/dma_buf/bufinfo and, when `sysfsStats` is set,
 * /sys/kernel/dmabuf/buffers/<ino>/{exporter_name,size}.
 */
export function installDmaBufFiles(ns: Namespace, core: DmaBufCore, sysfsStats: boolean): void {
  ns.install(
    "/sys/kernel/debug/dma_buf/bufinfo",
    textFile(() => bufinfoBytes(core)),
  );
  if (!sysfsStats) return;
  const byIno = (name: string) => core.list().find((b) => String(b.ino) === name);
  ns.install(
    "/sys/kernel/dmabuf/buffers",
    dynamicDir(
      () =>
        core
          .list()
          .map((b) => b.ino)
          .sort((a, b) => a - b)
          .map(String),
      (name) => {
        const buf = byIno(name);
        if (!buf) return undefined;
        const files = {
          exporter_name: textFile(() => `${buf.expName}\n`),
          size: textFile(() => `${buf.size}\n`),
        };
        return dynamicDir(
          () => Object.keys(files),
          (f) => files[f as keyof typeof files],
          0o755,
        );
      },
      0o755,
    ),
  );
}
