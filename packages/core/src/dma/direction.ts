// enum dma_data_direction: which way data moves between memory and a device.

/** Data moves both ways. */
export const DMA_BIDIRECTIONAL = 0;
/** The device reads memory (the CPU wrote it). */
export const DMA_TO_DEVICE = 1;
/** The device writes memory (the CPU will read it). */
export const DMA_FROM_DEVICE = 2;
/** No data moves (debugging only). */
export const DMA_NONE = 3;

/** A DMA data direction (`enum dma_data_direction`). */
export type DmaDirection =
  | typeof DMA_BIDIRECTIONAL
  | typeof DMA_TO_DEVICE
  | typeof DMA_FROM_DEVICE
  | typeof DMA_NONE;

/** The C names of the directions, for messages. */
export const DMA_DIRECTION_NAMES: Readonly<Record<DmaDirection, string>> = {
  0: "DMA_BIDIRECTIONAL",
  1: "DMA_TO_DEVICE",
  2: "DMA_FROM_DEVICE",
  3: "DMA_NONE",
};

/** True if `dir` is a valid direction for a mapping (not DMA_NONE). */
export function isValidDirection(dir: number): dir is DmaDirection {
  return dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE;
}
