// drivers/char/mem.c: /dev/null, the device behind a process's stdin, stdout and stderr.

import type { DeviceNode } from "./namespace.js";

/** /dev/null (char 1:3, mode 0666): reads return nothing, writes swallow everything. */
export function devNull(ino: number): DeviceNode {
  return {
    kind: "chr",
    mode: 0o666,
    uid: 0,
    gid: 0,
    ino,
    rdev: [1, 3],
    fops: {
      read: () => new Uint8Array(0),
      write: (_file, bytes) => bytes.length,
      llseek: () => 0,
    },
    nonseekable: false,
    privateData: undefined,
  };
}
