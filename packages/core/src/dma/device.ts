// struct device, as far as DMA cares: name, addressing limit, coherency, IOMMU, segment limits.

import * as z from "zod";

/** How a device reaches memory. */
export const deviceSpecSchema = z.object({
  /** dev_name(), as bufinfo's "Attached Devices" lists it. */
  name: z.string().min(1, { error: "a device needs a name" }),
  /** Highest bus address the device can reach (dma mask); default: 64-bit. */
  dmaMask: z.number().int().nonnegative().default(Number.MAX_SAFE_INTEGER),
  /** Whether the device snoops CPU caches (no cache maintenance needed). */
  coherent: z.boolean().default(true),
  /** Whether the device sits behind an IOMMU that remaps its addresses. */
  iommu: z.boolean().default(false),
  /** Largest DMA segment the device accepts, in bytes (`dma_get_max_seg_size`). */
  maxSegmentSize: z.number().int().positive().default(0xffffffff),
  /** Whether the device can only use one physically (or IOVA-) contiguous segment. */
  contiguousOnly: z.boolean().default(false),
});

/** Input accepted by {@link Device}'s constructor. */
export type DeviceSpec = z.input<typeof deviceSpecSchema>;

/**
 * A device that does DMA (`struct device`). Importers attach buffers for a device; the DMA
 * mapping API maps sg tables for it.
 */
export class Device {
  /** dev_name(). */
  readonly name: string;
  /** Highest reachable bus address. */
  readonly dmaMask: number;
  /** Snoops CPU caches. */
  readonly coherent: boolean;
  /** Behind an IOMMU. */
  readonly iommu: boolean;
  /** Largest segment in bytes. */
  readonly maxSegmentSize: number;
  /** Needs one contiguous segment. */
  readonly contiguousOnly: boolean;

  /**
   * @param spec - the device's DMA properties
   * @throws ZodError on an invalid spec
   */
  constructor(spec: DeviceSpec) {
    const s = deviceSpecSchema.parse(spec);
    this.name = s.name;
    this.dmaMask = s.dmaMask;
    this.coherent = s.coherent;
    this.iommu = s.iommu;
    this.maxSegmentSize = s.maxSegmentSize;
    this.contiguousOnly = s.contiguousOnly;
  }
}
