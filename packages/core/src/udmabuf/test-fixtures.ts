// Shared helpers of the udmabuf tests: kernels, sealed memfds and create requests.

import { expect } from "vitest";
import type { KernelConfigInput } from "../config.js";
import { BOOT_NS } from "../fence/test-fixtures.js";
import { createKernel, type Kernel } from "../kernel.js";
import type { KernelVersion } from "../profile.js";
import { F_ADD_SEALS, F_SEAL_SHRINK, O_RDWR } from "../uapi/fcntl.js";
import { MFD_ALLOW_SEALING } from "../uapi/memfd.js";
import {
  encodeUdmabufCreate,
  encodeUdmabufCreateList,
  UDMABUF_CREATE,
  UDMABUF_CREATE_LIST,
} from "../uapi/udmabuf.js";
import type { Process } from "../vfs/process.js";

/** Page size of every test kernel. */
export const PS = 4096;

/**
 * A kernel as the probe saw it: a process "probe" with stdin/stdout/stderr and /dev/udmabuf
 * open on fd 3, so its first memfd is fd 4 and its first udmabuf fd 5.
 */
export function boot(profile: KernelVersion = "6.1", config: KernelConfigInput = {}) {
  const kernel = createKernel({ ram: "256MiB", profile, ...config });
  kernel.clock.advance(BOOT_NS);
  const proc = kernel.spawn({ name: "probe", stdio: true });
  const dev = proc.open("/dev/udmabuf", O_RDWR);
  return { kernel, proc, dev };
}

/** A memfd of `size` bytes with sealing allowed, sealed with `seals` (F_SEAL_SHRINK by default). */
export function memfd(
  proc: Process,
  size: number,
  seals = F_SEAL_SHRINK,
  name = "udmabuf",
): number {
  const fd = proc.memfdCreate(name, MFD_ALLOW_SEALING);
  proc.ftruncate(fd, size);
  if (seals) proc.fcntl(fd, F_ADD_SEALS, seals);
  return fd;
}

/** UDMABUF_CREATE: the new dma-buf fd (the ioctl's return value). */
export function create(
  proc: Process,
  dev: number,
  fd: number,
  offset: number,
  size: number,
  flags = 0,
): number {
  const arg = encodeUdmabufCreate({ memfd: fd, flags, offset: BigInt(offset), size: BigInt(size) });
  return proc.ioctl(dev, UDMABUF_CREATE, arg);
}

/** UDMABUF_CREATE_LIST of `[memfd, offset, size]` items. */
export function createList(
  proc: Process,
  dev: number,
  items: readonly (readonly [number, number, number])[],
  flags = 0,
): number {
  const arg = encodeUdmabufCreateList(
    flags,
    items.map(([fd, offset, size]) => ({ memfd: fd, offset: BigInt(offset), size: BigInt(size) })),
  );
  return proc.ioctl(dev, UDMABUF_CREATE_LIST, arg);
}

/** Runs `fn`, giving the observed `{ ret, errno }` shape. */
export function outcome(fn: () => unknown): { ret: number; errno: string | null } {
  try {
    const ret = fn();
    return { ret: typeof ret === "number" ? ret : 0, errno: null };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") throw e;
    return { ret: -1, errno: code };
  }
}

/** Runs `fn`, which must fail with `errno`, and checks that it left the kernel's counts alone. */
export function failsCleanly(kernel: Kernel, errno: string, fn: () => unknown): void {
  const before = kernel.snapshot();
  expect(outcome(fn).errno).toBe(errno);
  expect(kernel.snapshot()).toEqual(before);
}
