// ioctl command-word encoding of asm-generic/ioctl.h (x86, arm, arm64, riscv).

/** Bits of the command number field. */
export const _IOC_NRBITS = 8;
/** Bits of the type (magic) field. */
export const _IOC_TYPEBITS = 8;
/** Bits of the argument size field. */
export const _IOC_SIZEBITS = 14;
/** Bits of the direction field. */
export const _IOC_DIRBITS = 2;
/** Shift of the number field. */
export const _IOC_NRSHIFT = 0;
/** Shift of the type field. */
export const _IOC_TYPESHIFT = 8;
/** Shift of the size field. */
export const _IOC_SIZESHIFT = 16;
/** Shift of the direction field. */
export const _IOC_DIRSHIFT = 30;
/** No data transfer. */
export const _IOC_NONE = 0;
/** User space writes, the kernel reads (copy_from_user): "IOC_IN". */
export const _IOC_WRITE = 1;
/** The kernel writes, user space reads (copy_to_user): "IOC_OUT". */
export const _IOC_READ = 2;

/** Builds a 32-bit ioctl command word from direction, type, number and argument size. */
export function _IOC(dir: number, type: number, nr: number, size: number): number {
  return (
    ((dir << _IOC_DIRSHIFT) |
      (type << _IOC_TYPESHIFT) |
      (nr << _IOC_NRSHIFT) |
      (size << _IOC_SIZESHIFT)) >>>
    0
  );
}
/** A command with no argument. */
export function _IO(type: number, nr: number): number {
  return _IOC(_IOC_NONE, type, nr, 0);
}
/** A command whose argument the kernel writes (`size` bytes). */
export function _IOR(type: number, nr: number, size: number): number {
  return _IOC(_IOC_READ, type, nr, size);
}
/** A command whose argument the kernel reads (`size` bytes). */
export function _IOW(type: number, nr: number, size: number): number {
  return _IOC(_IOC_WRITE, type, nr, size);
}
/** A command whose argument is read and written back (`size` bytes). */
export function _IOWR(type: number, nr: number, size: number): number {
  return _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);
}
/** The direction bits of a command word. */
export function _IOC_DIR(cmd: number): number {
  return (cmd >>> _IOC_DIRSHIFT) & ((1 << _IOC_DIRBITS) - 1);
}
/** The type (magic) byte of a command word. */
export function _IOC_TYPE(cmd: number): number {
  return (cmd >>> _IOC_TYPESHIFT) & ((1 << _IOC_TYPEBITS) - 1);
}
/** The command number of a command word. */
export function _IOC_NR(cmd: number): number {
  return (cmd >>> _IOC_NRSHIFT) & ((1 << _IOC_NRBITS) - 1);
}
/** The argument size encoded in a command word. */
export function _IOC_SIZE(cmd: number): number {
  return (cmd >>> _IOC_SIZESHIFT) & ((1 << _IOC_SIZEBITS) - 1);
}

/** Generic ioctl: set close-on-exec on the fd. */
export const FIOCLEX = 0x5451;
/** Generic ioctl: clear close-on-exec on the fd. */
export const FIONCLEX = 0x5450;
/** Generic ioctl: set or clear O_NONBLOCK (argument: int). */
export const FIONBIO = 0x5421;
/** Generic ioctl: set or clear FASYNC (argument: int). */
export const FIOASYNC = 0x5452;
