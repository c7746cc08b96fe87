// Observability, byte for byte: debugfs bufinfo, sysfs buffer statistics, /proc/PID/fdinfo,
// /proc/PID/maps, /proc/PID/fd links and fstat. Expected texts are verbatim what Linux 6.1.176
// printed (linux-6.1-observed.json), with inode numbers renumbered where the model's differ.

import { describe, expect, it } from "vitest";
import { DMA_TO_DEVICE } from "../dma/direction.js";
import { DmaFence } from "../fence/dma-fence.js";
import {
  DMA_RESV_USAGE_BOOKKEEP,
  DMA_RESV_USAGE_KERNEL,
  DMA_RESV_USAGE_READ,
  DMA_RESV_USAGE_WRITE,
} from "../fence/dma-resv.js";
import type { Kernel } from "../kernel.js";
import { DMA_BUF_SET_NAME } from "../uapi/dma-buf.js";
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from "../uapi/fcntl.js";
import {
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from "../uapi/mman.js";
import type { Process } from "../vfs/process.js";
import {
  BUFINFO,
  BUFINFO_EMPTY,
  boot,
  device,
  exportRecording,
  MAPS_PATH_COLUMN,
  PS,
  recordingOps,
  recordingPriv,
  SYSFS_BUFFERS,
} from "./test-fixtures.js";

/** observed bufinfo.text_with_live_buffers (inodes 96…100). */
const OBSERVED_BUFINFO_LIVE =
  "\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n00004096\t00000002\t00080007\t00000001\tudmabuf\t00000100\toracle-udmabuf\n\tAttached Devices:\nTotal 0 devices attached\n\n00008192\t00000000\t00080005\t00000002\tsystem\t00000099\toracle-showcase\n\tAttached Devices:\nTotal 0 devices attached\n\n00004096\t00000002\t00080007\t00000002\tsystem\t00000098\t<none>\n\tAttached Devices:\nTotal 0 devices attached\n\n00008192\t00000000\t00080005\t00000002\treserved\t00000097\toracle-showcase\n\tAttached Devices:\nTotal 0 devices attached\n\n00004096\t00000002\t00080007\t00000002\treserved\t00000096\t<none>\n\tAttached Devices:\nTotal 0 devices attached\n\n\nTotal 5 objects, 28672 bytes\n";

/** observed bufinfo.live_buffers.*.fdinfo, in creation order (inodes 96…100). */
const OBSERVED_FDINFO = [
  "pos:\t0\nflags:\t02000002\nmnt_id:\t9\nino:\t96\nsize:\t4096\ncount:\t2\nexp_name:\treserved\n",
  "pos:\t0\nflags:\t00\nmnt_id:\t9\nino:\t97\nsize:\t8192\ncount:\t2\nexp_name:\treserved\nname:\toracle-showcase\n",
  "pos:\t0\nflags:\t02000002\nmnt_id:\t9\nino:\t98\nsize:\t4096\ncount:\t2\nexp_name:\tsystem\n",
  "pos:\t0\nflags:\t00\nmnt_id:\t9\nino:\t99\nsize:\t8192\ncount:\t2\nexp_name:\tsystem\nname:\toracle-showcase\n",
  "pos:\t0\nflags:\t02000002\nmnt_id:\t9\nino:\t100\nsize:\t4096\ncount:\t1\nexp_name:\tudmabuf\nname:\toracle-udmabuf\n",
];

/** observed heaps.system.dmabuf.set_name: maps lines of a 1-page buffer with inode 72. */
const OBSERVED_MAPS = {
  unnamed: "7ffff7ff8000-7ffff7ff9000 r--s 00000000 00:08 72                         /dmabuf:",
  spaceTabNewline:
    "7ffff7ff8000-7ffff7ff9000 r--s 00000000 00:08 72                         /dmabuf:a b\tc\\012d",
  named:
    "7ffff7ff8000-7ffff7ff9000 r--s 00000000 00:08 72                         /dmabuf:oracle-named",
  renamedWhileMapped:
    "7ffff7ff8000-7ffff7ff9000 r--s 00000000 00:08 72                         /dmabuf:renamed-while-mapped",
};

/** Rewrites the observed inode numbers 96…100 to the model's 1…5. */
function renumber(text: string): string {
  return text
    .replace(/\t000000(9[6-9])\t|\t00000100\t/g, (m) => {
      const ino = Number(m.trim());
      return `\t${String(ino - 95).padStart(8, "0")}\t`;
    })
    .replace(/\nino:\t(9[6-9]|100)\n/, (_m, ino: string) => `\nino:\t${Number(ino) - 95}\n`);
}

/**
 * Recreates the observed showcase: five live buffers created in the probe's order, with the
 * exporters' names, sizes, file modes, names, a mapping or a dup each.
 */
function showcase(kernel: Kernel, proc: Process) {
  const make = (expName: string, pages: number, flags: number) =>
    kernel.dmaBuf.export({
      expName,
      ops: recordingOps(kernel),
      size: pages * PS,
      flags,
      priv: recordingPriv(kernel, pages),
    });
  const fds: number[] = [];
  const maps = [];
  for (const exp of ["reserved", "system"]) {
    const mapped = kernel.dmaBuf.fd(make(exp, 1, O_RDWR), proc, O_CLOEXEC);
    maps.push(proc.mmap(mapped, PS, PROT_READ | PROT_WRITE, MAP_SHARED));
    fds.push(mapped);
    const named = kernel.dmaBuf.fd(make(exp, 2, O_RDONLY), proc, 0);
    proc.ioctl(named, DMA_BUF_SET_NAME, "oracle-showcase");
    fds.push(named, proc.dup(named));
  }
  const udmabuf = kernel.dmaBuf.fd(make("udmabuf", 1, O_RDWR), proc, O_CLOEXEC);
  proc.ioctl(udmabuf, DMA_BUF_SET_NAME, "oracle-udmabuf");
  fds.push(udmabuf);
  return { fds, maps, primary: [fds[0], fds[1], fds[3], fds[4], fds[6]] as number[] };
}

describe("debugfs dma_buf/bufinfo", () => {
  it.each(["6.18", "6.1"] as const)(
    "%s: without buffers equals environment.bufinfo_at_start",
    (profile) => {
      const { kernel } = boot({ profile });
      expect(kernel.spawn().readFile(BUFINFO)).toBe(BUFINFO_EMPTY);
    },
  );

  it("reproduces bufinfo.text_with_live_buffers byte for byte", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    showcase(kernel, proc);
    expect(proc.readFile(BUFINFO)).toBe(renumber(OBSERVED_BUFINFO_LIVE));
  });

  it("returns to bufinfo_after_close.text once everything is closed and unmapped", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const { fds, maps } = showcase(kernel, proc);
    for (const fd of fds) proc.close(fd);
    // The mappings still hold two buffers.
    expect(proc.readFile(BUFINFO)).toContain("\nTotal 2 objects, 8192 bytes\n");
    for (const m of maps) proc.munmap(m);
    expect(proc.readFile(BUFINFO)).toBe(
      "\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n\nTotal 0 objects, 0 bytes\n",
    );
    expect(proc.readdir(SYSFS_BUFFERS)).toEqual([]);
  });

  it("lists attached devices newest first with their total", () => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const buf = pages.create(PS, O_RDWR);
    kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
    const gpu = kernel.dmaBuf.attach(buf, device("gpu"));
    const display = kernel.dmaBuf.attach(buf, device("display"));
    kernel.dmaBuf.mapAttachment(gpu, DMA_TO_DEVICE);
    const head =
      "\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n";
    const entry = "00004096\t00000002\t00080007\t00000001\tpage-exporter\t00000001\t<none>\n";
    expect(proc.readFile(BUFINFO)).toBe(
      `${head}${entry}\tAttached Devices:\n\tdisplay\n\tgpu\nTotal 2 devices attached\n\n\nTotal 1 objects, 4096 bytes\n`,
    );
    kernel.dmaBuf.detach(buf, kernel.dmaBuf.attach(buf, device("gone")));
    kernel.dmaBuf.detach(buf, display);
    expect(proc.readFile(BUFINFO)).toBe(
      `${head}${entry}\tAttached Devices:\n\tgpu\nTotal 1 devices attached\n\n\nTotal 1 objects, 4096 bytes\n`,
    );
  });

  it("counts every file reference: fds, dups, fds in other processes, mappings, importer gets", () => {
    const { kernel, pages } = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    const buf = pages.create(3 * PS, O_RDWR | O_NONBLOCK);
    const fd = kernel.dmaBuf.fd(buf, a, 0);
    const count = () => {
      const line = a.readFile(BUFINFO).split("\n")[3] as string;
      expect(line.startsWith("00012288\t00000802\t00080007\t")).toBe(true);
      return line.split("\t")[3];
    };
    expect(count()).toBe("00000001");
    a.dup(fd);
    expect(count()).toBe("00000002");
    a.sendFd(fd, b);
    expect(count()).toBe("00000003");
    a.mmap(fd, PS, PROT_READ, MAP_SHARED);
    expect(count()).toBe("00000004");
    const got = kernel.dmaBuf.get(a, fd);
    expect(count()).toBe("00000005");
    kernel.dmaBuf.vmap(got);
    expect(count()).toBe("00000005");
  });

  it("prints an empty name as nothing and an unset one as <none>; names with tabs raw", () => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(pages.create(PS, O_WRONLY), proc, 0);
    const line = () => proc.readFile(BUFINFO).split("\n")[3];
    expect(line()).toBe("00004096\t00000001\t00080006\t00000001\tpage-exporter\t00000001\t<none>");
    proc.ioctl(fd, DMA_BUF_SET_NAME, "");
    expect(line()).toBe("00004096\t00000001\t00080006\t00000001\tpage-exporter\t00000001\t");
    proc.ioctl(fd, DMA_BUF_SET_NAME, "a\tb");
    expect(line()).toBe("00004096\t00000001\t00080006\t00000001\tpage-exporter\t00000001\ta\tb");
  });

  it("describes the kernel, write and read fences (not bookkeep) under the buffer line", () => {
    // 6.1 keeps a signalled fence's names (6.18 prints detached-driver signaled-timeline).
    const { kernel } = boot({ profile: "6.1" });
    const proc = kernel.spawn();
    const buf = exportRecording(kernel, { pages: 1, expName: "x" });
    const ops = { getDriverName: () => "drv", getTimelineName: () => "tl" };
    const f = (seq: number) => new DmaFence(kernel.fences, ops, kernel.fences.contextAlloc(1), seq);
    const write = f(2);
    buf.resv.add(f(1), DMA_RESV_USAGE_KERNEL);
    buf.resv.add(write, DMA_RESV_USAGE_WRITE);
    buf.resv.add(f(3), DMA_RESV_USAGE_READ);
    buf.resv.add(f(4), DMA_RESV_USAGE_BOOKKEEP);
    // Signalled after the adds: a later add would take over the signalled entry's slot.
    write.signal();
    expect(proc.readFile(BUFINFO).split("\n").slice(3, 9)).toEqual([
      "00004096\t00000002\t00080007\t00000001\tx\t00000001\t<none>",
      "\tkernel fence:drv tl seq 1 unsignalled",
      "\twrite fence:drv tl seq 2 signalled",
      "\tread fence:drv tl seq 3 unsignalled",
      "\tAttached Devices:",
      "Total 0 devices attached",
    ]);
  });

  it("is rendered when read: a reader's open file is a snapshot", () => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const fd = proc.open(BUFINFO, O_RDONLY);
    pages.create(PS, O_RDWR);
    expect(new TextDecoder().decode(proc.read(fd, 1 << 20))).toBe(BUFINFO_EMPTY);
    expect(proc.readFile(BUFINFO)).toContain("Total 1 objects, 4096 bytes");
  });
});

