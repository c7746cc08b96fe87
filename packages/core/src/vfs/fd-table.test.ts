// The fd table's lowest-free search (bitmap + next_fd hint) against the naive scan from 0.

import { describe, expect, it } from "vitest";
import { createKernel } from "../kernel.js";
import { O_RDONLY } from "../uapi/fcntl.js";
import { errnoOf } from "./process.js";

describe("fd table", () => {
  it("open, dup and close always use the lowest free fd, across bitmap words", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const p = kernel.spawn();
    p.rlimitNofile = 5000;
    const open = new Set<number>();
    const lowest = () => {
      let fd = 0;
      while (open.has(fd)) fd++;
      return fd;
    };
    let x = 99;
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) | 0;
      return (x >>> 8) % n;
    };
    const first = p.open("/dev/null", O_RDONLY);
    open.add(first);
    for (let step = 0; step < 6000; step++) {
      if (rnd(10) < 6 || open.size < 2) {
        const want = lowest();
        const fd = rnd(2) ? p.dup(first) : p.open("/dev/null", O_RDONLY);
        expect(fd, `step ${step}`).toBe(want);
        open.add(fd);
      } else {
        const fds = [...open].filter((f) => f !== first);
        const fd = fds[rnd(fds.length)] as number;
        p.close(fd);
        open.delete(fd);
      }
    }
    expect(p.fds()).toEqual([...open].sort((a, b) => a - b));
    expect(kernel.snapshot().fds).toBe(open.size);
  });

  it("EMFILE exactly at RLIMIT_NOFILE, also after the table grew past it", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const p = kernel.spawn();
    p.rlimitNofile = 100;
    const fd = p.open("/dev/null", O_RDONLY);
    for (let i = 1; i < 100; i++) expect(p.dup(fd)).toBe(i);
    expect(errnoOf(() => p.dup(fd))).toBe("EMFILE");
    p.close(37);
    expect(p.dup(fd)).toBe(37);
    p.rlimitNofile = 40;
    p.close(45);
    expect(errnoOf(() => p.dup(fd))).toBe("EMFILE");
  });

  it("/proc/PID/fd/N resolves only canonical decimal names of open fds", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const p = kernel.spawn();
    const fd = p.open("/dev/null", O_RDONLY);
    expect(p.readlink(`/proc/self/fd/${fd}`)).toBe("/dev/null");
    expect(errnoOf(() => p.readlink("/proc/self/fd/00"))).toBe("ENOENT");
    expect(errnoOf(() => p.readlink("/proc/self/fd/1"))).toBe("ENOENT");
    expect(errnoOf(() => p.readlink("/proc/self/fd/-0"))).toBe("ENOENT");
  });
});
