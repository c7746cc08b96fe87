// Which live dma-buf a physical address belongs to, for reports of CPU-side violations.

import type { DeviceHost, DmaBuf, SgTable } from "@dmabuf/core";

/** A buffer and the byte offset of an address in it. */
export interface BufferLocation {
  /** The buffer. */
  readonly buffer: DmaBuf;
  /** Byte offset of the address in the buffer. */
  readonly offset: number;
}

/** Offset of `phys` in the buffer `sgt` describes (its CPU entries from byte 0), or -1. */
function offsetInTable(sgt: SgTable, pageSize: number, phys: number): number {
  let found = -1;
  sgt.forEachRange(pageSize, (p, len, pos) => {
    if (found < 0 && phys >= p && phys < p + len) found = pos + (phys - p);
  });
  return found;
}

/**
 * Finds the live buffer that holds physical address `phys`, searching what the kernel knows
 * at this moment: the tables of every live device mapping, every kernel vmap, and every user
 * mapping of a dma-buf. Nothing is maintained for it; the search runs only when a violation
 * is reported, so the fast paths of the cache model never pay for it.
 * @returns the buffer and offset, or undefined when no live buffer maps the address
 */
export function locateBuffer(
  kernel: Pick<DeviceHost, "pageSize" | "dmaBuf" | "processes">,
  phys: number,
): BufferLocation | undefined {
  const ps = kernel.pageSize;
  const pfn = Math.floor(phys / ps);
  for (const buffer of kernel.dmaBuf.list()) {
    for (const a of buffer.attachments) {
      const tables = a.sgt ? [a.sgt, ...a.mapped.keys()] : a.mapped.keys();
      for (const sgt of tables) {
        const offset = offsetInTable(sgt, ps, phys);
        if (offset >= 0) return { buffer, offset };
      }
    }
    const vmap = buffer.vmapPtr;
    if (vmap) {
      const i = vmap.pfns.indexOf(pfn);
      if (i >= 0) return { buffer, offset: i * ps + (phys - pfn * ps) };
    }
  }
  for (const proc of kernel.processes().values()) {
    for (const m of proc.mappings()) {
      const vma = m.vma;
      const i = vma.pages.indexOf(pfn);
      if (i < 0) continue;
      const buffer = kernel.dmaBuf.fromFile(vma.file);
      if (buffer) return { buffer, offset: (vma.pgoff + i) * ps + (phys - pfn * ps) };
    }
  }
  return undefined;
}