describe("sysfs /sys/kernel/dmabuf/buffers", () => {
  it("has one directory per live buffer, named by inode, with exporter_name and size", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    showcase(kernel, proc);
    expect([...proc.readdir(SYSFS_BUFFERS)].sort()).toEqual(["1", "2", "3", "4", "5"]);
    const expected: [string, string, string][] = [
      ["1", "reserved\n", "4096\n"],
      ["2", "reserved\n", "8192\n"],
      ["3", "system\n", "4096\n"],
      ["4", "system\n", "8192\n"],
      ["5", "udmabuf\n", "4096\n"],
    ];
    for (const [ino, exporter, size] of expected) {
      expect(proc.readdir(`${SYSFS_BUFFERS}/${ino}`)).toEqual(["exporter_name", "size"]);
      expect(proc.readFile(`${SYSFS_BUFFERS}/${ino}/exporter_name`)).toBe(exporter);
      expect(proc.readFile(`${SYSFS_BUFFERS}/${ino}/size`)).toBe(size);
    }
    expect(() => proc.readFile(`${SYSFS_BUFFERS}/6/size`)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });

  it.each(["6.18", "6.1"] as const)("%s: exists", (profile) => {
    const { kernel, pages } = boot({ profile });
    pages.create(PS, O_RDWR);
    expect(kernel.spawn().readdir(SYSFS_BUFFERS)).toEqual(["1"]);
  });
});

