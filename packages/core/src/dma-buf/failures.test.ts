// A failed call leaves the kernel as it was: every failing dma-buf path, one table, the
// snapshot (free pages, files, buffer refs, attachments, device and user mappings, vmaps,
// fds) compared before and after each call.

import { describe, expect, it } from "vitest";
import type { DmaDirection } from "../dma/direction.js";
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from "../dma/direction.js";
import type { ErrnoCode } from "../errors/errno.js";
import { KernelError } from "../errors/kernel-error.js";
import type { Kernel } from "../kernel.js";
import { Vma } from "../mm/vma.js";
import type { KernelVersion } from "../profile.js";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SET_NAME_A,
  encodeDmaBufSync,
} from "../uapi/dma-buf.js";
import {
  O_CLOEXEC,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from "../uapi/fcntl.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { errnoOf } from "../vfs/process.js";
import type { DmaBufAttachOps } from "./ops.js";
import {
  BUFINFO,
  boot,
  device,
  exportRecording,
  PS,
  recordingOps,
  recordingPriv,
} from "./test-fixtures.js";

/** A kernel with something of everything alive, for failures to (not) disturb. */
function world(profile: KernelVersion) {
  const { kernel, pages } = boot({ profile });
  const p = kernel.spawn({ name: "app" });
  const q = kernel.spawn({ name: "peer" });
  const full = kernel.spawn({ name: "full" });

  const buf = pages.create(4 * PS, O_RDWR);
  const fd = kernel.dmaBuf.fd(buf, p, O_CLOEXEC);
  p.sendFd(fd, q);
  p.sendFd(fd, full);
  full.rlimitNofile = 1; // fd 0 taken: the table is full
  const dupFd = p.dup(fd);
  const mapping = p.mmap(fd, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
  const vmap = kernel.dmaBuf.vmap(buf);
  const unmapped = p.mmap(dupFd, PS, PROT_READ, MAP_SHARED);
  p.munmap(unmapped);

  const roFd = kernel.dmaBuf.fd(pages.create(PS, O_RDONLY), p, 0);
  const woFd = kernel.dmaBuf.fd(pages.create(PS, O_WRONLY), p, 0);
  const bare = exportRecording(kernel, { omit: ["mmap", "vmap", "vunmap"] });
  const bareFd = kernel.dmaBuf.fd(bare, p, 0);
  const refuser = exportRecording(kernel, {
    override: {
      attach: () => {
        throw new KernelError("EBUSY", "attach", "unreachable device");
      },
    },
  });
  const cached = exportRecording(kernel, { cacheSgtMapping: true });
  const spare = pages.create(PS, O_RDWR); // the caller's reference, no fd
  const infoFd = p.open(BUFINFO, O_RDONLY);

  const gpu = device("gpu");
  const att = kernel.dmaBuf.attach(buf, gpu);
  kernel.dmaBuf.mapAttachment(att, DMA_TO_DEVICE);
  const detached = kernel.dmaBuf.attach(buf, device("gone"));
  kernel.dmaBuf.detach(buf, detached);
  const cachedAtt = kernel.dmaBuf.attach(cached, gpu);
  kernel.dmaBuf.mapAttachment(cachedAtt, DMA_TO_DEVICE);
  kernel.dmaBuf.setName(buf, "kept");

  const driverVma = (pages: number) =>
    new Vma(0x200000, pages * PS, 0, PROT_READ, MAP_SHARED, spare.file, PS);

  return {
    kernel,
    pages,
    p,
    q,
    full,
    buf,
    fd,
    dupFd,
    mapping,
    vmap,
    unmapped,
    roFd,
    woFd,
    bare,
    bareFd,
    refuser,
    spare,
    infoFd,
    gpu,
    att,
    detached,
    cachedAtt,
    driverVma,
  };
}
type World = ReturnType<typeof world>;

const sync = (w: World, flags: bigint | number | null) =>
  w.p.ioctl(w.fd, DMA_BUF_IOCTL_SYNC, flags === null ? null : encodeDmaBufSync(flags));
const exportWith = (k: Kernel, info: Record<string, unknown>) =>
  k.dmaBuf.export({
    expName: "x",
    ops: recordingOps(k),
    size: PS,
    priv: recordingPriv(k, 0),
    ...info,
  } as Parameters<Kernel["dmaBuf"]["export"]>[0]);
const mmapRw = (w: World, fd: number, len: number, off: number, prot = PROT_READ | PROT_WRITE) =>
  w.p.mmap(fd, len, prot, MAP_SHARED, off);

type Row = [name: string, errno: ErrnoCode, call: (w: World) => unknown];

const rows: Row[] = [
  // dma_buf_export
  ["export: size 0", "EINVAL", (w) => exportWith(w.kernel, { size: 0 })],
  ["export: fractional size", "EINVAL", (w) => exportWith(w.kernel, { size: 100.5 })],
  ["export: negative flags", "EINVAL", (w) => exportWith(w.kernel, { flags: -1 })],
  ["export: ops null", "EINVAL", (w) => exportWith(w.kernel, { ops: null })],
  ["export: priv undefined", "EINVAL", (w) => exportWith(w.kernel, { priv: undefined })],
  ["export: resv not a DmaResv", "EINVAL", (w) => exportWith(w.kernel, { resv: {} })],
  ...(["mapDmaBuf", "unmapDmaBuf", "release"] as const).map(
    (op): Row => [
      `export: no ${op}`,
      "EINVAL",
      (w) => exportWith(w.kernel, { ops: recordingOps(w.kernel, { omit: [op] }) }),
    ],
  ),
  [
    "export: pin without unpin",
    "EINVAL",
    (w) => exportWith(w.kernel, { ops: recordingOps(w.kernel, { override: { pin: () => {} } }) }),
  ],
  [
    "export: unpin without pin",
    "EINVAL",
    (w) => exportWith(w.kernel, { ops: recordingOps(w.kernel, { override: { unpin: () => {} } }) }),
  ],
  ["export: no expName", "EINVAL", (w) => exportWith(w.kernel, { expName: undefined })],
  ["PageExporter: more than RAM", "ENOMEM", (w) => w.pages.create(64 * 1024 * 1024, O_RDWR)],
  // dma_buf_fd / dma_buf_get
  ["dma_buf_fd: fd table full", "EMFILE", (w) => w.kernel.dmaBuf.fd(w.spare, w.full, 0)],
  ["dma_buf_get: fd -1", "EBADF", (w) => w.kernel.dmaBuf.get(w.p, -1)],
  ["dma_buf_get: fd not open", "EBADF", (w) => w.kernel.dmaBuf.get(w.p, 99)],
  ["dma_buf_get: bufinfo fd", "EINVAL", (w) => w.kernel.dmaBuf.get(w.p, w.infoFd)],
  // attach / map
  [
    "dynamic attach without moveNotify",
    "EINVAL",
    (w) => w.kernel.dmaBuf.dynamicAttach(w.buf, w.gpu, {} as DmaBufAttachOps),
  ],
  ["exporter refuses the device", "EBUSY", (w) => w.kernel.dmaBuf.attach(w.refuser, w.gpu)],
  ["map after detach", "EINVAL", (w) => w.kernel.dmaBuf.mapAttachment(w.detached, DMA_TO_DEVICE)],
  ["map DMA_NONE", "EINVAL", (w) => w.kernel.dmaBuf.mapAttachment(w.att, DMA_NONE)],
  ["map bad direction", "EINVAL", (w) => w.kernel.dmaBuf.mapAttachment(w.att, 9 as DmaDirection)],
  // user mmap
  ["mmap: length past the end", "EINVAL", (w) => mmapRw(w, w.fd, 5 * PS, 0)],
  ["mmap: pgoff at the end", "EINVAL", (w) => mmapRw(w, w.fd, PS, 4 * PS)],
  ["mmap: pgoff far past the end", "EINVAL", (w) => mmapRw(w, w.fd, PS, 64 * PS)],
  ["mmap: pgoff + length past the end", "EINVAL", (w) => mmapRw(w, w.fd, 4 * PS, PS)],
  ["mmap: unaligned offset", "EINVAL", (w) => mmapRw(w, w.fd, PS, 100)],
  ["mmap: zero length", "EINVAL", (w) => mmapRw(w, w.fd, 0, 0)],
  ["mmap: shared writable of O_RDONLY", "EACCES", (w) => mmapRw(w, w.roFd, PS, 0)],
  ["mmap: read mapping of O_WRONLY", "EACCES", (w) => mmapRw(w, w.woFd, PS, 0, PROT_READ)],
  ["mmap: exporter without mmap", "EINVAL", (w) => mmapRw(w, w.bareFd, PS, 0)],
  ["mmap: fd not open", "EBADF", (w) => mmapRw(w, 77, PS, 0)],
  ["munmap: already unmapped", "EINVAL", (w) => w.p.munmap(w.unmapped)],
  // in-kernel dma_buf_mmap / vmap
  [
    "dma_buf_mmap: pgoff overflow",
    "EOVERFLOW",
    (w) => w.kernel.dmaBuf.mmap(w.buf, w.driverVma(1), Number.MAX_SAFE_INTEGER),
  ],
  ["dma_buf_mmap: past the end", "EINVAL", (w) => w.kernel.dmaBuf.mmap(w.buf, w.driverVma(2), 3)],
  [
    "dma_buf_mmap: exporter without mmap",
    "EINVAL",
    (w) => w.kernel.dmaBuf.mmap(w.bare, w.driverVma(1), 0),
  ],
  ["vmap: exporter without vmap", "EINVAL", (w) => w.kernel.dmaBuf.vmap(w.bare)],
  // llseek / read / write
  ["lseek SEEK_CUR 0", "EINVAL", (w) => w.p.lseek(w.fd, 0, SEEK_CUR)],
  ["lseek SEEK_DATA 0", "EINVAL", (w) => w.p.lseek(w.fd, 0, SEEK_DATA)],
  ["lseek SEEK_HOLE 0", "EINVAL", (w) => w.p.lseek(w.fd, 0, SEEK_HOLE)],
  ["lseek SEEK_SET 1", "EINVAL", (w) => w.p.lseek(w.fd, 1, SEEK_SET)],
  ["lseek SEEK_END -1", "EINVAL", (w) => w.p.lseek(w.fd, -1, SEEK_END)],
  ["read O_RDWR", "EINVAL", (w) => w.p.read(w.fd, 8)],
  ["write O_RDWR", "EINVAL", (w) => w.p.write(w.fd, new Uint8Array(8))],
  ["write O_RDONLY", "EBADF", (w) => w.p.write(w.roFd, new Uint8Array(8))],
  ["read O_WRONLY", "EBADF", (w) => w.p.read(w.woFd, 8)],
  // ioctl
  ...[0x6209, 0x40046200, 0x40206201, 0xc0184800, 0x5401, 0x541b].map(
    (cmd): Row => [
      `ioctl 0x${cmd.toString(16)}`,
      "ENOTTY",
      (w) => w.p.ioctl(w.fd, cmd, new Uint8Array(64)),
    ],
  ),
  ...[0x0n, 0x4n, 0x9n, 0x80000003n, 0x100000003n, 0xffffffffffffffffn].map(
    (flags): Row => [`SYNC flags 0x${flags.toString(16)}`, "EINVAL", (w) => sync(w, flags)],
  ),
  ["SYNC NULL", "EFAULT", (w) => sync(w, null)],
  ...[32, 33, 100].map(
    (n): Row => [
      `SET_NAME ${n} chars`,
      "EINVAL",
      (w) => w.p.ioctl(w.fd, DMA_BUF_SET_NAME, "n".repeat(n)),
    ],
  ),
  ["SET_NAME NULL", "EFAULT", (w) => w.p.ioctl(w.fd, DMA_BUF_SET_NAME, null)],
  ["SET_NAME_A NULL", "EFAULT", (w) => w.p.ioctl(w.fd, DMA_BUF_SET_NAME_A, null)],
  // fd table
  ["close: fd not open", "EBADF", (w) => w.p.close(55)],
  ["sendFd to a full table", "EMFILE", (w) => w.p.sendFd(w.fd, w.full)],
  ["dup in a full table", "EMFILE", (w) => w.full.dup(0)],
];

/** Rows that only fail under the 6.1 profile. */
const rows61: Row[] = [
  [
    "6.1 export: cacheSgtMapping with pin",
    "EINVAL",
    (w) =>
      exportWith(w.kernel, { ops: recordingOps(w.kernel, { pin: true, cacheSgtMapping: true }) }),
  ],
  [
    "6.1 map: direction conflicts with the cached mapping",
    "EBUSY",
    (w) => w.kernel.dmaBuf.mapAttachment(w.cachedAtt, DMA_FROM_DEVICE),
  ],
  [
    "6.1 map: bidirectional against a cached one-way mapping",
    "EBUSY",
    (w) => w.kernel.dmaBuf.mapAttachment(w.cachedAtt, DMA_BIDIRECTIONAL),
  ],
];

describe("a failed call leaves the kernel unchanged", () => {
  it.each([
    ["6.18", rows],
    ["6.1", [...rows, ...rows61]],
  ] as const)("%s: every failing call of the table", (profile, table) => {
    const w = world(profile);
    const failures: string[] = [];
    for (const [name, errno, call] of table) {
      const before = w.kernel.snapshot();
      const got = errnoOf(() => call(w));
      const after = w.kernel.snapshot();
      if (got !== errno) failures.push(`${name}: expected ${errno}, got ${got}`);
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        failures.push(`${name}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
      }
    }
    expect(failures).toEqual([]);
    // Nothing of the world was disturbed either.
    expect(w.buf.name).toBe("kept");
    expect(w.buf.file.refCount).toBe(5);
    expect(w.buf.attachments).toEqual([w.att]);
    expect(w.buf.vmappingCounter).toBe(1);
    expect(w.spare.file.refCount).toBe(1);
    expect(w.p.readlink(`/proc/self/fd/${w.fd}`)).toBe("/dmabuf:kept");
  });

  it("the world is not trivially empty", () => {
    const w = world("6.18");
    expect(w.kernel.snapshot()).toMatchObject({
      buffers: 7,
      attachments: 2,
      deviceMappings: 2,
      vmaps: 1,
      userMappings: 1,
    });
    expect(w.kernel.snapshot().freePages).toBeLessThan(w.kernel.buddy.totalPages);
  });
});
