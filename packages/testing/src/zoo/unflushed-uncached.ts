// Zoo: the system-uncached heap flushing its zeroing through a device it declared coherent.

import { Device, heap } from "@dmabuf/core";
import { SystemUncachedHeap } from "@dmabuf/heaps-system";

/**
 * Broken on purpose: Android's uncached system heap flushes the CPU cache after zeroing by
 * mapping and unmapping the new buffer for its own device. This one gave that device
 * `coherent: true`, so the DMA API does no cache maintenance for it and the zeroing stays in
 * the CPU cache as dirty lines: a later write-back (an eviction, a coherent device's snoop)
 * overwrites what was stored through the write-combined mappings, and a non-coherent device
 * reads memory the CPU still holds dirty.
 */
@heap({
  name: "unflushed-uncached",
  capabilities: { contiguous: false, cpuAccess: true, vmap: true, cpuCaching: "write-combine" },
})
export class UnflushedUncachedHeap extends SystemUncachedHeap {
  override readonly device: Device = new Device({ name: "unflushed-uncached", coherent: true });
}
