// sw_sync (SPEC §15.1–15.8): timelines named after the opener, CREATE_FENCE and INC with their
// 32-bit rules, closing the timeline under pending fences, the sync_file fds it makes, and the
// verbatim texts of /sys/kernel/debug/sync/info.

import { describe, expect, it } from "vitest";
import { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE } from "../uapi/dma-buf.js";
import { F_GETFL, O_RDONLY, S_IFREG, SEEK_SET } from "../uapi/fcntl.js";
import { _IO, _IOWR } from "../uapi/ioctl.js";
import { POLLIN, POLLOUT } from "../uapi/poll.js";
import {
  decodeSwSyncGetDeadline,
  encodeSwSyncCreateFence,
  encodeSwSyncGetDeadline,
  SW_SYNC_GET_DEADLINE,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
} from "../uapi/sw-sync.js";
import {
  encodeSyncFileInfo,
  encodeSyncSetDeadline,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_SET_DEADLINE,
} from "../uapi/sync-file.js";
import { errnoOf } from "../vfs/process.js";
import { SW_SYNC_PATH, SYNC_INFO_PATH } from "./sw-sync.js";
import {
  BOOT_NS,
  buffer,
  createFence,
  exportSync,
  fileInfo,
  importSync,
  inc,
  pollOne,
  setup,
  sync,
  timeline,
} from "./test-fixtures.js";

const info = (body: string): string => `objs:\n--------------\n${body}fences:\n--------------\n`;
const at = (ns: number): string => `${Math.floor(ns / 1e9)}.${String(ns % 1e9).padStart(9, "0")}`;

describe("debugfs sync/ files", () => {
  it("sw_sync is a 0644 regular file of size 0, info a 0444 one; no timeline lists nothing", () => {
    const { proc } = setup();
    expect(proc.readdir("/sys/kernel/debug/sync")).toEqual(["sw_sync", "info"]);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info(""));
    const tl = timeline(proc);
    expect(proc.fstat(tl)).toMatchObject({ mode: S_IFREG | 0o644, size: 0 });
    const fd = proc.open(SYNC_INFO_PATH, O_RDONLY);
    expect(proc.fstat(fd).mode).toBe(S_IFREG | 0o444);
  });

  it("the timeline fd: read and write EINVAL, lseek ESPIPE, always ready for poll", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    expect(errnoOf(() => proc.read(tl, 8))).toBe("EINVAL");
    expect(errnoOf(() => proc.write(tl, new Uint8Array(1)))).toBe("EINVAL");
    expect(errnoOf(() => proc.lseek(tl, 0, SEEK_SET))).toBe("ESPIPE");
    expect(pollOne(proc, tl, POLLIN | POLLOUT)).toEqual([1, POLLIN | POLLOUT]);
  });

  it("answers only its own full command words (6.1 has no GET_DEADLINE)", () => {
    const { proc } = setup("6.1");
    const tl = timeline(proc);
    const sf = createFence(proc, tl, 1);
    const cases: [number, number, Uint8Array | null][] = [
      [tl, _IO(0x57, 9), null],
      [tl, _IOWR(0x57, 0, 4), encodeSwSyncCreateFence({ value: 1 })],
      [tl, SW_SYNC_GET_DEADLINE, encodeSwSyncGetDeadline({ fenceFd: sf })],
      [tl, SYNC_IOC_FILE_INFO, encodeSyncFileInfo()],
      [sf, SW_SYNC_IOC_INC, new Uint8Array(4)],
      [sf, _IO(0x3e, 9), null],
    ];
    for (const [fd, cmd, arg] of cases)
      expect(errnoOf(() => proc.ioctl(fd, cmd, arg))).toBe("ENOTTY");
  });
});

describe("timelines: one per open, named after the opener's comm", () => {
  it("every open makes a timeline on a fresh context, shown oldest first", () => {
    const { kernel, proc } = setup();
    const other = kernel.spawn({ name: "a-very-long-executable-name" });
    timeline(proc);
    other.open(SW_SYNC_PATH, O_RDONLY);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info("probe: 0\n\na-very-long-exe: 0\n\n"));
    expect(kernel.swSync.timelines.map((t) => t.context)).toEqual([1, 2]);
  });

  it("an fd passed to another process keeps the opener's timeline and name", () => {
    const { kernel, proc } = setup();
    const child = kernel.spawn({ name: "child" });
    const tl = timeline(proc);
    const theirs = proc.sendFd(tl, child);
    const fd = createFence(child, theirs, 4);
    expect(fileInfo(child, fd).name).toBe("sw_sync-probe1-4");
    expect(fileInfo(child, fd).fences[0]?.objName).toBe("probe");
  });
});

