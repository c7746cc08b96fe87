// epoll holds no reference on what it watches: items go at the file's final fput, fd numbers can
// be reused, loops between epolls are ELOOP, and exit leaks nothing.

import { describe, expect, it } from "vitest";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel } from "../kernel.js";
import { O_RDWR } from "../uapi/fcntl.js";
import { POLLIN } from "../uapi/poll.js";
import { EP_MAX_NESTS, EPOLL_CTL_ADD, EPOLL_CTL_DEL } from "./eventpoll.js";
import { errnoOf } from "./process.js";

const PS = 4096;

function setup() {
  const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter] });
  const p = kernel.spawn();
  const newBuf = () => kernel.dmaBuf.fd(kernel.plugin(PageExporter).create(PS, O_RDWR), p, 0);
  return { kernel, p, newBuf };
}

describe("epoll lifetime", () => {
  it("closing a watched buffer's last fd frees it; the item is gone", () => {
    const { kernel, p, newBuf } = setup();
    const ep = p.epollCreate();
    const fd = newBuf();
    p.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN);
    expect(p.fileOf(fd).refCount).toBe(1);
    p.close(fd);
    expect(kernel.snapshot().buffers).toBe(0);
    expect(p.epollWait(ep, 8, 0)).toEqual([]);
    p.close(ep);
    expect(kernel.snapshot().files).toBe(0);
  });

  it("a reused fd number can be added again", () => {
    const { p, newBuf } = setup();
    const ep = p.epollCreate();
    const fd = newBuf();
    p.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN);
    p.close(fd);
    const again = newBuf();
    expect(again).toBe(fd);
    p.epollCtl(ep, EPOLL_CTL_ADD, again, POLLIN);
    expect(p.epollWait(ep, 8, 0)).toEqual([{ fd, events: POLLIN }]);
  });

  it("items are keyed by file and fd: a dup keeps the item alive, a new file at the number is new", () => {
    const { p, newBuf } = setup();
    const ep = p.epollCreate();
    const fd = newBuf();
    const dup = p.dup(fd);
    p.epollCtl(ep, EPOLL_CTL_ADD, fd, POLLIN);
    p.close(fd);
    // The file lives on through the dup, so its item is still reported under the old number.
    expect(p.epollWait(ep, 8, 0)).toEqual([{ fd, events: POLLIN }]);
    const other = newBuf();
    expect(other).toBe(fd);
    p.epollCtl(ep, EPOLL_CTL_ADD, other, POLLIN);
    expect(p.epollWait(ep, 8, 0)).toEqual([
      { fd, events: POLLIN },
      { fd, events: POLLIN },
    ]);
    p.epollCtl(ep, EPOLL_CTL_DEL, other);
    p.close(dup);
    expect(p.epollWait(ep, 8, 0)).toEqual([]);
  });

  it("two epolls watching each other: ELOOP, and nothing changed", () => {
    const { kernel, p } = setup();
    const a = p.epollCreate();
    const b = p.epollCreate();
    p.epollCtl(a, EPOLL_CTL_ADD, b, POLLIN);
    const before = kernel.snapshot();
    expect(errnoOf(() => p.epollCtl(b, EPOLL_CTL_ADD, a, POLLIN))).toBe("ELOOP");
    const c = p.epollCreate();
    p.epollCtl(b, EPOLL_CTL_ADD, c, POLLIN);
    expect(errnoOf(() => p.epollCtl(c, EPOLL_CTL_ADD, a, POLLIN))).toBe("ELOOP");
    expect(p.epollWait(a, 8, 0)).toEqual([]);
    expect(kernel.snapshot().files).toBe(before.files + 1);
  });

  it("nesting deeper than EP_MAX_NESTS below the added epoll is ELOOP; waits never overflow", () => {
    const { p, newBuf } = setup();
    const fd = newBuf();
    let inner = p.epollCreate();
    p.epollCtl(inner, EPOLL_CTL_ADD, fd, POLLIN);
    const chain = [inner];
    // Each new epoll watches the previous one; the check counts the levels below the added one.
    for (let level = 0; level <= EP_MAX_NESTS + 1; level++) {
      const outer = p.epollCreate();
      p.epollCtl(outer, EPOLL_CTL_ADD, inner, POLLIN);
      chain.push(outer);
      inner = outer;
    }
    const top = p.epollCreate();
    expect(errnoOf(() => p.epollCtl(top, EPOLL_CTL_ADD, inner, POLLIN))).toBe("ELOOP");
    expect(p.epollWait(inner, 1, 0)).toEqual([{ fd: chain.at(-2), events: 1 }]);
  });

  it("exit after watching buffers and epolls leaks nothing", () => {
    const { kernel, p, newBuf } = setup();
    const a = p.epollCreate();
    const b = p.epollCreate();
    p.epollCtl(a, EPOLL_CTL_ADD, b, POLLIN);
    for (let i = 0; i < 4; i++) {
      const fd = newBuf();
      p.epollCtl(a, EPOLL_CTL_ADD, fd, POLLIN);
      p.epollCtl(b, EPOLL_CTL_ADD, fd, POLLIN);
    }
    errnoOf(() => p.epollCtl(b, EPOLL_CTL_ADD, a, POLLIN));
    p.exit();
    const s = kernel.snapshot();
    expect([s.buffers, s.files, s.fds]).toEqual([0, 0, 0]);
  });
});
