// One-line explanations of the raw numbers the demo's dumps print (bufinfo, fdinfo, maps).

import {
  FMODE_CAN_READ,
  FMODE_CAN_WRITE,
  FMODE_LSEEK,
  FMODE_OPENED,
  FMODE_PREAD,
  FMODE_PWRITE,
  FMODE_READ,
  FMODE_WRITE,
  O_ACCMODE,
  O_CLOEXEC,
  O_NONBLOCK,
} from "@dmabuf/core/uapi";

const ACCMODE = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"] as const;

/** Names of the open flags in `flags` (`O_RDWR|O_CLOEXEC`). */
export function openFlagNames(flags: number): string {
  const names: string[] = [ACCMODE[flags & O_ACCMODE] as string];
  if (flags & O_NONBLOCK) names.push("O_NONBLOCK");
  if (flags & O_CLOEXEC) names.push("O_CLOEXEC");
  return names.join("|");
}

const FMODES: readonly [number, string][] = [
  [FMODE_READ, "FMODE_READ"],
  [FMODE_WRITE, "FMODE_WRITE"],
  [FMODE_LSEEK, "FMODE_LSEEK"],
  [FMODE_PREAD, "FMODE_PREAD"],
  [FMODE_PWRITE, "FMODE_PWRITE"],
  [FMODE_CAN_READ, "FMODE_CAN_READ"],
  [FMODE_CAN_WRITE, "FMODE_CAN_WRITE"],
  [FMODE_OPENED, "FMODE_OPENED"],
];

/** Names of the bits of a file's `f_mode` (`FMODE_READ|FMODE_WRITE|…`). */
export function fmodeNames(mode: number): string {
  return (
    FMODES.filter(([bit]) => (mode & bit) !== 0)
      .map(([, name]) => name)
      .join("|") || "0"
  );
}

/** Explains the first object line of bufinfo: its flags and mode columns (hex). */
export function explainBufinfo(bufinfo: string): string[] {
  const line = bufinfo.split("\n").find((l) => /^\d{8}\t/.test(l));
  if (!line) return [];
  const [size, flags, mode, count] = line.split("\t");
  return [
    `bufinfo: size ${size} is bytes in decimal; count ${count} is the file's references (fds, mappings, kernel holders)`,
    `bufinfo: flags ${flags} is the file's f_flags in hex = ${openFlagNames(Number.parseInt(flags as string, 16))}`,
    `bufinfo: mode ${mode} is the file's f_mode in hex = ${fmodeNames(Number.parseInt(mode as string, 16))}`,
  ];
}

/** Explains an fdinfo dump: flags in octal, the dmabuf filesystem's mount id, the inode. */
export function explainFdinfo(fdinfo: string): string[] {
  const flags = /^flags:\t(\d+)$/m.exec(fdinfo)?.[1];
  const mnt = /^mnt_id:\t(\d+)$/m.exec(fdinfo)?.[1];
  const ino = /^ino:\t(\d+)$/m.exec(fdinfo)?.[1];
  return [
    `fdinfo: flags: ${flags} is f_flags in octal = ${openFlagNames(Number.parseInt(flags ?? "0", 8))} (O_CLOEXEC is 02000000, O_RDWR 02)`,
    `fdinfo: mnt_id: ${mnt} is the dmabuf pseudo filesystem's mount; ino: ${ino} is the buffer's inode, the key bufinfo and sysfs use`,
  ];
}

/** Explains a /proc/PID/maps line of a dma-buf mapping. */
export function explainMaps(maps: string): string[] {
  const line = maps.split("\n").find((l) => l.includes("/dmabuf:"));
  if (!line) return [];
  const [range, perms, offset, dev, ino] = line.split(/\s+/);
  return [
    `maps: ${range} is the user address range; ${perms} = ${perms?.[0] === "r" ? "readable" : "not readable"}, ${perms?.[1] === "w" ? "writable" : "not writable"}, ${perms?.[3] === "s" ? "shared" : "private"}`,
    `maps: offset ${offset} into the buffer, device ${dev} is the dmabuf pseudo filesystem, ${ino} the buffer's inode`,
  ];
}
