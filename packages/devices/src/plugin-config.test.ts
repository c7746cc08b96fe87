// A typo in a device's configuration is an error naming the key and the nearest valid one.

import { createKernel, isKernelError, type KernelConfigInput } from "@dmabuf/core";
import { describe, expect, it } from "vitest";
import { CacheModel, cacheModelOf, installCacheModel } from "./cache-model.js";
import { Camera } from "./camera.js";
import { Scanout } from "./scanout.js";

/** The EINVAL createKernel throws for these plugins. */
function bootError(plugins: KernelConfigInput["plugins"]): string {
  try {
    createKernel({ ram: "16MiB", plugins });
  } catch (e) {
    expect(isKernelError(e, "EINVAL")).toBe(true);
    return (e as Error).message;
  }
  throw new Error("the kernel booted");
}

describe("device configuration typos", () => {
  it("`fatl` for the cache model: EINVAL naming `fatal`, no kernel", () => {
    expect(bootError([{ plugin: CacheModel, config: { fatl: true } }])).toContain(
      'CacheModel configuration: unknown key "fatl" (did you mean "fatal"?)',
    );
  });

  it("inherited device keys are suggested too", () => {
    expect(bootError([{ plugin: Camera, config: { coherant: true } }])).toContain(
      'Camera configuration: unknown key "coherant" (did you mean "coherent"?)',
    );
    expect(bootError([{ plugin: Scanout, config: { nmae: "dpu" } }])).toContain(
      'unknown key "nmae" (did you mean "name"?)',
    );
  });

  it("a valid configuration still boots, and installCacheModel refuses the typo too", () => {
    const kernel = createKernel({
      ram: "16MiB",
      plugins: [{ plugin: CacheModel, config: { fatal: true } }],
    });
    expect(cacheModelOf(kernel)?.config.fatal).toBe(true);
    expect(() =>
      installCacheModel(createKernel({ ram: "16MiB" }), { fatl: true } as never),
    ).toThrow(/fatl/);
  });
});
