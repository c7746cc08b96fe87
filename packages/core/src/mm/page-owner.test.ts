// Page owners: pages allocated under an owner are counted until freed, in the buddy allocator and CMA areas.

import { describe, expect, it } from "vitest";
import { createKernel } from "../kernel.js";

describe("kernel.pageOwners", () => {
  it("counts the pages each owner holds until they are freed, then forgets the owner", () => {
    const k = createKernel({ ram: "64MiB", cma: { size: "8MiB" } });
    const area = k.defaultCmaArea;
    if (!area) throw new Error("no CMA area");
    const untagged = k.buddy.allocPages(0);
    const o = k.pageOwners.open(() => "heap 'x' buffer inode 7");
    const block = k.buddy.allocPages(2);
    const cma = area.alloc(5, 0);
    k.pageOwners.close(o);
    const later = k.buddy.allocPages(0);
    expect(k.pageOwners.current).toBe(0);
    expect(k.pageOwners.held()).toEqual([{ owner: "heap 'x' buffer inode 7", pages: 9 }]);
    expect(k.frames.owner(block)).toBe(o);
    expect(k.frames.owner(later)).toBe(0);
    k.buddy.freePages(block, 2);
    expect(k.pageOwners.held()).toEqual([{ owner: "heap 'x' buffer inode 7", pages: 5 }]);
    area.release(cma, 5);
    expect(k.pageOwners.held()).toEqual([]);
    k.buddy.freePages(untagged, 0);
    k.buddy.freePages(later, 0);
  });

  it("nests: an owner opened inside another is current until it closes", () => {
    const k = createKernel({ ram: "16MiB" });
    const outer = k.pageOwners.open(() => "outer");
    const inner = k.pageOwners.open(() => "inner");
    k.buddy.allocPages(0);
    k.pageOwners.close(inner);
    k.buddy.allocPages(1);
    k.pageOwners.close(outer);
    expect(k.pageOwners.held()).toEqual([
      { owner: "inner", pages: 1 },
      { owner: "outer", pages: 2 },
    ]);
  });
});
