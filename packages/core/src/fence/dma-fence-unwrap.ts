// dma-fence-unwrap: the leaf fences behind containers, and merging fence sets into one fence.

import type { DmaFence, FenceRegistry } from "./dma-fence.js";
import { DmaFenceArray } from "./dma-fence-array.js";

/**
 * The leaf fences of `fence` in order (`dma_fence_unwrap_for_each`): the fences of an array,
 * or the fence itself when it is not a container. No references are taken.
 */
export function dmaFenceUnwrap(fence: DmaFence): DmaFence[] {
  if (fence instanceof DmaFenceArray) return fence.fences.flatMap((f) => dmaFenceUnwrap(f));
  return [fence];
}

/**
 * Merges fences into one (`dma_fence_unwrap_merge`), as SYNC_IOC_MERGE does: the unsignalled
 * leaves of all of them, one per context (the later one wins), ordered by context. None left
 * → the stub fence; one → that fence; more → a new {@link DmaFenceArray} on a fresh context,
 * seqno 1. The caller gets a reference to the result.
 */
export function dmaFenceUnwrapMerge(registry: FenceRegistry, ...fences: DmaFence[]): DmaFence {
  const byContext = new Map<number, DmaFence>();
  for (const leaf of fences.flatMap((f) => dmaFenceUnwrap(f))) {
    if (leaf.isSignaled()) continue;
    const kept = byContext.get(leaf.context);
    if (!kept || leaf.isLater(kept)) byContext.set(leaf.context, leaf);
  }
  const merged = [...byContext.values()].sort((a, b) => a.context - b.context);
  const [first] = merged;
  if (!first) return registry.getStub();
  if (merged.length === 1) return first.get();
  return new DmaFenceArray(
    registry,
    merged.map((f) => f.get()),
    registry.contextAlloc(1),
    1,
  );
}