describe("SW_SYNC_IOC_CREATE_FENCE", () => {
  it("returns 0 and an O_CLOEXEC read-only sync_file named sw_sync-<comm><ctx>-<value>", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const arg = encodeSwSyncCreateFence({ value: 5, name: "user-name-ignored" });
    expect(proc.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, arg)).toBe(0);
    const fd = new DataView(arg.buffer).getInt32(36, true);
    expect(proc.isCloexec(fd)).toBe(true);
    expect(fileInfo(proc, fd)).toMatchObject({
      name: "sw_sync-probe1-5",
      status: 0,
      numFences: 1,
      fences: [{ objName: "probe", driverName: "sw_sync", status: 0, flags: 0, timestampNs: 0n }],
    });
    expect(pollOne(proc, fd, POLLIN)).toEqual([0, 0]);
  });

  it("a value the timeline has reached gives a fence born signalled, not listed", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 0);
    expect(fileInfo(proc, fd).fences[0]).toMatchObject({ status: 1, timestampNs: BigInt(BOOT_NS) });
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info("probe: 0\n\n"));
  });

  it("a second create at a pending value shares the fence", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const a = createFence(proc, tl, 5);
    createFence(proc, tl, 3);
    const b = createFence(proc, tl, 5);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(
      info("probe: 0\n  fence active: 3 / 0\n  fence active: 5 / 0\n\n"),
    );
    inc(proc, tl, 5);
    expect([fileInfo(proc, a).status, fileInfo(proc, b).status]).toEqual([1, 1]);
    expect(kernel.swSync.timelines[0]?.points).toEqual([]);
  });

  it("a NULL argument is EFAULT and uses no fd; without a free fd it is EMFILE first", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const before = kernel.snapshot();
    expect(errnoOf(() => proc.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, null))).toBe("EFAULT");
    expect(kernel.snapshot()).toEqual(before);
    proc.rlimitNofile = tl + 1;
    expect(errnoOf(() => proc.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, null))).toBe("EMFILE");
    expect(errnoOf(() => createFence(proc, tl, 1))).toBe("EMFILE");
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info("probe: 0\n\n"));
  });
});

describe("SW_SYNC_IOC_INC", () => {
  it("signals the passed fences lowest first and stops at the first one ahead (§15.8 texts)", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const three = createFence(proc, tl, 3);
    const five = createFence(proc, tl, 5);
    createFence(proc, tl, 5);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(
      info("probe: 0\n  fence active: 3 / 0\n  fence active: 5 / 0\n\n"),
    );
    expect(inc(proc, tl, 3)).toBe(0);
    expect([fileInfo(proc, three).status, fileInfo(proc, five).status]).toEqual([1, 0]);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info("probe: 3\n  fence active: 5 / 3\n\n"));
    expect(inc(proc, tl, 0)).toBe(0);
    expect(fileInfo(proc, five).status).toBe(0);
    inc(proc, tl, 2);
    expect(fileInfo(proc, five).status).toBe(1);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info("probe: 5\n\n"));
    expect(fileInfo(proc, createFence(proc, tl, 4)).status).toBe(1);
  });

  it("wraps at 32 bits and applies increments above INT_MAX in chunks", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const ten = createFence(proc, tl, 10);
    inc(proc, tl, 0x80000005);
    expect(fileInfo(proc, ten).status).toBe(1);
    expect(fileInfo(proc, createFence(proc, tl, 20)).status).toBe(1);
    const high = createFence(proc, tl, 0x80000010);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(
      info("probe: -2147483643\n  fence active: 2147483664 / -2147483643\n\n"),
    );
    inc(proc, tl, 0xffffffff);
    expect(fileInfo(proc, high).status).toBe(1);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info("probe: -2147483644\n\n"));
  });

  it("a NULL increment is EFAULT", () => {
    const { proc } = setup();
    expect(errnoOf(() => proc.ioctl(timeline(proc), SW_SYNC_IOC_INC, null))).toBe("EFAULT");
  });

  it("an INC from a clock event wakes a blocked SYNC and a poll", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const buf = buffer(kernel, proc);
    importSync(proc, buf, createFence(proc, tl, 1), DMA_BUF_SYNC_WRITE);
    kernel.clock.schedule(5_000_000, () => inc(proc, tl, 1));
    expect(sync(proc, buf, DMA_BUF_SYNC_READ)).toBe(0);
    expect(kernel.clock.now).toBe(BOOT_NS + 5_000_000);
    importSync(proc, buf, createFence(proc, tl, 2), DMA_BUF_SYNC_WRITE);
    kernel.clock.schedule(1_000_000, () => inc(proc, tl, 1));
    expect(pollOne(proc, buf, POLLIN, 10)).toEqual([1, POLLIN]);
    expect(kernel.clock.now).toBe(BOOT_NS + 6_000_000);
  });
});

