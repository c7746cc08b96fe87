// Tests of createKernel's configuration: byte sizes, defaults, and readable KernelConfigErrors.

import { describe, expect, it } from "vitest";
import { parseByteSize } from "./config.js";
import { createKernel, KernelConfigError } from "./kernel.js";

/** The KernelConfigError createKernel throws for `config`. */
function configError(config: unknown): KernelConfigError {
  try {
    createKernel(config as Parameters<typeof createKernel>[0]);
  } catch (e) {
    expect(e).toBeInstanceOf(KernelConfigError);
    return e as KernelConfigError;
  }
  throw new Error("createKernel accepted an invalid configuration");
}

describe("parseByteSize", () => {
  it.each([
    [4096, 4096],
    ["4096", 4096],
    ["4GiB", 4 * 1024 ** 3],
    ["64M", 64 * 1024 ** 2],
    ["512 KiB", 512 * 1024],
    ["16MiB", 16 * 1024 ** 2],
    ["1T", 1024 ** 4],
    ["2 gb", 2 * 1024 ** 3],
    ["8B", 8],
    [" 1.5K ", 1536],
  ])("%j is %d bytes", (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(["", "GiB", "4 XiB", "0x1000", "-4GiB", "4GiBs", "4 G i B"])("%j is NaN", (text) => {
    expect(parseByteSize(text)).toBeNaN();
  });
});

describe("createKernel configuration", () => {
  it("defaults: 1 GiB of RAM, 4 KiB pages, profile 6.18, 0600 heap nodes, no move-notify", () => {
    const k = createKernel();
    expect(k.config.ram).toBe(1024 ** 3);
    expect(k.memory.bytes).toBe(1024 ** 3);
    expect(k.pageSize).toBe(4096);
    expect(k.memory.pageCount).toBe(262144);
    expect(k.buddy.freePageCount()).toBe(262144);
    expect(k.profile).toMatchObject({
      version: "6.18",
      sgtCaching: false,
      sysfsStats: true,
      devtmpfsNewestFirst: false,
      cmaHeapPerArea: true,
    });
    expect(k.heapNodeMode).toBe(0o600);
    expect(k.moveNotify).toBe(false);
    expect(k.config.plugins).toEqual([]);
  });

  it.each([
    ["4GiB", 4 * 1024 ** 3],
    ["64M", 64 * 1024 ** 2],
    ["512 KiB", 512 * 1024],
    [8 * 1024 ** 2, 8 * 1024 ** 2],
  ])("ram %j is %d bytes of simulated memory", (ram, bytes) => {
    const k = createKernel({ ram });
    expect(k.config.ram).toBe(bytes);
    expect(k.memory.bytes).toBe(bytes);
    expect(k.memory.pageCount).toBe(bytes / 4096);
    expect(k.buddy.freePageCount()).toBe(bytes / 4096);
  });

  it.each([16384, 65536] as const)("pageSize %d sizes pages and the page allocator", (ps) => {
    const k = createKernel({ ram: "64MiB", pageSize: ps });
    expect(k.pageSize).toBe(ps);
    expect(k.memory.pageSize).toBe(ps);
    expect(k.memory.pageCount).toBe((64 * 1024 ** 2) / ps);
    expect(k.dma.pageSize).toBe(ps);
  });

  it('profile "6.1" selects the 6.1 behaviour switches', () => {
    const k = createKernel({ profile: "6.1", ram: "16MiB" });
    expect(k.profile).toMatchObject({
      version: "6.1",
      sgtCaching: true,
      sysfsStats: true,
      devtmpfsNewestFirst: true,
      cmaHeapPerArea: false,
    });
    expect(k.config.profile).toBe("6.1");
  });

  it("heapNodeMode and moveNotify are taken over", () => {
    const k = createKernel({ ram: "16MiB", heapNodeMode: 0o666, moveNotify: true });
    expect(k.heapNodeMode).toBe(0o666);
    expect(k.moveNotify).toBe(true);
  });

  it("sectionBytes sets the backing granule", () => {
    const k = createKernel({ ram: "16MiB", sectionBytes: "64KiB" });
    expect(k.memory.sectionBytes).toBe(65536);
    expect(k.memory.sectionCount).toBe(256);
  });

  it.each([
    ["lots", '"lots" is not a byte size'],
    [0, '"0" is not a byte size'],
    [-4096, '"-4096" is not a byte size'],
    [1.5, '"1.5" is not a byte size'],
    ["4 XiB", '"4 XiB" is not a byte size'],
    [Number.POSITIVE_INFINITY, 'must be a byte size such as 4096 or "4GiB"'],
    [true, 'must be a byte size such as 4096 or "4GiB"'],
    [4097, "ram must be a multiple of the page size (4096)"],
    ["1.5K", "ram must be a multiple of the page size (4096)"],
  ])("ram %j is rejected with a readable message", (ram, text) => {
    const e = configError({ ram });
    expect(e.code).toBe("KERNEL_CONFIG_INVALID");
    expect(e.name).toBe("KernelConfigError");
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toContain(text);
    expect(e.message).toContain("→ at ram");
  });

  it("a ram size that is not a multiple of a large page size names that page size", () => {
    const e = configError({ ram: "8KiB", pageSize: 16384 });
    expect(e.message).toContain("ram must be a multiple of the page size (16384)");
  });

  it("lists every problem of the configuration, each with its path", () => {
    const e = configError({
      ram: "lots",
      pageSize: 1234,
      profile: "5.4",
      heapNodeMode: 0o1000,
      moveNotify: "yes",
    });
    expect(e.code).toBe("KERNEL_CONFIG_INVALID");
    for (const path of ["ram", "pageSize", "profile", "heapNodeMode", "moveNotify"]) {
      expect(e.message).toContain(`→ at ${path}`);
    }
    expect(e.message).toContain("pageSize must be 4096, 16384 or 65536");
    expect(e.message).toContain('profile must be "6.18", "6.12", "6.6" or "6.1"');
    expect(e.message.match(/✖/g)).toHaveLength(5);
  });

  it.each([
    [{ pageSize: 8192 }, "pageSize"],
    [{ pageSize: "4096" }, "pageSize"],
    [{ profile: "6.5" }, "profile"],
    [{ heapNodeMode: -1 }, "heapNodeMode"],
    [{ heapNodeMode: 0.5 }, "heapNodeMode"],
    [{ plugins: "SystemHeap" }, "plugins"],
    [{ plugins: [42] }, "plugins[0]"],
    [{ plugins: [{ plugin: "x" }] }, "plugins[0]"],
  ])("%j is rejected at %s", (config, path) => {
    const e = configError(config);
    expect(e.code).toBe("KERNEL_CONFIG_INVALID");
    expect(e.message).toContain(`→ at ${path}`);
  });

  it("a plugin entry that is not a class says what a plugin must be", () => {
    const e = configError({ plugins: [42] });
    expect(e.message).toContain("a plugin must be a class");
  });

  it.each([5000, "3MiB", 2048])(
    "sectionBytes %j (not a power-of-two multiple of the page size) is a config error",
    (sectionBytes) => {
      const e = configError({ ram: "16MiB", sectionBytes });
      expect(e.code).toBe("KERNEL_CONFIG_INVALID");
      expect(e.message).toContain("→ at sectionBytes");
    },
  );

  it("RAM with more page frames than the model can index is a config error", () => {
    const e = configError({ ram: "8TiB" });
    expect(e.code).toBe("KERNEL_CONFIG_INVALID");
    expect(e.message).toContain("→ at ram");
  });
});