describe("/proc/PID/fdinfo", () => {
  it("reproduces the showcase fdinfo texts byte for byte", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    const { primary } = showcase(kernel, proc);
    primary.forEach((fd, i) => {
      expect(proc.readFile(`/proc/${proc.pid}/fdinfo/${fd}`)).toBe(
        renumber(OBSERVED_FDINFO[i] as string),
      );
    });
  });

  it("counts as fdinfo_fresh / _after_dup / _after_dup_and_mmap / after close and munmap", () => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(pages.create(3 * PS, O_RDWR), proc, O_CLOEXEC);
    const text = (count: number) =>
      `pos:\t0\nflags:\t02000002\nmnt_id:\t9\nino:\t1\nsize:\t12288\ncount:\t${count}\nexp_name:\tpage-exporter\n`;
    const read = () => proc.readFile(`/proc/self/fdinfo/${fd}`);
    expect(read()).toBe(text(1));
    const dup = proc.dup(fd);
    expect(read()).toBe(text(2));
    const m = proc.mmap(fd, 3 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    expect(read()).toBe(text(3));
    // The dup has no O_CLOEXEC.
    expect(proc.readFile(`/proc/self/fdinfo/${dup}`)).toBe(text(3).replace("02000002", "02"));
    proc.close(dup);
    proc.munmap(m);
    expect(read()).toBe(text(1));
  });

  it.each([
    ["O_RDWR | O_CLOEXEC", O_RDWR, O_CLOEXEC, "02000002"],
    ["O_RDONLY", O_RDONLY, 0, "00"],
    ["O_RDONLY | O_CLOEXEC", O_RDONLY, O_CLOEXEC, "02000000"],
    ["O_WRONLY", O_WRONLY, 0, "01"],
    ["O_RDWR | O_NONBLOCK", O_RDWR | O_NONBLOCK, 0, "04002"],
  ])("flags for %s: %s", (_n, fileFlags, fdFlags, printed) => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(pages.create(PS, fileFlags), proc, fdFlags);
    expect(proc.readFile(`/proc/self/fdinfo/${fd}`).split("\n")[1]).toBe(`flags:\t${printed}`);
  });

  it("shows the receiving fd's own close-on-exec flag in another process", () => {
    const { kernel, pages } = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    const fd = kernel.dmaBuf.fd(pages.create(PS, O_RDWR), a, O_CLOEXEC);
    const fdB = a.sendFd(fd, b);
    expect(a.readFile(`/proc/${b.pid}/fdinfo/${fdB}`)).toBe(
      "pos:\t0\nflags:\t02\nmnt_id:\t9\nino:\t1\nsize:\t4096\ncount:\t2\nexp_name:\tpage-exporter\n",
    );
  });
});

