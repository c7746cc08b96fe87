// The dma-buf file's methods as user space sees them: lseek, read/write, ioctl, poll.
// Expected values are the ones Linux 6.1.176 returned (linux-6.1-observed.json,
// heaps.system.dmabuf).

import { describe, expect, it } from "vitest";
import { DMA_BIDIRECTIONAL } from "../dma/direction.js";
import { KernelError } from "../errors/kernel-error.js";
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  encodeDmaBufSync,
} from "../uapi/dma-buf.js";
import {
  F_GETFD,
  F_GETFL,
  FD_CLOEXEC,
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
import { POLLERR, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from "../uapi/poll.js";
import { errnoOf, type PollFd } from "../vfs/process.js";
import { boot, device, exportRecording, PS } from "./test-fixtures.js";

/** A process with one PageExporter buffer of `size` bytes at an fd (O_CLOEXEC). */
function setup(size = 3 * PS, fileFlags = O_RDWR) {
  const { kernel, pages } = boot();
  const proc = kernel.spawn({ name: "oracle" });
  const buf = pages.create(size, fileFlags);
  const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
  return { kernel, proc, buf, fd };
}

const fdinfoName = (text: string): string | null => {
  const m = /\nname:\t([\s\S]*)\n$/.exec(text);
  return m ? (m[1] as string) : null;
};

describe("llseek", () => {
  // observed fd_basics.lseek, buffer_size 12288
  const cases: [string, number, number, number | string][] = [
    ["seek_end_0", 0, SEEK_END, 12288],
    ["seek_set_0", 0, SEEK_SET, 0],
    ["seek_cur_0", 0, SEEK_CUR, "EINVAL"],
    ["seek_end_minus_1", -1, SEEK_END, "EINVAL"],
    ["seek_end_plus_1", 1, SEEK_END, "EINVAL"],
    ["seek_set_1", 1, SEEK_SET, "EINVAL"],
    ["seek_data_0", 0, SEEK_DATA, "EINVAL"],
    ["seek_hole_0", 0, SEEK_HOLE, "EINVAL"],
    ["whence 5", 0, 5, "EINVAL"],
    ["seek_set_4096", PS, SEEK_SET, "EINVAL"],
  ];
  it.each(cases)("%s", (_name, offset, whence, expected) => {
    const { proc, fd } = setup();
    if (typeof expected === "number") expect(proc.lseek(fd, offset, whence)).toBe(expected);
    else {
      expect(() => proc.lseek(fd, offset, whence)).toThrow(
        expect.objectContaining({ code: expected, syscall: "lseek" }),
      );
    }
  });

  it("does not move the file position (fdinfo pos stays 0)", () => {
    const { proc, fd } = setup();
    expect(proc.lseek(fd, 0, SEEK_END)).toBe(12288);
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toMatch(/^pos:\t0\n/);
  });

  it("reports the page-rounded size of a buffer", () => {
    const { proc, fd } = setup(1);
    expect(proc.lseek(fd, 0, SEEK_END)).toBe(PS);
  });

  it("fails with EBADF on an fd that is not open", () => {
    const { proc } = setup();
    expect(errnoOf(() => proc.lseek(7, 0, SEEK_END))).toBe("EBADF");
  });
});

describe("read / write", () => {
  const cases: [string, number, string, string][] = [
    ["O_RDWR", O_RDWR, "EINVAL", "EINVAL"],
    ["O_RDONLY", O_RDONLY, "EINVAL", "EBADF"],
    ["O_WRONLY", O_WRONLY, "EBADF", "EINVAL"],
  ];
  it.each(cases)("a %s buffer: read %s, write %s", (_name, flags, readErr, writeErr) => {
    const { kernel, proc, fd } = setup(PS, flags);
    const before = kernel.snapshot();
    expect(() => proc.read(fd, 16)).toThrow(
      expect.objectContaining({ code: readErr, syscall: "read" }),
    );
    expect(() => proc.write(fd, new Uint8Array(16))).toThrow(
      expect.objectContaining({ code: writeErr, syscall: "write" }),
    );
    expect(kernel.snapshot()).toEqual(before);
  });
});

describe("fcntl", () => {
  it("F_GETFL gives the file flags, F_GETFD the close-on-exec bit (observed fd_basics.fcntl)", () => {
    const { kernel, proc, fd, buf } = setup();
    expect(proc.fcntl(fd, F_GETFL)).toBe(0o2);
    expect(proc.fcntl(fd, F_GETFD)).toBe(FD_CLOEXEC);
    const dup = proc.dup(fd);
    expect(proc.fcntl(dup, F_GETFD)).toBe(0);
    const ro = kernel.dmaBuf.fd(exportRecording(kernel, { flags: O_RDONLY }), proc, 0);
    expect(proc.fcntl(ro, F_GETFL)).toBe(0);
    expect(buf.file.fFlags).toBe(O_RDWR);
  });
});

describe("ioctl", () => {
  // observed fd_basics.unknown_ioctls: every one is ENOTTY
  const unknown: [string, number][] = [
    ["nr_9", 0x6209],
    ["sync_wrong_size", 0x40046200],
    ["set_name_size_32", 0x40206201],
    ["heap_alloc_on_dmabuf", 0xc0184800],
    ["tcgets", 0x5401],
    ["fionread", 0x541b],
  ];
  it.each(unknown)("unknown command %s is ENOTTY", (_name, cmd) => {
    const { kernel, proc, fd } = setup();
    const before = kernel.snapshot();
    for (const arg of [new Uint8Array(64), null, "x"]) {
      expect(() => proc.ioctl(fd, cmd, arg)).toThrow(
        expect.objectContaining({ code: "ENOTTY", errno: 25 }),
      );
    }
    expect(kernel.snapshot()).toEqual(before);
  });

  it("the known commands have the uapi codes", () => {
    expect(DMA_BUF_IOCTL_SYNC).toBe(0x40086200);
    expect(DMA_BUF_SET_NAME).toBe(0x40086201);
    expect(DMA_BUF_SET_NAME_A).toBe(0x40046201);
    expect(DMA_BUF_SET_NAME_B).toBe(0x40086201);
  });

  it("fails with EBADF on an fd that is not open", () => {
    const { proc } = setup();
    expect(errnoOf(() => proc.ioctl(9, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(1)))).toBe("EBADF");
  });
});

describe("DMA_BUF_IOCTL_SYNC", () => {
  // observed sync_ioctl, in the order the probe ran them on one buffer
  const cases: [string, bigint, string | null][] = [
    ["rw_end_before_any_start", 0x7n, null],
    ["flags_0", 0x0n, "EINVAL"],
    ["read_start", 0x1n, null],
    ["read_end", 0x5n, null],
    ["write_start", 0x2n, null],
    ["write_end", 0x6n, null],
    ["rw_start", 0x3n, null],
    ["rw_start_again_nested", 0x3n, null],
    ["rw_end", 0x7n, null],
    ["end_only_no_direction", 0x4n, "EINVAL"],
    ["start_only_no_direction_same_value_as_flags_0", 0x0n, "EINVAL"],
    ["read_plus_bit3", 0x9n, "EINVAL"],
    ["rw_plus_bit31", 0x80000003n, "EINVAL"],
    ["rw_plus_bit32", 0x100000003n, "EINVAL"],
    ["all_bits", 0xffffffffffffffffn, "EINVAL"],
  ];

  it("answers every observed flags value as Linux 6.1 did, in sequence", () => {
    const { proc, fd } = setup();
    const got = cases.map(([, flags]) =>
      errnoOf(() => expect(proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(flags))).toBe(0)),
    );
    expect(got).toEqual(cases.map(([, , e]) => e));
  });

  it("a NULL argument is EFAULT (observed null_arg), as is a short or string argument", () => {
    const { kernel, proc, fd } = setup();
    const before = kernel.snapshot();
    for (const arg of [null, new Uint8Array(7), "\x03\0\0\0\0\0\0\0"]) {
      expect(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, arg)).toThrow(
        expect.objectContaining({ code: "EFAULT", errno: 14 }),
      );
    }
    expect(kernel.snapshot()).toEqual(before);
  });

  it("calls the exporter's begin/end with the direction of the flags; errors fail nothing else", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    for (const flags of [1, 2, 3, 5, 6, 7]) {
      proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(flags));
    }
    for (const flags of [0, 4, 8, 9, 0x100000003n]) {
      expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(flags)))).toBe(
        "EINVAL",
      );
    }
    expect(buf.priv.calls).toEqual([
      "begin DMA_FROM_DEVICE",
      "begin DMA_TO_DEVICE",
      "begin DMA_BIDIRECTIONAL",
      "end DMA_FROM_DEVICE",
      "end DMA_TO_DEVICE",
      "end DMA_BIDIRECTIONAL",
    ]);
  });

  it("passes the exporter's error through", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel, {
      override: {
        beginCpuAccess: () => {
          throw new KernelError("EINTR", "begin_cpu_access");
        },
        endCpuAccess: () => {
          throw new KernelError("EIO", "end_cpu_access");
        },
      },
    });
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(3)))).toBe("EINTR");
    expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(7)))).toBe("EIO");
  });

  it("succeeds without begin/end ops and works on an O_RDONLY buffer", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const buf = exportRecording(kernel, {
      flags: O_RDONLY,
      omit: ["beginCpuAccess", "endCpuAccess"],
    });
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    expect(proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(3))).toBe(0);
    expect(proc.ioctl(fd, DMA_BUF_IOCTL_SYNC, encodeDmaBufSync(7))).toBe(0);
    expect(buf.priv.calls).toEqual([]);
  });
});

