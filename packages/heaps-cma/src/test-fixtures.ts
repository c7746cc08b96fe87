// Shared test fixtures: kernels with contiguous heaps, and reading a buffer behind an fd.

import {
  allocFromHeap,
  createKernel,
  type DmaBuf,
  type Kernel,
  type KernelConfigInput,
  type Process,
} from "@dmabuf/core";
import { O_CLOEXEC, O_RDWR } from "@dmabuf/core/uapi";
import { CmaHeap } from "./cma-heap.js";
import type { HeapBuffer } from "./contiguous-buffer.js";

/** Page size of the fixtures' kernels. */
export const PS = 4096;
/** One KiB. */
export const KiB = 1024;
/** One MiB. */
export const MiB = 1024 * KiB;

/** A kernel with a CMA area of `cmaSize` and the CMA heap, plus a process. */
export function bootCma(
  cmaSize: string | number = "64MiB",
  extra: Partial<KernelConfigInput> = {},
): { kernel: Kernel; proc: Process } {
  const kernel = createKernel({
    ram: "256MiB",
    cma: { size: cmaSize },
    plugins: [CmaHeap],
    ...extra,
  });
  return { kernel, proc: kernel.spawn({ name: "test" }) };
}

/** The buffer behind `fd` of `proc`, without keeping a reference. */
export function bufferOf(kernel: Kernel, proc: Process, fd: number): DmaBuf<HeapBuffer> {
  const buf = kernel.dmaBuf.get(proc, fd) as DmaBuf<HeapBuffer>;
  kernel.dmaBuf.put(buf);
  return buf;
}

/** Allocates `len` bytes from heap `name` (O_RDWR | O_CLOEXEC) and returns fd and buffer. */
export function alloc(
  kernel: Kernel,
  proc: Process,
  name: string,
  len: number,
): { fd: number; buf: DmaBuf<HeapBuffer> } {
  const fd = allocFromHeap(proc, name, len, { fdFlags: O_RDWR | O_CLOEXEC });
  return { fd, buf: bufferOf(kernel, proc, fd) };
}

/** Whether every byte is `value` (compared natively). */
export function allBytes(bytes: Uint8Array, value: number): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(
    Buffer.alloc(bytes.length, value),
  );
}
