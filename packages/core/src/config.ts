// createKernel's configuration: a zod schema with readable errors and byte-size strings.

import * as z from "zod";
import { MAX_PAGE_FRAMES } from "./mm/page-frames.js";
import type { PluginClass } from "./plugin/metadata.js";

export {
  type ConfigCheck,
  checkConfig,
  formatUnknownKeys,
  nearestName,
  type UnknownConfigKey,
  unknownConfigKeys,
} from "./config-keys.js";

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1024,
  KB: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1024 ** 4,
  TIB: 1024 ** 4,
};

/**
 * Parses a byte size: a number of bytes, or a string such as `"4GiB"`, `"64M"`, `"512 KiB"`
 * (binary units; `MB` is read as MiB, as the kernel command line does).
 * @returns the size in bytes, or NaN when the text is not a size
 */
export function parseByteSize(value: number | string): number {
  if (typeof value === "number") return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = UNITS[(m?.[2] ?? "?").toUpperCase()];
  if (!m || unit === undefined) return Number.NaN;
  return Number(m[1]) * unit;
}

/** A byte size given as a number or a string like "4GiB". */
export const byteSizeSchema = z
  .union([z.number(), z.string()], { error: 'must be a byte size such as 4096 or "4GiB"' })
  .transform((v, ctx) => {
    const n = parseByteSize(v);
    if (!Number.isSafeInteger(n) || n <= 0) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a byte size such as 4096 or "4GiB"` });
      return z.NEVER;
    }
    return n;
  });

/** The kernel configuration schema. */
export const kernelConfigSchema = z
  .object({
    /** Simulated RAM: bytes or a string like "4GiB". Backed sparsely on first touch. */
    ram: byteSizeSchema.default(1024 ** 3),
    /** Page size in bytes (Linux x86-64: 4096). */
    pageSize: z
      .literal([4096, 16384, 65536], { error: "pageSize must be 4096, 16384 or 65536" })
      .default(4096),
    /** Which Linux version to reproduce. */
    profile: z
      .enum(["6.18", "6.12", "6.6", "6.1"], {
        error: 'profile must be "6.18", "6.12", "6.6" or "6.1"',
      })
      .default("6.18"),
    /**
     * Plugins (exporters, heaps, devices) to register at boot, in order: a class, or
     * `{ plugin, config }` to pass the plugin its configuration.
     */
    plugins: z
      .array(
        z.union(
          [
            z.custom<PluginClass>((v) => typeof v === "function", {
              error: "a plugin must be a class",
            }),
            z.object({
              plugin: z.custom<PluginClass>((v) => typeof v === "function", {
                error: "plugin must be a class",
              }),
              config: z.unknown().optional(),
            }),
          ],
          { error: "a plugin must be a class or { plugin, config }" },
        ),
      )
      .default([]),
    /**
     * Permission bits of /dev/dma_heap nodes. Linux leaves devtmpfs' default 0600 (root only);
     * distributions relax it with a udev rule, which this setting stands for.
     */
    heapNodeMode: z.number().int().min(0).max(0o777).default(0o600),
    /** CONFIG_DMABUF_MOVE_NOTIFY: dynamic importers are not pinned on map. Default off. */
    moveNotify: z.boolean().default(false),
    /** Granule of sparse RAM backing, in bytes (a power-of-two number of pages). */
    sectionBytes: byteSizeSchema.optional(),
    /**
     * Contiguous memory areas reserved at boot. `size` is the `cma=` command-line area (named
     * "reserved", the default area); `regions` are reusable `shared-dma-pool` regions, each
     * its own area. Sizes and bases are multiples of the 2 MiB pageblock.
     */
    cma: z
      .object({
        size: byteSizeSchema.optional(),
        regions: z
          .array(
            z.object({
              name: z
                .string()
                .min(1, { error: "a CMA region needs a name" })
                .max(63, { error: "CMA names have at most 63 characters" }),
              size: byteSizeSchema,
              base: z.number().int().nonnegative().optional(),
            }),
          )
          .default([]),
      })
      .default({ regions: [] }),
    /**
     * `hugepages=N` on the command line: N huge pages of 2 MiB taken from RAM at boot for
     * hugetlbfs files (memfd_create with MFD_HUGETLB). Default 0: such files exist but get no
     * pages.
     */
    hugepages: z.number().int().nonnegative().default(0),
    /**
     * CONFIG_UDMABUF and the module parameters of /dev/udmabuf. `enabled` false leaves the
     * device out, as a kernel built without it.
     */
    udmabuf: z
      .object({
        /** Whether /dev/udmabuf exists (CONFIG_UDMABUF). */
        enabled: z.boolean().default(true),
        /** `list_limit`: most items UDMABUF_CREATE_LIST accepts. */
        listLimit: z.number().int().nonnegative().default(1024),
        /** `size_limit_mb`: largest buffer, in MiB. */
        sizeLimitMb: z.number().int().nonnegative().default(64),
      })
      .default({ enabled: true, listLimit: 1024, sizeLimitMb: 64 }),
  })
  .check((ctx) => {
    const c = ctx.value;
    if (c.ram % c.pageSize !== 0) {
      ctx.issues.push({
        code: "custom",
        message: `ram must be a multiple of the page size (${c.pageSize})`,
        path: ["ram"],
        input: c.ram,
      });
    }
    if (c.ram / c.pageSize > MAX_PAGE_FRAMES) {
      ctx.issues.push({
        code: "custom",
        message: `ram must be at most ${MAX_PAGE_FRAMES} pages`,
        path: ["ram"],
        input: c.ram,
      });
    }
    const sectionPages = (c.sectionBytes ?? c.pageSize) / c.pageSize;
    if (!Number.isInteger(sectionPages) || !Number.isInteger(Math.log2(sectionPages))) {
      ctx.issues.push({
        code: "custom",
        message: `sectionBytes must be a power-of-two multiple of the page size (${c.pageSize})`,
        path: ["sectionBytes"],
        input: c.sectionBytes,
      });
    }
  });

/** What {@link createKernel} accepts. */
export type KernelConfigInput = z.input<typeof kernelConfigSchema>;
/** A validated configuration with every default applied. */
export type KernelConfig = z.output<typeof kernelConfigSchema>;