describe("DMA_BUF_SET_NAME", () => {
  const a = (n: number) => "a".repeat(n);

  it("answers every observed case as Linux 6.1 did, in sequence (observed set_name.cases)", () => {
    const { proc, fd } = setup(PS);
    const fdinfo = () => proc.readFile(`/proc/self/fdinfo/${fd}`);
    expect(fdinfoName(fdinfo())).toBeNull();
    const cases: [string, number, string | null, string | null][] = [
      ["empty", DMA_BUF_SET_NAME, "", null],
      ["short", DMA_BUF_SET_NAME, "oracle", null],
      ["len_31", DMA_BUF_SET_NAME, a(31), null],
      ["len_32", DMA_BUF_SET_NAME, a(32), "EINVAL"],
      ["len_33", DMA_BUF_SET_NAME, a(33), "EINVAL"],
      ["len_100", DMA_BUF_SET_NAME, a(100), "EINVAL"],
      ["null_ptr", DMA_BUF_SET_NAME, null, "EFAULT"],
      ["via_SET_NAME_A", DMA_BUF_SET_NAME_A, "via-name-a", null],
      ["via_SET_NAME", DMA_BUF_SET_NAME, "via-name", null],
      ["space_tab_newline", DMA_BUF_SET_NAME, "a b\tc\nd", null],
      ["rename", DMA_BUF_SET_NAME, "renamed", null],
    ];
    const after: Record<string, string> = {
      empty: "",
      short: "oracle",
      len_31: a(31),
      len_32: a(31),
      len_33: a(31),
      len_100: a(31),
      null_ptr: a(31),
      via_SET_NAME_A: "via-name-a",
      via_SET_NAME: "via-name",
      space_tab_newline: "a b\tc\nd",
      rename: "renamed",
    };
    for (const [name, cmd, arg, errno] of cases) {
      expect(
        errnoOf(() => expect(proc.ioctl(fd, cmd, arg)).toBe(0)),
        name,
      ).toBe(errno);
      expect(fdinfoName(fdinfo()), name).toBe(after[name]);
    }
  });

  it("the empty name prints `name:\\t` in fdinfo and `/dmabuf:` as the link (observed empty)", () => {
    const { proc, fd, buf } = setup(PS);
    proc.ioctl(fd, DMA_BUF_SET_NAME, "");
    expect(buf.name).toBe("");
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`)).toBe(
      `pos:\t0\nflags:\t02000002\nmnt_id:\t9\nino:\t1\nsize:\t4096\ncount:\t1\nexp_name:\tpage-exporter\nname:\t\n`,
    );
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe("/dmabuf:");
  });

  it("a failed rename leaves the name unchanged", () => {
    const { proc, fd, buf } = setup(PS);
    proc.ioctl(fd, DMA_BUF_SET_NAME, "keep");
    for (const [arg, errno] of [
      [a(32), "EINVAL"],
      [null, "EFAULT"],
      ["é".repeat(16), "EINVAL"], // 32 bytes of UTF-8
    ] as const) {
      expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_SET_NAME, arg))).toBe(errno);
      expect(buf.name).toBe("keep");
    }
    expect(proc.readlink(`/proc/self/fd/${fd}`)).toBe("/dmabuf:keep");
  });

  it("reads the name as NUL-terminated bytes (strndup_user)", () => {
    const { proc, fd, buf } = setup(PS);
    const bytes = (s: string, nul = true) =>
      new Uint8Array([...new TextEncoder().encode(s), ...(nul ? [0] : [])]);
    proc.ioctl(fd, DMA_BUF_SET_NAME, bytes("from-bytes"));
    expect(buf.name).toBe("from-bytes");
    proc.ioctl(fd, DMA_BUF_SET_NAME_A, bytes(a(31)));
    expect(buf.name).toBe(a(31));
    // Anything after the NUL is ignored.
    proc.ioctl(fd, DMA_BUF_SET_NAME, new Uint8Array([0x78, 0, 0x79, 0x79]));
    expect(buf.name).toBe("x");
    // 32 bytes without a NUL: too long.
    expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_SET_NAME, bytes(a(32), false)))).toBe("EINVAL");
    expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_SET_NAME, bytes(a(40))))).toBe("EINVAL");
    // The user buffer ends before any NUL: the kernel faults reading on.
    expect(errnoOf(() => proc.ioctl(fd, DMA_BUF_SET_NAME, bytes("abc", false)))).toBe("EFAULT");
    expect(buf.name).toBe("x");
  });

  it("renaming is allowed while the buffer is attached (no EBUSY since 5.17)", () => {
    const { kernel, proc, fd, buf } = setup(PS);
    const att = kernel.dmaBuf.attach(buf, device("gpu"));
    kernel.dmaBuf.mapAttachment(att, DMA_BIDIRECTIONAL);
    expect(proc.ioctl(fd, DMA_BUF_SET_NAME, "attached")).toBe(0);
    expect(proc.ioctl(fd, DMA_BUF_SET_NAME, "again")).toBe(0);
    expect(buf.name).toBe("again");
  });

  it("works on an O_RDONLY buffer", () => {
    const { proc, fd, buf } = setup(PS, O_RDONLY);
    expect(proc.ioctl(fd, DMA_BUF_SET_NAME, "ro")).toBe(0);
    expect(buf.name).toBe("ro");
  });
});

describe("poll", () => {
  // observed poll: a buffer without fences
  const cases: [string, number, number, number][] = [
    ["in_out", POLLIN | POLLOUT, 1, POLLIN | POLLOUT],
    ["in", POLLIN, 1, POLLIN],
    ["out", POLLOUT, 1, POLLOUT],
    ["pri", POLLPRI, 0, 0],
    ["none", 0, 0, 0],
  ];
  it.each(cases)("%s", (_name, events, ret, revents) => {
    const { proc, fd } = setup();
    const fds: PollFd[] = [{ fd, events }];
    expect(proc.poll(fds, 0)).toBe(ret);
    expect(fds[0]?.revents).toBe(revents);
  });

  it("in_out_again with a timeout is ready at once and does not wait", () => {
    const { kernel, proc, fd } = setup();
    const fds: PollFd[] = [{ fd, events: POLLIN | POLLOUT }];
    expect(proc.poll(fds, 100)).toBe(1);
    expect(fds[0]?.revents).toBe(POLLIN | POLLOUT);
    expect(kernel.clock.now).toBe(0);
  });

  it("reports POLLNVAL for a closed fd and counts each ready entry once", () => {
    const { kernel, proc, fd } = setup();
    const other = kernel.dmaBuf.fd(exportRecording(kernel), proc, 0);
    const fds: PollFd[] = [
      { fd, events: POLLIN },
      { fd: 42, events: POLLIN },
      { fd: -1, events: POLLIN },
      { fd: other, events: POLLOUT | POLLPRI },
    ];
    expect(proc.poll(fds, 0)).toBe(3);
    expect(fds.map((f) => f.revents)).toEqual([POLLIN, POLLNVAL, 0, POLLOUT]);
    expect(POLLERR & (fds[0]?.revents ?? 0)).toBe(0);
  });
});
