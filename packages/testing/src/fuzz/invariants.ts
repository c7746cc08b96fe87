// What must hold after every fuzz step: references accounted, pages either free or owned,
// bufinfo equal to the live buffers, kernels isolated; and an empty world after teardown.

import type { DmaBuf, File, Kernel, KernelSnapshot } from "@dmabuf/core";
import type { KernelState, World } from "./world.js";

/** The snapshot of every kernel of the world. */
export function snapshots(w: World): KernelSnapshot[] {
  return w.kernels.map((ks) => ks.kernel.snapshot());
}

/** Compares two lists of snapshots; returns the differences in words. */
export function snapshotDiff(a: KernelSnapshot[], b: KernelSnapshot[]): string[] {
  const out: string[] = [];
  a.forEach((s, i) => {
    const t = b[i] as KernelSnapshot;
    for (const key of Object.keys(s) as (keyof KernelSnapshot)[]) {
      // Nested figures (per-device IOVA, plugin pools) compare by value.
      const was = JSON.stringify(s[key]);
      const now = JSON.stringify(t[key]);
      if (was !== now) out.push(`kernel ${i} ${key}: ${was} → ${now}`);
    }
  });
  return out;
}

/**
 * Pages held: by buffers of the system heap and memfds (from the buddy allocator), and by
 * buffers of the CMA heap.
 */
function heldPages(k: Kernel): { buddy: number; cma: number } {
  let buddy = 0;
  let cma = 0;
  const memfds = new Set<File["inode"]>();
  const note = (f: File) => {
    if (f.identity.path().startsWith("/memfd:")) memfds.add(f.inode);
  };
  for (const p of k.processes().values()) {
    for (const fd of p.fds()) note(p.fileOf(fd));
    for (const m of p.mappings()) note(m.vma.file);
  }
  for (const inode of memfds) buddy += (inode.blocks * 512) / k.pageSize;
  for (const b of k.dmaBuf.list()) {
    const pages = b.size / k.pageSize;
    if (b.expName === "system") buddy += pages;
    else cma += pages;
  }
  return { buddy, cma };
}

/** Checks one kernel; returns the violations in words. */
function checkKernel(w: World, index: number): string[] {
  const ks = w.kernels[index] as KernelState;
  const k = ks.kernel;
  const bad: string[] = [];
  // Every reference of every buffer is one the world can name.
  const refs = new Map<File, number>();
  const add = (f: File) => refs.set(f, (refs.get(f) ?? 0) + 1);
  for (const p of k.processes().values()) {
    for (const fd of p.fds()) add(p.fileOf(fd));
    for (const m of p.mappings()) add(m.vma.file);
  }
  for (const i of ks.imports) if (!i.released) add(i.buf.file);
  for (const v of ks.vmaps) add(v.buf.file);
  for (const b of k.dmaBuf.list()) {
    const expected = refs.get(b.file) ?? 0;
    if (b.file.refCount !== expected) {
      bad.push(
        `kernel ${index}: buffer ${b.ino} has ${b.file.refCount} references, ${expected} accounted`,
      );
    }
  }
  // Pages: free + held by system-heap buffers = free at boot; the CMA area holds the rest.
  const held = heldPages(k);
  const free = k.buddy.freePageCount();
  if (free + held.buddy !== ks.bootFree) {
    bad.push(`kernel ${index}: ${free} free + ${held.buddy} held pages ≠ ${ks.bootFree} at boot`);
  }
  const used = k.defaultCmaArea?.usedPages ?? 0;
  if (used !== held.cma)
    bad.push(`kernel ${index}: CMA uses ${used} pages, buffers hold ${held.cma}`);
  try {
    k.buddy.assertConsistent();
  } catch (e) {
    bad.push(`kernel ${index}: page allocator inconsistent: ${(e as Error).message}`);
  }
  // bufinfo lists exactly the live buffers.
  const bytes = k.dmaBuf.list().reduce((n: number, b: DmaBuf) => n + b.size, 0);
  const tail = `\nTotal ${k.dmaBuf.list().length} objects, ${bytes} bytes\n`;
  const observer = k.spawn({ name: "observer" });
  try {
    const text = observer.readFile("/sys/kernel/debug/dma_buf/bufinfo");
    if (!text.endsWith(tail))
      bad.push(
        `kernel ${index}: bufinfo ends ${JSON.stringify(text.slice(-40))}, expected ${JSON.stringify(tail)}`,
      );
  } finally {
    observer.exit();
  }
  // Nothing of another kernel is reachable from this one.
  w.kernels.forEach((other, j) => {
    if (j === index) return;
    for (const p of k.processes().values()) {
      for (const fd of p.fds()) {
        if (other.kernel.dmaBuf.fromFile(p.fileOf(fd))) {
          bad.push(`kernel ${index}: pid ${p.pid} fd ${fd} is a dma-buf of kernel ${j}`);
        }
      }
    }
  });
  return bad;
}

/** Checks every invariant of the world; returns the violations in words. */
export function checkWorld(w: World): string[] {
  return w.kernels.flatMap((_, i) => checkKernel(w, i));
}

/** After teardown: nothing alive, every page back. */
export function checkEmpty(w: World): string[] {
  const bad: string[] = [];
  w.kernels.forEach((ks, i) => {
    const s = ks.kernel.snapshot();
    if (
      s.buffers ||
      s.files ||
      s.fds ||
      s.userMappings ||
      s.bufferRefs ||
      s.attachments ||
      s.vmaps ||
      s.fenceCallbacks
    ) {
      bad.push(`kernel ${i} not empty after teardown: ${JSON.stringify(s)}`);
    }
    if (s.freePages !== ks.bootFree)
      bad.push(`kernel ${i}: ${ks.bootFree - s.freePages} pages leaked`);
    if ((ks.kernel.defaultCmaArea?.usedPages ?? 0) !== 0) bad.push(`kernel ${i}: CMA pages leaked`);
  });
  return bad;
}
