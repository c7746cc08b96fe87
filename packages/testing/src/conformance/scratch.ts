// Reusable host arrays for the bytes a case generates or reads back only to compare.

/** Largest array a scratch keeps for reuse (4 MiB); a longer request gets a fresh array. */
const KEEP_BYTES = 4 * 1024 * 1024;

/**
 * One grow-only array that each {@link Scratch.take} hands out again. The cases read back
 * and generate about 70 MiB of buffer-sized bytes per run; fresh arrays cost a page fault per
 * page touched and the garbage collections they bring, while a reused one is already there.
 *
 * @remarks A view from `take` is valid until the next `take` of the same scratch: give each
 * role in a case (the expected bytes, a part written later, a read compared at once) its own
 * scratch, and never keep a read-back view across another read.
 */
export class Scratch {
  #bytes = new Uint8Array(0);

  /**
   * `length` bytes of this scratch, with whatever they last held (the caller overwrites them).
   * @param length - the view's length
   * @returns a view of the reused array, or a fresh array when longer than 4 MiB
   */
  take(length: number): Uint8Array {
    if (length > KEEP_BYTES) return new Uint8Array(length);
    // Twice the length, so a slightly longer buffer later fits (only pages written cost memory).
    if (this.#bytes.length < length) this.#bytes = new Uint8Array(Math.min(KEEP_BYTES, 2 * length));
    return this.#bytes.subarray(0, length);
  }
}

/** Where the cases read a buffer back into, to compare it at once. */
export const readBack = new Scratch();
/** The bytes a case expects in a buffer, kept across its accesses. */
export const expectedBytes = new Scratch();
/** A pattern a case writes over part of a buffer while it keeps the expected bytes. */
export const partBytes = new Scratch();
