// Unknown configuration keys are errors naming the key and the nearest valid one, at any depth.

import { describe, expect, it } from "vitest";
import { z } from "zod";
import { kernelConfigSchema } from "./config.js";
import { nearestName, unknownConfigKeys } from "./config-keys.js";
import { createKernel, KernelConfigError } from "./kernel.js";

/** The message of the KernelConfigError createKernel throws for `config`. */
function configError(config: unknown): string {
  try {
    createKernel(config as Parameters<typeof createKernel>[0]);
  } catch (e) {
    expect(e).toBeInstanceOf(KernelConfigError);
    expect((e as KernelConfigError).code).toBe("KERNEL_CONFIG_INVALID");
    return (e as Error).message;
  }
  throw new Error("createKernel accepted the configuration");
}

describe("createKernel refuses keys it does not declare", () => {
  it.each([
    [{ memory: "64MiB" }, 'unknown key "memory" (did you mean "ram"?)'],
    [{ plugin: [] }, 'unknown key "plugin" (did you mean "plugins"?)'],
    [{ pagesize: 4096 }, 'unknown key "pagesize" (did you mean "pageSize"?)'],
    [{ profil: "6.1" }, 'unknown key "profil" (did you mean "profile"?)'],
    [{ cma: { sise: "4MiB" } }, 'unknown key "cma.sise" (did you mean "size"?)'],
    [
      { cma: { regions: [{ name: "video", size: "4MiB", bse: 0 }] } },
      'unknown key "cma.regions.0.bse" (did you mean "base"?)',
    ],
    [{ udmabuf: { listlimit: 4 } }, 'unknown key "udmabuf.listlimit" (did you mean "listLimit"?)'],
    [{ zzzzzz: 1 }, 'unknown key "zzzzzz"\n'],
  ])("%j", (config, message) => {
    expect(`${configError(config)}\n`).toContain(message);
  });

  it("a typo does not boot a default kernel: `memory` used to give 1 GiB silently", () => {
    expect(() => createKernel({ memory: "64MiB" } as never)).toThrow(KernelConfigError);
    expect(createKernel({ ram: "64MiB" }).config.ram).toBe(64 * 1024 ** 2);
  });

  it("lists unknown keys together with the invalid values", () => {
    const message = configError({ memory: "64MiB", pageSize: 3000 });
    expect(message).toContain('unknown key "memory" (did you mean "ram"?)');
    expect(message).toContain("pageSize must be 4096, 16384 or 65536");
  });

  it("a { plugin, config } entry is checked too", () => {
    class Nothing {}
    expect(configError({ plugins: [{ plugin: Nothing, confg: {} }] })).toContain(
      'unknown key "plugins.0.confg" (did you mean "config"?)',
    );
  });
});

describe("unknownConfigKeys", () => {
  it("leaves open objects and a plugin's opaque config alone", () => {
    const schema = z.object({ a: z.looseObject({ b: z.number() }), c: z.unknown() });
    expect(unknownConfigKeys(schema, { a: { b: 1, x: 2 }, c: { y: 3 } })).toEqual([]);
    expect(unknownConfigKeys(kernelConfigSchema, { ram: "64MiB", plugins: [] })).toEqual([]);
  });

  it("walks defaults, optionals, transforms, arrays and records", () => {
    const schema = z.object({
      list: z.array(z.object({ n: z.number() })).default([]),
      map: z.record(z.string(), z.object({ v: z.number() })).optional(),
      size: z.object({ bytes: z.number() }).transform((o) => o.bytes),
    });
    const found = unknownConfigKeys(schema, {
      list: [{ n: 1 }, { m: 2 }],
      map: { k: { w: 1 } },
      size: { byte: 1 },
    });
    expect(found.map((u) => [u.path.join("."), u.key, u.suggestion])).toEqual([
      ["list.1", "m", "n"],
      ["map.k", "w", "v"],
      ["size", "byte", "bytes"],
    ]);
  });

  it("suggests only names close enough to be a typo", () => {
    expect(nearestName("fatl", ["fatal", "checker"])).toBe("fatal");
    expect(nearestName("memory", ["ram", "pageSize"])).toBe("ram");
    expect(nearestName("memory", ["pageSize"])).toBeUndefined();
    expect(nearestName("banana", ["ram", "cma"])).toBeUndefined();
  });
});
