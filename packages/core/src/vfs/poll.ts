// fs/select.c and the wait of fs/eventpoll.c: poll, select and epoll_wait on the virtual clock.

import { KernelError } from "../errors/kernel-error.js";
import type { SimClock } from "../time/clock.js";
import { FMODE_PATH } from "../uapi/fcntl.js";
import { DEFAULT_POLLMASK, POLLERR, POLLHUP, POLLNVAL } from "../uapi/poll.js";
import type { EpollEvent, EventPoll } from "./eventpoll.js";
import type { FdTable } from "./fd-table.js";

/** One entry of a poll() request; `revents` is written back. */
export interface PollFd {
  /** The fd to watch; negative entries are ignored. */
  fd: number;
  /** POLL* events of interest. */
  events: number;
  /** Out: the events that are ready. */
  revents?: number;
}

/** INT_MAX: the longest timeout an `int` of milliseconds can carry. */
const INT_MAX = 0x7fffffff;

/**
 * A timeout in milliseconds as the `int timeout` of poll(2) and epoll_wait(2) receives it. The
 * fraction is cut off (toward zero, as a C conversion does); values beyond the int range
 * saturate — +Infinity and 1e20 become INT_MAX ms (about 24.8 days), -Infinity and every
 * negative value wait without limit — so the virtual clock never jumps past what Linux allows.
 * NaN has no int value: it is EINVAL.
 * @throws KernelError EINVAL for NaN.
 */
export function intTimeoutMs(timeoutMs: number, syscall: string): number {
  if (Number.isNaN(timeoutMs)) throw new KernelError("EINVAL", syscall, "timeout is NaN");
  if (timeoutMs < 0) return -1;
  return Math.min(Math.trunc(timeoutMs), INT_MAX);
}

/**
 * Waits on `clock` until `check` reports something or the timeout passes.
 * @returns whatever `check` returned last
 * @throws KernelError EINTR for an infinite wait no pending event can end.
 */
function waitFor<T>(
  clock: SimClock,
  timeoutMs: number,
  syscall: string,
  check: () => T,
  ready: (v: T) => boolean,
  why: string,
): T {
  const ms = intTimeoutMs(timeoutMs, syscall);
  let v = check();
  if (ready(v) || ms === 0) return v;
  const deadline = ms < 0 ? Number.POSITIVE_INFINITY : clock.now + ms * 1e6;
  const ok = clock.runUntil(() => {
    v = check();
    return ready(v);
  }, deadline);
  if (!ok && ms < 0) {
    // An infinite wait that no pending event can end: reported, not hung.
    throw new KernelError("EINTR", syscall, why);
  }
  return v;
}

/**
 * poll(2) over `table`: fills in `revents` and returns the number of entries with events.
 * @throws KernelError EINVAL (more entries than RLIMIT_NOFILE); EINTR.
 */
export function doPoll(table: FdTable, clock: SimClock, fds: PollFd[], timeoutMs: number): number {
  if (fds.length > table.rlimitNofile) throw new KernelError("EINVAL", "poll");
  const scan = (): number => {
    let ready = 0;
    for (const p of fds) {
      p.revents = 0;
      if (p.fd < 0) continue;
      const e = table.entry(p.fd);
      // fdget: an O_PATH file is as good as closed to poll.
      if (!e || e.file.fMode & FMODE_PATH) p.revents = POLLNVAL;
      else {
        const mask = e.file.fops.poll ? e.file.fops.poll(e.file, p.events) : DEFAULT_POLLMASK;
        p.revents = mask & (p.events | POLLERR | POLLHUP);
      }
      if (p.revents) ready++;
    }
    return ready;
  };
  return waitFor(
    clock,
    timeoutMs,
    "poll",
    scan,
    (n) => n > 0,
    "no pending event can make these fds ready",
  );
}

/**
 * epoll_wait(2) on one epoll instance (level-triggered).
 * @throws KernelError EINTR for an infinite wait nothing can end.
 */
export function epollWaitOn(
  watch: EventPoll,
  clock: SimClock,
  maxEvents: number,
  timeoutMs: number,
): EpollEvent[] {
  return waitFor(
    clock,
    timeoutMs,
    "epoll_wait",
    () => watch.ready(maxEvents),
    (r) => r.length > 0,
    "no pending event can make a file ready",
  );
}
