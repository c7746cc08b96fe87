// Permission checks on namespace nodes: the owner/group/other bits (`generic_permission`),
// root's override and an extra per-node check such as procfs's ptrace access rule.

import { KernelError } from "../errors/kernel-error.js";
import type { Credentials } from "./open.js";

/** Read access (`MAY_READ`). */
export const MAY_READ = 4;
/** Write access (`MAY_WRITE`). */
export const MAY_WRITE = 2;
/** Search a directory or execute (`MAY_EXEC`). */
export const MAY_EXEC = 1;

/** What a permission check looks at on a node. */
export interface Guarded {
  /** Permission bits. */
  readonly mode: number;
  /** Owner; default 0. */
  readonly uid?: number;
  /** Group; default 0. */
  readonly gid?: number;
  /**
   * An extra check after the mode bits, such as procfs's `ptrace_may_access` for
   * /proc/PID/{fd,fdinfo,maps}. **Optional**.
   * @returns false to refuse with EACCES
   */
  mayAccess?(cred: Credentials): boolean;
}

/**
 * Checks `mask` (MAY_READ | MAY_WRITE | MAY_EXEC) against the node's bits for `cred`, as
 * `inode_permission` does: uid 0 has CAP_DAC_OVERRIDE (reads, writes, and searches
 * directories) and every capability the extra check asks for.
 * @throws KernelError EACCES when refused.
 */
export function mayAccess(cred: Credentials, node: Guarded, mask: number, syscall: string): void {
  if (cred.uid !== 0) {
    const shift = cred.uid === (node.uid ?? 0) ? 6 : cred.gid === (node.gid ?? 0) ? 3 : 0;
    const bits = (node.mode >> shift) & 7;
    if ((bits & mask) !== mask) throw new KernelError("EACCES", syscall, "permission denied");
  }
  if (node.mayAccess && !node.mayAccess(cred)) {
    throw new KernelError("EACCES", syscall, "permission denied");
  }
}
