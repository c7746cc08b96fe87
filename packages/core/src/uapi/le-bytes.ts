// Little-endian fields of ioctl structs read and written byte by byte, without a DataView.
//
// A DataView (or a subarray) of a small typed array makes V8 move its bytes into a separate
// host buffer, which every young-generation GC then has to sweep; struct copies on the
// syscall path use these instead.

/** Reads the u32 at `off`. */
export function getU32(b: Uint8Array, off: number): number {
  return (
    ((b[off] as number) |
      ((b[off + 1] as number) << 8) |
      ((b[off + 2] as number) << 16) |
      ((b[off + 3] as number) << 24)) >>>
    0
  );
}

/** Writes `v` as the u32 at `off`. */
export function setU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

/** Reads the u64 at `off`. */
export function getU64(b: Uint8Array, off: number): bigint {
  return (BigInt(getU32(b, off + 4)) << 32n) | BigInt(getU32(b, off));
}

/** Writes `v` (taken modulo 2^64) as the u64 at `off`. */
export function setU64(b: Uint8Array, off: number, v: bigint): void {
  const x = BigInt.asUintN(64, v);
  setU32(b, off, Number(x & 0xffffffffn));
  setU32(b, off + 4, Number(x >> 32n));
}

/** Copies the first `n` bytes of `src` to the start of `dst`. */
export function copyBytes(dst: Uint8Array, src: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = src[i] as number;
}
