import { describe, expect, it } from "vitest";
import { createKernel } from "../kernel.js";
import { CmaArea } from "./cma.js";

describe("CmaArea", () => {
  it("allocates first fit from the lowest address with physical PFN alignment", () => {
    const area = new CmaArea("a", 0x1001, 64);
    // base PFN 0x1001 is odd: an order-1 aligned run starts at 0x1002, bit 1.
    expect(area.alloc(1, 0)).toBe(0x1001);
    expect(area.alloc(2, 1)).toBe(0x1002);
    expect(area.alloc(4, 2)).toBe(0x1004);
    expect(area.availableCount).toBe(64 - 7);
    expect(area.freeRunStats()).toMatchObject({ largestFreeRun: 57, freeRuns: 1, freePages: 57 });
  });

  it("fails with -1 exactly when no aligned free run exists, and counts the failure", () => {
    const area = new CmaArea("a", 0, 16);
    for (let i = 0; i < 16; i++) expect(area.alloc(1, 0)).toBe(i);
    for (const pfn of [1, 2, 5, 6, 7, 8, 13]) area.release(pfn, 1);
    // Free: 1-2, 5-8, 13. No 4-aligned run of 4 (4 and 12 are taken, 9 too).
    expect(area.alloc(4, 2)).toBe(-1);
    expect(area.alloc(2, 1)).toBe(6);
    // Free now: 1-2, 5, 8, 13.
    expect(area.freeRunStats()).toMatchObject({
      freePages: 5,
      largestFreeRun: 2,
      freeRuns: 4,
      histogram: [3, 1],
      allocFailures: 1,
    });
    area.release(4, 1);
    expect(area.alloc(4, 2)).toBe(-1);
    expect(area.release(100, 1)).toBe(false);
  });

  it("is reserved at boot from the cma= size and named regions, aligned to 2 MiB", () => {
    const k = createKernel({
      ram: "256MiB",
      cma: { size: "64MiB", regions: [{ name: "camera", size: "8MiB" }] },
    });
    const [camera, reserved] = k.cmaAreas;
    expect(camera).toMatchObject({
      name: "camera",
      basePfn: (248 * 1024 * 1024) / 4096,
      count: 2048,
    });
    expect(reserved).toMatchObject({ name: "reserved", basePfn: (184 * 1024 * 1024) / 4096 });
    expect(k.defaultCmaArea).toBe(reserved);
    expect(k.buddy.freePageCount()).toBe((256 - 72) * 256);
    const p = k.spawn();
    expect(p.readFile("/sys/kernel/debug/cma/reserved/count")).toBe("16384\n");
    expect(p.readFile("/sys/kernel/debug/cma/camera/base_pfn")).toBe(`${63488}\n`);
  });

  it("rejects unaligned sizes and areas that do not fit", () => {
    expect(() => createKernel({ ram: "64MiB", cma: { size: "3MiB" } })).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(() => createKernel({ ram: "64MiB", cma: { size: "128MiB" } })).toThrow(
      expect.objectContaining({ code: "ENOMEM" }),
    );
  });
});
