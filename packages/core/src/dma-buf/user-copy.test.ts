// User copies are bytes: DMA_BUF_SET_NAME keeps up to 31 bytes verbatim and the pseudo files
// print them raw; a value that is not a user buffer is EFAULT, not a TypeError.

import { describe, expect, it } from "vitest";
import { createKernel } from "../kernel.js";
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
} from "../uapi/dma-buf.js";
import { O_RDONLY, O_RDWR } from "../uapi/fcntl.js";
import { FIONBIO } from "../uapi/ioctl.js";
import { SW_SYNC_IOC_CREATE_FENCE } from "../uapi/sw-sync.js";
import type { IoctlArg } from "../vfs/file.js";
import { errnoOf } from "../vfs/process.js";
import { BUFINFO, boot, PS } from "./test-fixtures.js";

function setup() {
  const { kernel, pages } = boot();
  const proc = kernel.spawn();
  const buf = pages.create(PS, O_RDWR);
  const fd = kernel.dmaBuf.fd(buf, proc, 0);
  /** The whole content of a pseudo file, as raw bytes. */
  const raw = (path: string) => {
    const f = proc.open(path, O_RDONLY);
    try {
      return proc.read(f, 1 << 16);
    } finally {
      proc.close(f);
    }
  };
  return { kernel, proc, buf, fd, raw };
}

/** Whether `hay` contains the byte sequence `needle`. */
function hasBytes(hay: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const enc = (s: string) => [...new TextEncoder().encode(s)];

describe("DMA_BUF_SET_NAME keeps bytes verbatim", () => {
  it("11 × 0xff + NUL is accepted and printed raw in fdinfo and bufinfo", () => {
    const { proc, buf, fd, raw } = setup();
    const name = new Uint8Array([...Array(11).fill(0xff), 0]);
    expect(proc.ioctl(fd, DMA_BUF_SET_NAME, name)).toBe(0);
    expect([...(buf.nameBytes as Uint8Array)]).toEqual(Array(11).fill(0xff));
    const ff = Array(11).fill(0xff);
    expect(hasBytes(raw(`/proc/self/fdinfo/${fd}`), [...enc("name:\t"), ...ff, 0x0a])).toBe(true);
    expect(hasBytes(raw(BUFINFO), [...enc(`\t0000000${buf.ino}\t`), ...ff, 0x0a])).toBe(true);
  });

  it("c3 28 41 00 is stored as c3 28 41 (not as U+FFFD)", () => {
    const { proc, buf, fd, raw } = setup();
    proc.ioctl(fd, DMA_BUF_SET_NAME, new Uint8Array([0xc3, 0x28, 0x41, 0x00]));
    expect([...(buf.nameBytes as Uint8Array)]).toEqual([0xc3, 0x28, 0x41]);
    expect(
      hasBytes(raw(`/proc/self/fdinfo/${fd}`), [...enc("name:\t"), 0xc3, 0x28, 0x41, 0x0a]),
    ).toBe(true);
    expect(hasBytes(raw(BUFINFO), [0x09, 0xc3, 0x28, 0x41, 0x0a])).toBe(true);
    expect(hasBytes(raw(BUFINFO), [0xef, 0xbf, 0xbd])).toBe(false);
  });

  it("31 bytes of any value fit, 32 do not; the caller's buffer is copied", () => {
    const { proc, buf, fd } = setup();
    const name = new Uint8Array(32).fill(0x80);
    name[31] = 0;
    expect(proc.ioctl(fd, DMA_BUF_SET_NAME, name)).toBe(0);
    name[0] = 0x41;
    expect(buf.nameBytes?.[0]).toBe(0x80);
    expect(buf.nameBytes?.length).toBe(31);
    expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_SET_NAME, new Uint8Array(33).fill(0x80)))).toBe(
      "EINVAL",
    );
  });
});

describe("a value that is not a user buffer is EFAULT", () => {
  it("numbers, objects and arrays given to ioctls that copy from user space", () => {
    const kernel = createKernel({ ram: "16MiB", udmabuf: { enabled: true } });
    const { proc, fd } = setup();
    const bad = [42, 0, {}, [1, 2, 3], true] as unknown as IoctlArg[];
    for (const arg of bad) {
      expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_SET_NAME, arg))).toBe("EFAULT");
      expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, arg))).toBe("EFAULT");
      expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg))).toBe("EFAULT");
      expect(errnoOf(() => proc.ioctl(fd, FIONBIO, arg))).toBe("EFAULT");
    }
    const root = kernel.spawn();
    const sw = root.open("/sys/kernel/debug/sync/sw_sync", O_RDWR);
    const heapless = root.open("/dev/udmabuf", O_RDWR);
    for (const arg of bad) {
      expect(errnoOf(() => root.ioctl(sw, SW_SYNC_IOC_CREATE_FENCE, arg))).toBe("EFAULT");
      expect(errnoOf(() => root.ioctl(heapless, 0x40187542, arg))).toBe("EFAULT");
    }
  });
});