describe("/proc/PID/maps", () => {
  /** A 1-page buffer whose inode number is `ino`, mapped read-only at the top of `proc`. */
  function mappedWithIno(ino: number) {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    for (let i = 1; i < ino; i++) kernel.dmaBuf.put(pages.create(PS, O_RDWR));
    const buf = pages.create(PS, O_RDWR);
    expect(buf.ino).toBe(ino);
    const fd = kernel.dmaBuf.fd(buf, proc, O_CLOEXEC);
    const m = proc.mmap(fd, PS, PROT_READ, MAP_SHARED);
    const maps = () => proc.readFile("/proc/self/maps");
    return { kernel, proc, fd, buf, m, maps };
  }

  it("prints the observed line for an unnamed buffer with a 2-digit inode", () => {
    const { maps } = mappedWithIno(72);
    expect(maps()).toBe(`${OBSERVED_MAPS.unnamed}\n`);
  });

  it("follows renames, escaping a newline as \\012 but not a tab (observed set_name)", () => {
    const { proc, fd, maps } = mappedWithIno(10);
    const line = (observed: string) => `${observed.replace(" 72 ", " 10 ")}\n`;
    expect(maps()).toBe(line(OBSERVED_MAPS.unnamed));
    proc.ioctl(fd, DMA_BUF_SET_NAME, "oracle-named");
    expect(maps()).toBe(line(OBSERVED_MAPS.named));
    proc.ioctl(fd, DMA_BUF_SET_NAME, "renamed-while-mapped");
    expect(maps()).toBe(line(OBSERVED_MAPS.renamedWhileMapped));
    proc.ioctl(fd, DMA_BUF_SET_NAME, "a b\tc\nd");
    expect(maps()).toBe(line(OBSERVED_MAPS.spaceTabNewline));
    proc.ioctl(fd, DMA_BUF_SET_NAME, "");
    expect(maps()).toBe(line(OBSERVED_MAPS.unnamed));
  });

  it.each([1, 9, 10, 72, 99, 100])("pads the path to column 73 for inode %i", (ino) => {
    const { maps } = mappedWithIno(ino);
    const head = `7ffff7ff8000-7ffff7ff9000 r--s 00000000 00:08 ${ino}`;
    expect(maps()).toBe(`${head}${" ".repeat(MAPS_PATH_COLUMN - head.length)}/dmabuf:\n`);
    expect(maps().indexOf("/dmabuf:")).toBe(MAPS_PATH_COLUMN);
  });

  it("lists mappings by address with offset, permissions and sharing", () => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const buf = pages.create(4 * PS, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    proc.ioctl(fd, DMA_BUF_SET_NAME, "cam");
    proc.mmap(fd, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED);
    proc.mmap(fd, PS, PROT_READ | PROT_EXEC, MAP_SHARED, 3 * PS);
    proc.mmap(fd, 2 * PS, PROT_NONE, MAP_SHARED, PS);
    const one = pages.create(PS, O_RDWR);
    proc.mmap(kernel.dmaBuf.fd(one, proc, 0), PS, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    const pad = (s: string) => s.padEnd(MAPS_PATH_COLUMN);
    expect(proc.readFile(`/proc/${proc.pid}/maps`)).toBe(
      [
        `${pad("7ffff7ff1000-7ffff7ff2000 rw-p 00000000 00:08 2")}/dmabuf:`,
        `${pad("7ffff7ff2000-7ffff7ff4000 ---s 00001000 00:08 1")}/dmabuf:cam`,
        `${pad("7ffff7ff4000-7ffff7ff5000 r-xs 00003000 00:08 1")}/dmabuf:cam`,
        `${pad("7ffff7ff5000-7ffff7ff9000 rw-s 00000000 00:08 1")}/dmabuf:cam`,
        "",
      ].join("\n"),
    );
  });
});

describe("/proc/PID/fd links", () => {
  it("read /dmabuf: and /dmabuf:<name>, following renames", () => {
    const { kernel, pages } = boot();
    const a = kernel.spawn();
    const b = kernel.spawn();
    const fd = kernel.dmaBuf.fd(pages.create(PS, O_RDWR), a, O_CLOEXEC);
    expect(a.readlink(`/proc/self/fd/${fd}`)).toBe("/dmabuf:");
    a.ioctl(fd, DMA_BUF_SET_NAME, "oracle-named");
    expect(a.readlink(`/proc/self/fd/${fd}`)).toBe("/dmabuf:oracle-named");
    expect(b.readlink(`/proc/${a.pid}/fd/${fd}`)).toBe("/dmabuf:oracle-named");
    a.ioctl(fd, DMA_BUF_SET_NAME, "a b\tc\nd");
    expect(a.readlink(`/proc/self/fd/${fd}`)).toBe("/dmabuf:a b\tc\nd");
    expect(a.readdir("/proc/self/fd")).toEqual([String(fd)]);
    expect(() => a.readlink(`/proc/self/fd/${fd + 1}`)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });
});

describe("fstat", () => {
  it("reports the observed fields (fd_basics.fstat)", () => {
    const { kernel, pages } = boot();
    const proc = kernel.spawn();
    const fd = kernel.dmaBuf.fd(pages.create(3 * PS, O_RDWR), proc, O_CLOEXEC);
    expect(proc.fstat(fd)).toEqual({
      devMajor: 0,
      devMinor: 8,
      ino: 1,
      mode: 0o600,
      nlink: 1,
      uid: 0,
      gid: 0,
      rdevMajor: 0,
      rdevMinor: 0,
      size: 12288,
      blksize: 4096,
      blocks: 24,
    });
  });

  it("has the same mode 0600 for every access mode, and st_blocks = size >> 9", () => {
    const { kernel } = boot();
    const proc = kernel.spawn();
    for (const flags of [O_RDONLY, O_WRONLY, O_RDWR]) {
      const fd = kernel.dmaBuf.fd(exportRecording(kernel, { flags }), proc, 0);
      expect(proc.fstat(fd).mode).toBe(0o600);
      expect(proc.fstat(fd).blocks).toBe(16);
    }
    // An exporter may export a size that is no multiple of 512 (inode_set_bytes rounds down).
    const odd = kernel.dmaBuf.export({
      expName: "odd",
      ops: recordingOps(kernel),
      size: 1000,
      priv: recordingPriv(kernel, 1),
    });
    const fd = kernel.dmaBuf.fd(odd, proc, 0);
    expect(proc.fstat(fd)).toMatchObject({ size: 1000, blocks: 1 });
    expect(proc.readFile(`${SYSFS_BUFFERS}/${odd.ino}/size`)).toBe("1000\n");
  });
});
