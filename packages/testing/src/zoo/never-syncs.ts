// Zoo: a heap with cached CPU mappings and no beginCpuAccess/endCpuAccess at all.

import {
  type DmaBuf,
  type DmaBufOps,
  type DmaHeapHandle,
  HeapAttachments,
  heap,
} from "@dmabuf/core";
import { type ReferenceBuffer, ReferenceHeap } from "../reference/reference-heap.js";

/**
 * Broken on purpose: its buffers can be mmapped and vmapped (through the CPU's caches) but
 * its ops table has no CPU-access ops, so nothing ever cleans or invalidates the CPU's lines
 * for a non-coherent device — correct only on a fully coherent machine.
 */
@heap({ name: "never-syncs", capabilities: { cpuAccess: true, vmap: true } })
export class NeverSyncsHeap extends ReferenceHeap {
  /** The reference heap's ops without beginCpuAccess and endCpuAccess. */
  readonly #ops: DmaBufOps<ReferenceBuffer> = {
    attach: (buf, a) => this.attach(buf, a),
    detach: (buf, a) => this.detach(buf, a),
    mapDmaBuf: (a, dir) => this.mapDmaBuf(a, dir),
    unmapDmaBuf: (a, sgt, dir) => this.unmapDmaBuf(a, sgt, dir),
    mmap: (buf, vma) => this.mmap(buf, vma),
    vmap: (buf) => this.vmap(buf),
    vunmap: (buf, map) => this.vunmap(buf, map),
    release: (buf) => this.release(buf),
  };

  override allocate(heap: DmaHeapHandle, len: number, fdFlags: number): DmaBuf {
    const pfns = this.allocPages(len / this.host.pageSize);
    try {
      return this.host.dmaBuf.export<ReferenceBuffer>({
        expName: heap.name,
        owner: "never-syncs-heap",
        ops: this.#ops,
        size: len,
        flags: fdFlags,
        priv: { pfns, attachments: new HeapAttachments(this.host.dma) },
      });
    } catch (e) {
      this.freePages(pfns);
      throw e;
    }
  }
}
