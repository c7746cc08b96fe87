// A kernel's character-device numbers: per major, the minors drivers hold (idr/xa_alloc style).

import { KernelError } from "../errors/kernel-error.js";

/**
 * The minors in use, per major, of one kernel. Drivers whose nodes are numbered at probe (DRM's
 * `drm_minor_alloc`, V4L2's `devnode_find`) take the lowest free minor of a range, as `idr_alloc`
 * / `xa_alloc` and a bitmap search do, so a freed minor is the next one handed out. Owned by the
 * kernel: two kernels number their nodes independently.
 */
export class CharDevRegistry {
  readonly #used = new Map<number, Set<number>>();

  /**
   * Takes the lowest free minor of `major` in [`from`, `to`).
   * @throws KernelError ENOSPC when every minor of the range is in use (`idr_alloc`'s answer).
   */
  alloc(major: number, from: number, to: number): number {
    let used = this.#used.get(major);
    if (!used) {
      used = new Set();
      this.#used.set(major, used);
    }
    for (let m = from; m < to; m++) {
      if (!used.has(m)) {
        used.add(m);
        return m;
      }
    }
    throw new KernelError(
      "ENOSPC",
      "idr_alloc",
      `no free minor of major ${major} in [${from}, ${to})`,
    );
  }

  /** Gives `minor` of `major` back (`idr_remove`); a minor not held is ignored. */
  free(major: number, minor: number): void {
    this.#used.get(major)?.delete(minor);
  }

  /** Whether `minor` of `major` is held. */
  has(major: number, minor: number): boolean {
    return this.#used.get(major)?.has(minor) ?? false;
  }
}
