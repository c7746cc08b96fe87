// struct dma_buf_export_info: what an exporter hands to DmaBufCore.export, validated by zod.

import * as z from "zod";
import { DmaResv } from "../fence/dma-resv.js";
import type { DmaBufOps } from "./ops.js";

/**
 * The schema of an export request (`struct dma_buf_export_info`). Field checks run here; the
 * contract checks on `ops` (mandatory members, pin/unpin pairing) run in
 * {@link DmaBufCore.export} in the kernel's order.
 */
export const exportInfoSchema = z.object({
  /** Exporter name shown by bufinfo, sysfs and fdinfo (DEFINE_DMA_BUF_EXPORT_INFO presets it). */
  expName: z.string().optional(),
  /** The exporting module (for diagnostics). */
  owner: z.string().default("kernel"),
  /** The exporter's methods. */
  ops: z.custom<DmaBufOps>((v) => typeof v === "object" && v !== null, {
    error: "ops must be an object",
  }),
  /** Buffer size in bytes. */
  size: z
    .number({ error: "size must be a number" })
    .int({ error: "size must be an integer" })
    .positive({ error: "size must be positive" }),
  /** File flags: the O_ACCMODE and O_NONBLOCK bits become the file's f_flags. */
  flags: z.number().int().nonnegative().default(0),
  /** A reservation object to share; an embedded one is created when absent. */
  resv: z.instanceof(DmaResv).optional(),
  /** The exporter's private data; must be set. */
  priv: z.custom<unknown>((v) => v !== undefined && v !== null, { error: "priv must be set" }),
});

/** What an exporter passes to {@link DmaBufCore.export}. */
export type ExportInfo<P = unknown> = Omit<z.input<typeof exportInfoSchema>, "ops" | "priv"> & {
  /** The exporter's methods. */
  ops: DmaBufOps<P>;
  /** The exporter's private data. */
  priv: P;
};