describe("closing the timeline file", () => {
  it("errors pending fences with -ENOENT; they stay listed until freed, then the timeline goes", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const done = createFence(proc, tl, 5);
    inc(proc, tl, 5);
    kernel.clock.advance(1000);
    const seven = createFence(proc, tl, 7);
    const nine = createFence(proc, tl, 9);
    const dup = proc.dup(tl);
    proc.close(tl);
    expect(fileInfo(proc, seven).status).toBe(0);
    proc.close(dup);
    const t = at(BOOT_NS + 1000);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(
      info(`probe: 5\n  fence error@${t}: 7 / 5\n  fence error@${t}: 9 / 5\n\n`),
    );
    expect(fileInfo(proc, seven)).toMatchObject({
      status: -2,
      fences: [{ status: -2, timestampNs: BigInt(BOOT_NS + 1000) }],
    });
    expect(fileInfo(proc, done).status).toBe(1);
    expect(pollOne(proc, nine, POLLIN | POLLOUT)).toEqual([1, POLLIN]);
    proc.close(seven);
    proc.close(nine);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info("probe: 5\n\n"));
    proc.close(done);
    expect(proc.readFile(SYNC_INFO_PATH)).toBe(info(""));
  });

  it("process exit closes it too; an imported fence then lets the buffer go", () => {
    const { kernel, proc } = setup();
    const other = kernel.spawn({ name: "worker" });
    const tl = timeline(other);
    const fence = other.sendFd(createFence(other, tl, 1), proc);
    const buf = buffer(kernel, proc);
    importSync(proc, buf, fence, DMA_BUF_SYNC_WRITE);
    expect(pollOne(proc, buf, POLLIN | POLLOUT)).toEqual([0, 0]);
    other.exit();
    expect(pollOne(proc, buf, POLLIN | POLLOUT)).toEqual([1, POLLIN | POLLOUT]);
    expect(exportSync(proc, buf, DMA_BUF_SYNC_WRITE)).toBeGreaterThan(0);
  });
});

describe("SW_SYNC_GET_DEADLINE (6.3+)", () => {
  it("reads back the earliest deadline set through SYNC_IOC_SET_DEADLINE", () => {
    const { proc } = setup();
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 1);
    const get = () => {
      const arg = encodeSwSyncGetDeadline({ fenceFd: fd });
      proc.ioctl(tl, SW_SYNC_GET_DEADLINE, arg);
      return decodeSwSyncGetDeadline(arg).deadlineNs;
    };
    expect(errnoOf(get)).toBe("ENOENT");
    proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, encodeSyncSetDeadline({ deadlineNs: 9000n }));
    proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, encodeSyncSetDeadline({ deadlineNs: 7000n }));
    proc.ioctl(fd, SYNC_IOC_SET_DEADLINE, encodeSyncSetDeadline({ deadlineNs: 8000n }));
    expect(get()).toBe(7000n);
  });

  it("checks its argument and the fence", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 1);
    const stub = exportSync(proc, buffer(kernel, proc), DMA_BUF_SYNC_READ);
    const cases: [string, Uint8Array | null, string][] = [
      ["NULL", null, "EFAULT"],
      ["deadline_ns set", encodeSwSyncGetDeadline({ fenceFd: fd, deadlineNs: 1n }), "EINVAL"],
      ["pad set", encodeSwSyncGetDeadline({ fenceFd: fd, pad: 1 }), "EINVAL"],
      ["not a sync_file", encodeSwSyncGetDeadline({ fenceFd: tl }), "EINVAL"],
      ["not a sw_sync fence", encodeSwSyncGetDeadline({ fenceFd: stub }), "EINVAL"],
    ];
    for (const [, arg, errno] of cases) {
      expect(errnoOf(() => proc.ioctl(tl, SW_SYNC_GET_DEADLINE, arg))).toBe(errno);
    }
    expect(proc.fileOf(fd).refCount).toBe(1);
  });
});

describe("the sync_file of a sw_sync fence", () => {
  it("is an anon-inode file: link, flags, stat, fdinfo, read/write/lseek/mmap errors", () => {
    const { kernel, proc } = setup();
    const tl = timeline(proc);
    const fd = createFence(proc, tl, 1);
    const other = createFence(proc, tl, 2);
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe("anon_inode:sync_file");
    expect(proc.fcntl(fd, F_GETFL)).toBe(0);
    const st = proc.fstat(fd);
    expect(st).toMatchObject({ mode: 0o600, size: 0, nlink: 1 });
    expect(proc.fstat(other).ino).toBe(st.ino);
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toBe(
      `pos:\t0\nflags:\t02000000\nmnt_id:\t13\nino:\t${st.ino}\n`,
    );
    expect(errnoOf(() => proc.read(fd, 1))).toBe("EINVAL");
    expect(errnoOf(() => proc.write(fd, new Uint8Array(1)))).toBe("EBADF");
    expect(errnoOf(() => proc.lseek(fd, 0, SEEK_SET))).toBe("ESPIPE");
    expect(errnoOf(() => proc.mmap(fd, 4096, 1, 1))).toBe("ENODEV");
    expect(kernel.swSync.timelines.length).toBe(1);
  });
});
