// The coherent CPU port lets single accesses bypass it only while nothing observes writes into RAM.

import { describe, expect, it } from "vitest";
import { CoherentCpuPort } from "./cpu-port.js";
import { PhysicalMemory } from "./physical-memory.js";

describe("CoherentCpuPort.directMemory", () => {
  it("is the RAM while no write observer is set, and null while one is", () => {
    const ram = new PhysicalMemory({ bytes: 1024 * 1024, pageSize: 4096 });
    const port = new CoherentCpuPort(ram);
    expect(port.directMemory()).toBe(ram);
    const seen: number[] = [];
    ram.writeObserver = (phys) => seen.push(phys);
    expect(port.directMemory()).toBeNull();
    port.write(8192, new Uint8Array([1]));
    expect(seen).toEqual([8192]);
    ram.writeObserver = null;
    expect(port.directMemory()).toBe(ram);
  });
});
