// /proc: per-process fd links, fdinfo and maps, rendered from live state; /proc/self.

import { O_CLOEXEC } from "../uapi/fcntl.js";
import { type DirNode, dynamicDir, type Namespace, symlink, textFile } from "./namespace.js";
import type { Credentials } from "./open.js";
import type { Process } from "./process.js";
import { type TextBytes, textBytes } from "./text-bytes.js";

/** What procfs reads. */
export interface ProcfsHost {
  /** Every live process, by pid. */
  processes(): ReadonlyMap<number, Process>;
  /** The process making the current syscall. */
  current(): Process | undefined;
}

/** The text of /proc/PID/fdinfo/FD (bytes a driver prints raw are decoded as UTF-8). */
export function renderFdinfo(proc: Process, fd: number): string {
  const text = fdinfoBytes(proc, fd);
  return typeof text === "string" ? text : new TextDecoder().decode(text);
}

/** The content of /proc/PID/fdinfo/FD, byte for byte. */
function fdinfoBytes(proc: Process, fd: number): TextBytes {
  const file = proc.fileOf(fd, "open");
  const flags = file.fFlags | (proc.isCloexec(fd) ? O_CLOEXEC : 0);
  return textBytes(
    `pos:\t${file.pos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${file.identity.mntId}\nino:\t${file.inode.ino}\n`,
    file.fops.showFdinfo?.(file) ?? "",
  );
}

/** The text of /proc/PID/maps (file-backed mappings only: the model has no anonymous memory). */
export function renderMaps(proc: Process): string {
  let out = "";
  for (const m of proc.mappings()) {
    const v = m.vma;
    const f = v.file;
    const head =
      `${v.start.toString(16).padStart(8, "0")}-${v.end.toString(16).padStart(8, "0")} ` +
      `${v.permissions} ${(v.pgoff * v.pageSize).toString(16).padStart(8, "0")} ` +
      `${f.inode.dev[0].toString(16).padStart(2, "0")}:${f.inode.dev[1].toString(16).padStart(2, "0")} ${f.inode.ino} `;
    out += `${head.padEnd(72)} ${f.identity.path().replaceAll("\n", "\\012")}\n`;
  }
  return out;
}

/**
 * The ptrace read check procfs applies to /proc/PID/{fd,fdinfo,maps}
 * (`ptrace_may_access(PTRACE_MODE_READ_FSCREDS)`): the same uid, or root (CAP_SYS_PTRACE).
 */
export function ptraceMayRead(cred: Credentials, target: Process): boolean {
  return cred.uid === 0 || cred.uid === target.uid;
}

function processDir(proc: Process): DirNode {
  const fdNames = () => proc.fds().map(String);
  // name_to_int: decimal digits without a leading zero; then one O(1) table lookup.
  const has = (name: string) => /^(0|[1-9]\d{0,9})$/.test(name) && proc.hasFd(Number(name));
  // The task's files belong to its owner; fd and fdinfo are dr-x------ and, like maps,
  // guarded by the ptrace read check.
  const owner = {
    uid: proc.uid,
    gid: proc.gid,
    mayAccess: (cred: Credentials) => ptraceMayRead(cred, proc),
  };
  const entries: Record<string, DirNode | ReturnType<typeof textFile>> = {
    fd: dynamicDir(
      fdNames,
      (n) => (has(n) ? symlink(() => proc.fileOf(Number(n)).identity.path()) : undefined),
      0o500,
      owner,
    ),
    fdinfo: dynamicDir(
      fdNames,
      (n) => (has(n) ? textFile(() => fdinfoBytes(proc, Number(n)), 0o400, owner) : undefined),
      0o500,
      owner,
    ),
    maps: textFile(() => renderMaps(proc), 0o444, owner),
    comm: textFile(() => `${proc.name}\n`),
  };
  return dynamicDir(
    () => Object.keys(entries),
    (n) => entries[n],
    0o555,
    { uid: proc.uid, gid: proc.gid },
  );
}

/** Installs /proc. */
export function installProcfs(ns: Namespace, host: ProcfsHost): void {
  ns.install(
    "/proc",
    dynamicDir(
      () => ["self", ...[...host.processes().keys()].map(String)],
      (name) => {
        if (name === "self") {
          const cur = host.current();
          return cur ? symlink(() => String(cur.pid)) : undefined;
        }
        const proc = /^\d+$/.test(name) ? host.processes().get(Number(name)) : undefined;
        return proc ? processDir(proc) : undefined;
      },
    ),
  );
}
