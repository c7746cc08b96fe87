// fs/eventpoll.c: an epoll instance watching other files, level-triggered.

import { KernelError } from "../errors/kernel-error.js";
import { POLLERR, POLLHUP } from "../uapi/poll.js";
import type { File, FileOperations } from "./file.js";

/** epoll_ctl: add a file. */
export const EPOLL_CTL_ADD = 1;
/** epoll_ctl: remove a file. */
export const EPOLL_CTL_DEL = 2;
/** epoll_ctl: change the events of a file. */
export const EPOLL_CTL_MOD = 3;
/** epoll_create1: close-on-exec. */
export const EPOLL_CLOEXEC = 0o2000000;

/** One ready file, as epoll_wait reports it (`struct epoll_event`, with the fd as data). */
export interface EpollEvent {
  /** The fd the file was added under. */
  readonly fd: number;
  /** Ready events. */
  readonly events: number;
}

/** The watch list of one epoll instance. */
export class EventPoll {
  /** Watched files by the fd they were added under. */
  readonly items = new Map<number, { file: File; events: number }>();

  /**
   * Adds, modifies or removes a watched file (`epoll_ctl`).
   * @throws KernelError EINVAL (bad op, or the epoll file itself); EPERM (the file cannot be
   * polled); EEXIST (added twice); ENOENT (not watched).
   */
  ctl(op: number, fd: number, file: File, events: number, self: File): void {
    if (file === self) throw new KernelError("EINVAL", "epoll_ctl", "an epoll cannot watch itself");
    if (!file.fops.poll) throw new KernelError("EPERM", "epoll_ctl", "the file cannot be polled");
    const item = this.items.get(fd);
    switch (op) {
      case EPOLL_CTL_ADD:
        if (item) throw new KernelError("EEXIST", "epoll_ctl");
        this.items.set(fd, { file: file.get(), events });
        return;
      case EPOLL_CTL_MOD:
        if (!item) throw new KernelError("ENOENT", "epoll_ctl");
        item.events = events;
        return;
      case EPOLL_CTL_DEL:
        if (!item) throw new KernelError("ENOENT", "epoll_ctl");
        this.items.delete(fd);
        item.file.put();
        return;
      default:
        throw new KernelError("EINVAL", "epoll_ctl", `unknown op ${op}`);
    }
  }

  /** The ready files, at most `max` (level-triggered: polled afresh on every call). */
  ready(max: number): EpollEvent[] {
    const out: EpollEvent[] = [];
    for (const [fd, { file, events }] of this.items) {
      if (out.length >= max) break;
      const mask = (file.fops.poll?.(file, events) ?? 0) & (events | POLLERR | POLLHUP);
      if (mask) out.push({ fd, events: mask });
    }
    return out;
  }
}

/** The methods of an epoll file: it is itself pollable, and drops its watches on release. */
export const eventPollFops: FileOperations = {
  poll(file) {
    return (file.privateData as EventPoll).ready(1).length > 0 ? 1 : 0;
  },
  release(file) {
    const ep = file.privateData as EventPoll;
    for (const { file: f } of ep.items.values()) f.put();
    ep.items.clear();
  },
};
