// A user-space process: its fd table, its address space and the syscalls it can make.

import type { ErrnoCode } from "../errors/errno.js";
import { KernelError } from "../errors/kernel-error.js";
import { AddressSpace } from "../mm/address-space.js";
import type { CpuHolder, Mapping } from "../mm/mapping.js";
import type { ShmemFs } from "../mm/shmem.js";
import type { SimClock } from "../time/clock.js";
import { traceFd, traceMmap } from "../trace/file-points.js";
import type { TraceRecorder } from "../trace/recorder.js";
import {
  F_ADD_SEALS,
  F_GET_SEALS,
  F_GETFD,
  F_GETFL,
  F_SETFD,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FASYNC,
  FD_CLOEXEC,
  FMODE_PATH,
  FMODE_WRITE,
  O_CLOEXEC,
  O_NONBLOCK,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from "../uapi/fcntl.js";
import { FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX } from "../uapi/ioctl.js";
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from "../uapi/poll.js";
import type { AnonInodeFs } from "./anon-inode.js";
import { EPOLL_CLOEXEC, type EpollEvent, EventPoll, eventPollFops } from "./eventpoll.js";
import { type FdEntry, FdTable } from "./fd-table.js";
import type { File, IoctlArg } from "./file.js";
import { type Stat, statOf } from "./inode.js";
import { memfdCreate, memfdFcntl } from "./memfd.js";
import type { Namespace } from "./namespace.js";
import { openNode } from "./open.js";
import { MAY_READ, mayAccess } from "./permission.js";
import { doPoll, epollWaitOn, type PollFd } from "./poll.js";
import { vfsPread, vfsPwrite, vfsRead, vfsWrite } from "./read-write.js";

/** What a process needs from its kernel. */
export interface ProcessHost extends CpuHolder {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** The path namespace. */
  readonly namespace: Namespace;
  /** The virtual clock (poll timeouts). */
  readonly clock: SimClock;
  /** Runs `fn` with `proc` as the current task (for fatal-signal checks and /proc/self). */
  runAs<T>(proc: Process, fn: () => T): T;
  /** Called when a process has exited. */
  reap(proc: Process): void;
  /** Creates a file for an opened pseudo file or device node. */
  readonly files: import("./file.js").FileTable;
  /** A fresh inode number for pseudo files. */
  nextPseudoIno(): number;
  /** The anonymous-inode filesystem (epoll files). */
  readonly anonInodes: AnonInodeFs;
  /** The kernel's event trace, if it has one. */
  readonly trace?: TraceRecorder;
  /** The internal tmpfs and hugetlbfs mounts (memfd_create). */
  readonly shmem: ShmemFs;
  /**
   * A close or release method threw while the process exited (`what` names the step).
   * **Optional**: the kernel logs it; the exit continues either way.
   */
  reportExitFault?(proc: Process, what: string, file: File, error: unknown): void;
}

export type { PollFd } from "./poll.js";

/** Options for {@link Process.sendFd}. */
export interface SendFdOptions {
  /** Install the received fd with O_CLOEXEC (MSG_CMSG_CLOEXEC). */
  cloexec?: boolean;
}

/**
 * A user-space process. Every method is a syscall: it throws {@link KernelError} with the
 * errno Linux returns and leaves the process as it was on failure.
 *
 * @example
 * ```ts
 * const p = kernel.spawn({ name: "camera" });
 * const heap = p.open("/dev/dma_heap/system", O_RDWR);
 * ```
 */
export class Process {
  /** Set once the process has exited. */
  exited = false;
  /** A fatal signal is pending: long kernel loops give up with EINTR (`fatal_signal_pending`). */
  fatalSignalPending = false;
  readonly #fds = new FdTable();
  readonly #mm: AddressSpace;

  /**
   * @param host - the kernel
   * @param pid - process id
   * @param name - command name (`comm`)
   * @param uid - user id (0 = root)
   * @param gid - group id
   */
  constructor(
    private readonly host: ProcessHost,
    readonly pid: number,
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
  ) {
    this.#mm = new AddressSpace(host);
  }

  /** RLIMIT_NOFILE: fds are numbered below this. */
  get rlimitNofile(): number {
    return this.#fds.rlimitNofile;
  }
  set rlimitNofile(n: number) {
    this.#fds.rlimitNofile = n;
  }

  // ---- fd table -------------------------------------------------------------------------

  /** Open fds in ascending order. */
  fds(): number[] {
    return this.#fds.fds();
  }

  /** Whether `fd` is open (O(1); /proc/PID/fd lookups use it). */
  hasFd(fd: number): boolean {
    return this.#fds.entry(fd) !== undefined;
  }

  /** The number of open fds. */
  get fdCount(): number {
    return this.#fds.count;
  }

  /** The number of live mappings. */
  get mappingCount(): number {
    return this.#mm.count;
  }

  /** The live mappings, lowest address first. */
  mappings(): readonly Mapping[] {
    return this.#mm.mappings();
  }

  /**
   * The file behind an fd (`fget` without a reference).
   * @throws KernelError EBADF when the fd is not open.
   */
  fileOf(fd: number, syscall = "fget"): File {
    return this.#fds.fileOf(fd, syscall);
  }

  /** `fdget`: the file behind an fd, refusing O_PATH files as every I/O syscall does (EBADF). */
  #fget(fd: number, syscall: string): File {
    const file = this.#fds.fileOf(fd, syscall);
    if (file.fMode & FMODE_PATH) throw new KernelError("EBADF", syscall, `fd ${fd} is O_PATH`);
    return file;
  }

  /** Whether fd has close-on-exec set. */
  isCloexec(fd: number): boolean {
    return this.#fds.entry(fd)?.cloexec ?? false;
  }

  /**
   * Installs `file` at the lowest free fd, transferring the caller's reference
   * (`get_unused_fd_flags` + `fd_install`).
   * @throws KernelError EMFILE when every fd below RLIMIT_NOFILE is in use (the reference is
   * then still the caller's).
   */
  installFd(file: File, flags: number, syscall = "fd_install"): number {
    const fd = this.#fds.lowestFree(syscall);
    this.#fds.install(fd, file, flags);
    if (this.host.trace?.on) traceFd(this.host.trace, "fd-install", fd, file);
    return fd;
  }

  /**
   * The fd the next {@link Process.installFd} will use (`get_unused_fd_flags`): drivers call
   * it first so that EMFILE comes before their other errors, as in Linux.
   * @throws KernelError EMFILE when every fd below RLIMIT_NOFILE is in use.
   */
  unusedFd(syscall = "get_unused_fd_flags"): number {
    return this.#fds.lowestFree(syscall);
  }

  // ---- syscalls -------------------------------------------------------------------------

  #enter<T>(syscall: string, fn: () => T): T {
    if (this.exited) throw new KernelError("ESRCH", syscall, `process ${this.pid} has exited`);
    return this.host.runAs(this, fn);
  }

  /**
   * open(2). Opens a device node or pseudo file.
   * @throws KernelError ENOENT, ENOTDIR, EACCES (permission bits), ENXIO/ENODEV from the
   * driver, EMFILE.
   */
  open(path: string, flags: number): number {
    return this.#enter("open", () => {
      const file = openNode(this.host, this, path, flags);
      try {
        return this.installFd(file, flags, "open");
      } catch (e) {
        file.put();
        throw e;
      }
    });
  }

  /**
   * close(2).
   * @throws KernelError EBADF when the fd is not open.
   */
  close(fd: number): void {
    this.#enter("close", () => {
      const file = this.fileOf(fd, "close");
      this.#fds.remove(fd);
      if (this.host.trace?.on) traceFd(this.host.trace, "fd-close", fd, file);
      file.put();
    });
  }

  /**
   * dup(2): a new fd (lowest free) for the same file, without close-on-exec.
   * @throws KernelError EBADF, EMFILE.
   */
  dup(fd: number): number {
    return this.#enter("dup", () => {
      const file = this.fileOf(fd, "dup");
      const nfd = this.#fds.lowestFree("dup");
      this.#fds.install(nfd, file.get(), 0);
      return nfd;
    });
  }

  /**
   * fcntl(2) for F_GETFD, F_SETFD, F_GETFL, and F_ADD_SEALS / F_GET_SEALS of a memfd (see
   * {@link Process.memfdCreate}).
   * @throws KernelError EBADF, EINVAL for other commands; for the seal commands EPERM (fd not
   * open for writing, F_SEAL_SEAL set), EINVAL (unknown seal bits, not a memfd), EBUSY
   * (F_SEAL_WRITE while a writable shared mapping exists or pages are pinned).
   */
  fcntl(fd: number, cmd: number, arg = 0): number {
    return this.#enter("fcntl", () => {
      const file = this.fileOf(fd, "fcntl");
      const entry = this.#fds.entry(fd) as FdEntry;
      switch (cmd) {
        case F_GETFD:
          return entry.cloexec ? FD_CLOEXEC : 0;
        case F_SETFD:
          entry.cloexec = (arg & FD_CLOEXEC) !== 0;
          return 0;
        case F_GETFL:
          return file.fFlags;
        case F_ADD_SEALS:
        case F_GET_SEALS:
          return memfdFcntl(this.host.shmem, file, cmd, arg);
        default:
          throw new KernelError("EINVAL", "fcntl", `command ${cmd} is not modelled`);
      }
    });
  }

  /**
   * ioctl(2). The generic requests FIOCLEX, FIONCLEX, FIONBIO and FIOASYNC are handled for
   * every fd, as the VFS does; every other request goes to the file. `arg` is the C struct's bytes, which the kernel reads and writes back in place,
   * a string for DMA_BUF_SET_NAME, or `null` for a NULL pointer.
   * @returns the ioctl's return value (0, or a new fd for ioctls that create one)
   * @throws KernelError EBADF, ENOTTY for a file without ioctls, and whatever the driver
   * returns.
   */
  ioctl(fd: number, request: number, arg: IoctlArg = null): number {
    return this.#enter("ioctl", () => {
      const file = this.#fget(fd, "ioctl");
      const entry = this.#fds.entry(fd) as FdEntry;
      switch (request >>> 0) {
        case FIOCLEX:
          entry.cloexec = true;
          return 0;
        case FIONCLEX:
          entry.cloexec = false;
          return 0;
        case FIONBIO:
        case FIOASYNC: {
          if (!(arg instanceof Uint8Array) || arg.length < 4) {
            throw new KernelError("EFAULT", "ioctl", "bad user pointer");
          }
          const on = new DataView(arg.buffer, arg.byteOffset, 4).getInt32(0, true) !== 0;
          const bit = request >>> 0 === FIONBIO ? O_NONBLOCK : FASYNC;
          file.fFlags = on ? file.fFlags | bit : file.fFlags & ~bit;
          return 0;
        }
      }
      if (!file.fops.ioctl) throw new KernelError("ENOTTY", "ioctl");
      file.get();
      try {
        return file.fops.ioctl(file, request >>> 0, arg, this);
      } finally {
        file.put();
      }
    });
  }

  /**
   * mmap(2) of a file. Returns a {@link Mapping} whose loads and stores go through the page
   * table and the CPU port.
   * @throws KernelError EINVAL (length 0, unaligned offset, bad map type), EBADF, ENODEV (file
   * cannot be mapped), EACCES (access mode does not allow the protection), EOVERFLOW, ENOMEM
   * (no address space), and whatever the driver's mmap method returns.
   */
  mmap(fd: number, length: number, prot: number, flags: number, offset = 0): Mapping {
    return this.#enter("mmap", () => {
      if (!Number.isInteger(length) || !Number.isInteger(offset) || offset < 0) {
        throw new KernelError("EINVAL", "mmap", "length and offset must be integers");
      }
      if (offset % this.host.pageSize !== 0) {
        throw new KernelError("EINVAL", "mmap", "unaligned offset");
      }
      const file = this.#fget(fd, "mmap");
      const m = this.#mm.mmap(file, length, prot, flags, offset);
      if (this.host.trace?.on) traceMmap(this.host.trace, "mmap", m.vma.file, m.address, m.length);
      return m;
    });
  }

  /**
   * munmap(2) of a whole mapping; drops the mapping's file reference.
   * @throws KernelError EINVAL when the mapping is not (or no longer) mapped in this process.
   */
  munmap(mapping: Mapping): void {
    this.#enter("munmap", () => {
      this.#mm.munmap(mapping);
      if (this.host.trace?.on) {
        traceMmap(this.host.trace, "munmap", mapping.vma.file, mapping.address, mapping.length);
      }
    });
  }

  /**
   * mremap(2) of a whole mapping to `newLength` bytes with MREMAP_MAYMOVE. Shrinking keeps the
   * first pages in place; growing moves the mapping to a free range with the same pages and
   * leaves the new tail to fault in through the driver. A mapping of raw page frames
   * (VM_PFNMAP, as remapPfnRange makes) cannot grow, as in Linux.
   * @returns the resized mapping (the old handle is unmapped)
   * @throws KernelError EINVAL (not a live mapping, zero length); EFAULT (growing a PFN
   * mapping); ENOMEM (no free address range).
   */
  mremap(mapping: Mapping, newLength: number): Mapping {
    return this.#enter("mremap", () => this.#mm.mremap(mapping, newLength));
  }

  /**
   * madvise(2) over a whole mapping. MADV_DONTNEED drops the page table (pages fault in again
   * through the driver) and private copies; it is refused for PFN mappings. MADV_NORMAL,
   * MADV_RANDOM, MADV_SEQUENTIAL and MADV_WILLNEED are accepted and change nothing.
   * @throws KernelError EINVAL (not a live mapping, unknown advice, DONTNEED on a PFN mapping).
   */
  madvise(mapping: Mapping, advice: number): void {
    this.#enter("madvise", () => this.#mm.madvise(mapping, advice));
  }

  /**
   * lseek(2).
   * @throws KernelError EBADF, ESPIPE (not seekable), EINVAL (the file refuses).
   */
  lseek(fd: number, offset: number, whence: number): number {
    return this.#enter("lseek", () => {
      const file = this.#fget(fd, "lseek");
      if (file.fops.llseek) return file.fops.llseek(file, offset, whence);
      throw new KernelError("ESPIPE", "lseek");
    });
  }

  /**
   * memfd_create(2): an anonymous in-memory file, open O_RDWR, named `/memfd:<name> (deleted)`
   * in /proc. Its pages come from the page allocator on first write, fault or pin (with
   * MFD_HUGETLB: 2 MiB pages from the `hugepages` pool). Without MFD_ALLOW_SEALING it starts
   * sealed with F_SEAL_SEAL.
   * @param name - the name after `memfd:` (at most 249 bytes; it is cut at a NUL), or `null`
   * for a NULL pointer
   * @param flags - MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB with an MFD_HUGE_* size; 6.3+
   * also MFD_NOEXEC_SEAL and MFD_EXEC
   * @returns the new fd
   * @throws KernelError EINVAL (unknown flags, a size field without MFD_HUGETLB, MFD_EXEC with
   * MFD_NOEXEC_SEAL, name longer than 249 bytes); EFAULT (`null` name); EMFILE; ENODEV (no
   * huge page pool of the requested size).
   */
  memfdCreate(name: string | null, flags: number): number {
    return this.#enter("memfd_create", () => memfdCreate(this.host.shmem, this, name, flags));
  }

  /**
   * fstat(2).
   * @throws KernelError EBADF.
   */
  fstat(fd: number): Stat {
    return this.#enter("fstat", () => statOf(this.fileOf(fd, "fstat").inode));
  }

  /**
   * fstatfs(2): the filesystem's magic number and block size.
   * @throws KernelError EBADF.
   */
  fstatfs(fd: number): { fType: number; fBsize: number } {
    return this.#enter("fstatfs", () => ({
      fType: this.fileOf(fd, "fstatfs").identity.fsMagic,
      fBsize: this.host.pageSize,
    }));
  }

  /**
   * pread(2): read at an offset without moving the file position.
   * @throws KernelError EINVAL (negative offset); EBADF; ESPIPE when the file has no positional reads (dma-bufs, heap
   * and other character devices without pread); EINVAL when it cannot be read.
   */
  pread(fd: number, count: number, offset: number): Uint8Array {
    return this.#enter("pread64", () => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new KernelError("EINVAL", "pread64");
      return vfsPread(this.#fget(fd, "pread64"), count, offset);
    });
  }

  /**
   * pwrite(2): write at an offset without moving the file position.
   * @returns the number of bytes written (short when a seal stops the write part way)
   * @throws KernelError EINVAL (negative offset, or the file cannot be written); EBADF (not
   * open, or not open for writing); ESPIPE (no positional writes); and what the file's write
   * method throws (memfd: EPERM under a write or grow seal).
   */
  pwrite(fd: number, bytes: Uint8Array, offset: number): number {
    return this.#enter("pwrite64", () => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new KernelError("EINVAL", "pwrite64");
      return vfsPwrite(this.#fget(fd, "pwrite64"), bytes, offset);
    });
  }

  /**
   * ftruncate(2): dispatched to the file's `truncate` method (a memfd's).
   * @throws KernelError EINVAL (negative length; a file without a truncate method, i.e. not a
   * regular file, or not open for writing); EBADF; and what the method throws (memfd: EPERM
   * under a shrink or grow seal, EINVAL for a hugetlbfs size that is not a whole huge page).
   */
  ftruncate(fd: number, length: number): void {
    this.#enter("ftruncate", () => {
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new KernelError("EINVAL", "ftruncate", "negative length");
      }
      const file = this.#fget(fd, "ftruncate");
      if (!file.fops.truncate || (file.fMode & FMODE_WRITE) === 0) {
        throw new KernelError("EINVAL", "ftruncate", "not a regular file open for writing");
      }
      file.fops.truncate(file, length);
    });
  }

  /**
   * fallocate(2) with mode 0, FALLOC_FL_KEEP_SIZE or FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
   * dispatched to the file's `fallocate` method (a memfd's).
   * @throws KernelError EBADF (not open, or not open for writing); EINVAL (negative offset,
   * length not positive); EOPNOTSUPP (other modes, a hole punch without KEEP_SIZE, a regular
   * file without the method); ENODEV (neither a regular file nor a directory, e.g. a dma-buf);
   * and what the method throws (memfd: EPERM under seals, ENOMEM/ENOSPC).
   */
  fallocate(fd: number, mode: number, offset: number, length: number): void {
    this.#enter("fallocate", () => {
      const file = this.#fget(fd, "fallocate");
      if (
        !Number.isSafeInteger(offset) ||
        offset < 0 ||
        !Number.isSafeInteger(length) ||
        length <= 0
      ) {
        throw new KernelError("EINVAL", "fallocate", "bad offset or length");
      }
      if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) {
        throw new KernelError("EOPNOTSUPP", "fallocate", `mode ${mode}`);
      }
      if (mode & FALLOC_FL_PUNCH_HOLE && !(mode & FALLOC_FL_KEEP_SIZE)) {
        throw new KernelError("EOPNOTSUPP", "fallocate", "PUNCH_HOLE needs KEEP_SIZE");
      }
      if ((file.fMode & FMODE_WRITE) === 0) throw new KernelError("EBADF", "fallocate");
      const type = file.inode.mode & S_IFMT;
      if (type !== S_IFREG && type !== S_IFDIR) throw new KernelError("ENODEV", "fallocate");
      if (!file.fops.fallocate) throw new KernelError("EOPNOTSUPP", "fallocate");
      file.fops.fallocate(file, mode, offset, length);
    });
  }

  /**
   * fsync(2). No file in the model has an fsync method.
   * @throws KernelError EBADF; EINVAL.
   */
  fsync(fd: number): void {
    this.#enter("fsync", () => {
      this.#fget(fd, "fsync");
      throw new KernelError("EINVAL", "fsync", "the file cannot be synced");
    });
  }

  /**
   * mprotect(2) of a whole mapping.
   * @throws KernelError EINVAL (not a live mapping of this process, unknown bits); EACCES
   * (write access to a shared mapping of a file not open for writing, or any access to a file
   * not open for reading).
   */
  mprotect(mapping: Mapping, prot: number): void {
    this.#enter("mprotect", () => this.#mm.mprotect(mapping, prot));
  }

  /**
   * read(2) of up to `count` bytes.
   * @throws KernelError EBADF (not open, or not open for reading), EINVAL (the file cannot be
   * read).
   */
  read(fd: number, count: number): Uint8Array {
    return this.#enter("read", () => {
      return vfsRead(this.#fget(fd, "read"), count);
    });
  }

  /**
   * write(2).
   * @throws KernelError EBADF (not open, or not open for writing), EINVAL (the file cannot be
   * written).
   */
  write(fd: number, bytes: Uint8Array): number {
    return this.#enter("write", () => {
      return vfsWrite(this.#fget(fd, "write"), bytes);
    });
  }

  /**
   * poll(2). Fills in `revents` of each entry and returns the number of entries with events.
   * A positive `timeoutMs` waits on the virtual clock; a negative one waits until something
   * is ready.
   * @throws KernelError EINVAL when more fds than RLIMIT_NOFILE are passed; EINTR when the
   * timeout is infinite and no pending event can make any fd ready (the model reports such a
   * wait instead of hanging).
   */
  poll(fds: PollFd[], timeoutMs: number): number {
    return this.#enter("poll", () => {
      const start = this.host.clock.now;
      const ready = doPoll(this.#fds, this.host.clock, fds, timeoutMs);
      if (this.host.trace?.on && this.host.clock.now > start) {
        this.host.trace.emit("wait", { start, text: ready > 0 ? "poll: ready" : "poll: timeout" });
      }
      return ready;
    });
  }

  /**
   * select(2) over read and write sets, built on the files' poll methods.
   * @returns the ready fds of each set and their total count
   * @throws KernelError EBADF for a closed (or O_PATH) fd in either set; ESRCH after exit; as
   * {@link Process.poll}.
   */
  select(
    readFds: readonly number[],
    writeFds: readonly number[],
    timeoutMs: number,
  ): { count: number; readable: number[]; writable: number[] } {
    return this.#enter("select", () => this.#select(readFds, writeFds, timeoutMs));
  }

  #select(
    readFds: readonly number[],
    writeFds: readonly number[],
    timeoutMs: number,
  ): { count: number; readable: number[]; writable: number[] } {
    for (const fd of [...readFds, ...writeFds]) this.#fget(fd, "select");
    const fds: PollFd[] = [
      ...readFds.map((fd) => ({ fd, events: POLLIN })),
      ...writeFds.map((fd) => ({ fd, events: POLLOUT })),
    ];
    this.poll(fds, timeoutMs);
    const readable = readFds.filter(
      (_fd, i) => ((fds[i]?.revents ?? 0) & (POLLIN | POLLERR | POLLHUP)) !== 0,
    );
    const writable = writeFds.filter(
      (_fd, i) => ((fds[readFds.length + i]?.revents ?? 0) & (POLLOUT | POLLERR)) !== 0,
    );
    return { count: readable.length + writable.length, readable, writable };
  }

  /**
   * epoll_create1(2): a new epoll instance.
   * @throws KernelError EINVAL (flags other than EPOLL_CLOEXEC); EMFILE.
   */
  epollCreate(flags = 0): number {
    return this.#enter("epoll_create1", () => {
      if (flags & ~EPOLL_CLOEXEC) throw new KernelError("EINVAL", "epoll_create1");
      this.unusedFd("epoll_create1");
      const file = this.host.anonInodes.getFile("[eventpoll]", eventPollFops, new EventPoll(), 2);
      return this.installFd(file, flags, "epoll_create1");
    });
  }

  /**
   * epoll_ctl(2).
   * @throws KernelError EBADF (either fd); EINVAL (`epfd` is not an epoll, or is `fd`, bad
   * op); EPERM (the file cannot be polled); EEXIST; ENOENT.
   */
  epollCtl(epfd: number, op: number, fd: number, events = 0): void {
    this.#enter("epoll_ctl", () => {
      const ep = this.#fget(epfd, "epoll_ctl");
      const target = this.#fget(fd, "epoll_ctl");
      if (!(ep.privateData instanceof EventPoll)) throw new KernelError("EINVAL", "epoll_ctl");
      ep.privateData.ctl(op, fd, target, events, ep);
    });
  }

  /**
   * epoll_wait(2): the ready watched files (level-triggered), waiting on the virtual clock.
   * @throws KernelError EBADF; EINVAL (not an epoll, `maxEvents` < 1); EINTR for an infinite
   * wait nothing can end.
   */
  epollWait(epfd: number, maxEvents: number, timeoutMs: number): EpollEvent[] {
    return this.#enter("epoll_wait", () => {
      const ep = this.#fget(epfd, "epoll_wait");
      if (!(ep.privateData instanceof EventPoll) || !(maxEvents >= 1)) {
        throw new KernelError("EINVAL", "epoll_wait");
      }
      return epollWaitOn(ep.privateData, this.host.clock, maxEvents, timeoutMs);
    });
  }

  /**
   * Reads a whole pseudo file (procfs, sysfs, debugfs) as text: open, read, close.
   * @throws KernelError ENOENT, EISDIR, EACCES.
   */
  readFile(path: string): string {
    return this.#enter("read", () => {
      const file = openNode(this.host, this, path, 0);
      try {
        if (!file.fops.read) throw new KernelError("EINVAL", "read");
        return new TextDecoder().decode(file.fops.read(file, Number.MAX_SAFE_INTEGER));
      } finally {
        file.put();
      }
    });
  }

  /**
   * Lists a directory (names only, without `.` and `..`).
   * @throws KernelError ENOENT, ENOTDIR.
   */
  readdir(path: string): string[] {
    return this.#enter("getdents64", () => {
      const node = this.host.namespace.resolve(path, "getdents64", { follow: true, cred: this });
      if (node.kind !== "dir") throw new KernelError("ENOTDIR", "getdents64", path);
      mayAccess(this, node, MAY_READ, "open");
      return node.list();
    });
  }

  /**
   * readlink(2), e.g. of /proc/self/fd/N.
   * @throws KernelError ENOENT, EINVAL (not a link).
   */
  readlink(path: string): string {
    return this.#enter("readlink", () => {
      const node = this.host.namespace.resolve(path, "readlink", { follow: false, cred: this });
      if (node.kind !== "link") throw new KernelError("EINVAL", "readlink", path);
      return node.target();
    });
  }

  /**
   * Hands an fd to another process the way SCM_RIGHTS does: the receiver gets its own fd
   * (lowest free) for the same open file.
   * @returns the fd number in `to`
   * @throws KernelError EBADF (fd not open here), EMFILE (no free fd in the receiver), ESRCH
   * (either side has exited), EXDEV (the receiver belongs to another kernel), EINVAL (the
   * receiver is not a process). A refused call takes no reference.
   */
  sendFd(fd: number, to: Process, options: SendFdOptions = {}): number {
    return this.#enter("sendmsg", () => {
      const file = this.fileOf(fd, "sendmsg");
      if (typeof to !== "object" || to === null || !(#fds in to)) {
        throw new KernelError("EINVAL", "sendmsg", "the receiver is not a process");
      }
      if (to.host !== this.host) {
        // Kernels are isolated: no socket connects processes of two kernels.
        throw new KernelError("EXDEV", "sendmsg", "the receiver belongs to another kernel");
      }
      if (to.exited) throw new KernelError("ESRCH", "sendmsg", "receiver has exited");
      file.get();
      try {
        return to.installFd(file, options.cloexec ? O_CLOEXEC : 0, "recvmsg");
      } catch (e) {
        file.put();
        throw e;
      }
    });
  }

  /**
   * exit(2): unmaps every mapping and closes every fd. It always completes: a driver or
   * exporter that throws from a close or release method is reported in the kernel log (naming
   * the file, its exporter and the method), and the process is gone all the same.
   */
  exit(): void {
    if (this.exited) return;
    try {
      this.host.runAs(this, () => {
        for (const m of this.#mm.mappings()) {
          const file = m.vma.file;
          try {
            this.#mm.munmap(m);
            if (this.host.trace?.on)
              traceMmap(this.host.trace, "munmap", file, m.address, m.length);
          } catch (e) {
            this.host.reportExitFault?.(this, "munmap", file, e);
          }
        }
        for (const fd of this.#fds.fds()) {
          const file = this.#fds.remove(fd) as File;
          if (this.host.trace?.on) traceFd(this.host.trace, "fd-close", fd, file);
          try {
            file.put();
          } catch (e) {
            this.host.reportExitFault?.(this, `close(${fd})`, file, e);
          }
        }
      });
    } finally {
      this.exited = true;
      this.host.reap(this);
    }
  }

  /** Delivers SIGKILL: pending kernel loops that check for fatal signals give up. */
  kill(): void {
    this.fatalSignalPending = true;
  }
}

/** The errno a syscall raised, or null: handy in tests and tables. */
export function errnoOf(fn: () => unknown): ErrnoCode | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof KernelError) return e.code;
    throw e;
  }
}
