// fs/eventpoll.c: an epoll instance watching other files, level-triggered, holding no reference.

import { KernelError } from "../errors/kernel-error.js";
import { POLLERR, POLLHUP } from "../uapi/poll.js";
import type { File, FileOperations, FileWatch } from "./file.js";

/** epoll_ctl: add a file. */
export const EPOLL_CTL_ADD = 1;
/** epoll_ctl: remove a file. */
export const EPOLL_CTL_DEL = 2;
/** epoll_ctl: change the events of a file. */
export const EPOLL_CTL_MOD = 3;
/** epoll_create1: close-on-exec. */
export const EPOLL_CLOEXEC = 0o2000000;
/** How deeply epolls may watch epolls (`EP_MAX_NESTS`). */
export const EP_MAX_NESTS = 4;

/** One ready file, as epoll_wait reports it (`struct epoll_event`, with the fd as data). */
export interface EpollEvent {
  /** The fd the file was added under. */
  readonly fd: number;
  /** Ready events. */
  readonly events: number;
}

/** One watched (file, fd) pair (`struct epitem`). */
interface EpItem {
  readonly file: File;
  readonly fd: number;
  events: number;
}

/**
 * The watch list of one epoll instance. Like Linux it holds no reference on the watched files:
 * an item goes away when its file's last reference is dropped (`eventpoll_release`), and items
 * are keyed by file and fd, so a reused fd number can be added again.
 */
export class EventPoll implements FileWatch {
  /** Every item, in the order they were added. */
  readonly #items = new Set<EpItem>();
  /** Items by file, then by fd. */
  readonly #byFile = new Map<File, Map<number, EpItem>>();

  /** The number of watched (file, fd) pairs. */
  get size(): number {
    return this.#items.size;
  }

  /**
   * Adds, modifies or removes a watched file (`epoll_ctl`).
   * @throws KernelError EINVAL (bad op, or the epoll file itself); EPERM (the file cannot be
   * polled); EEXIST (added twice); ENOENT (not watched); ELOOP (adding an epoll that watches
   * this one, directly or through others, or nesting epolls more than EP_MAX_NESTS deep).
   */
  ctl(op: number, fd: number, file: File, events: number, self: File): void {
    if (file === self) throw new KernelError("EINVAL", "epoll_ctl", "an epoll cannot watch itself");
    if (!file.fops.poll) throw new KernelError("EPERM", "epoll_ctl", "the file cannot be polled");
    const item = this.#byFile.get(file)?.get(fd);
    switch (op) {
      case EPOLL_CTL_ADD: {
        if (item) throw new KernelError("EEXIST", "epoll_ctl");
        const child = file.privateData;
        if (child instanceof EventPoll && (child === this || child.#reaches(this, 0))) {
          throw new KernelError("ELOOP", "epoll_ctl", "epoll loop or nesting too deep");
        }
        const added: EpItem = { file, fd, events };
        this.#items.add(added);
        let byFd = this.#byFile.get(file);
        if (!byFd) {
          byFd = new Map();
          this.#byFile.set(file, byFd);
        }
        byFd.set(fd, added);
        file.watches ??= new Set();
        file.watches.add(this);
        return;
      }
      case EPOLL_CTL_MOD:
        if (!item) throw new KernelError("ENOENT", "epoll_ctl");
        item.events = events;
        return;
      case EPOLL_CTL_DEL:
        if (!item) throw new KernelError("ENOENT", "epoll_ctl");
        this.#remove(item);
        return;
      default:
        throw new KernelError("EINVAL", "epoll_ctl", `unknown op ${op}`);
    }
  }

  /**
   * Whether `target` is reachable through the epolls this one watches, or epolls nest below it
   * more than EP_MAX_NESTS deep (`ep_loop_check_proc`; each epoll is visited once).
   */
  #reaches(target: EventPoll, depth: number, seen = new Set<EventPoll>()): boolean {
    seen.add(this);
    for (const file of this.#byFile.keys()) {
      const child = file.privateData;
      if (!(child instanceof EventPoll) || seen.has(child)) continue;
      if (child === target || depth > EP_MAX_NESTS) return true;
      if (child.#reaches(target, depth + 1, seen)) return true;
    }
    return false;
  }

  #remove(item: EpItem): void {
    this.#items.delete(item);
    const byFd = this.#byFile.get(item.file);
    byFd?.delete(item.fd);
    if (byFd?.size === 0) {
      this.#byFile.delete(item.file);
      item.file.watches?.delete(this);
    }
  }

  /** {@inheritDoc FileWatch.fileReleased} */
  fileReleased(file: File): void {
    const byFd = this.#byFile.get(file);
    if (!byFd) return;
    for (const item of byFd.values()) this.#items.delete(item);
    this.#byFile.delete(file);
    file.watches?.delete(this);
  }

  /** Drops every item (the epoll file is released). */
  clear(): void {
    for (const file of this.#byFile.keys()) file.watches?.delete(this);
    this.#byFile.clear();
    this.#items.clear();
  }

  /** The ready files, at most `max` (level-triggered: polled afresh on every call). */
  ready(max: number): EpollEvent[] {
    const out: EpollEvent[] = [];
    for (const { file, fd, events } of this.#items) {
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
    (file.privateData as EventPoll).clear();
  },
};
