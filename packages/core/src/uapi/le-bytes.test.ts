// Tests for the byte-wise little-endian struct fields.

import { describe, expect, it } from "vitest";
import { copyBytes, getU32, getU64, setU32, setU64 } from "./le-bytes.js";

describe("little-endian struct fields", () => {
  it("agree with DataView for u32 and u64, including values above 2^53 and modulo 2^64", () => {
    const b = new Uint8Array(16);
    setU32(b, 0, 0xdeadbeef);
    setU64(b, 4, 0x1234_5678_9abc_def0n);
    const v = new DataView(b.buffer);
    expect(v.getUint32(0, true)).toBe(0xdeadbeef);
    expect(v.getBigUint64(4, true)).toBe(0x1234_5678_9abc_def0n);
    expect(getU32(b, 0)).toBe(0xdeadbeef);
    expect(getU64(b, 4)).toBe(0x1234_5678_9abc_def0n);
    setU64(b, 4, -1n);
    expect(getU64(b, 4)).toBe(0xffff_ffff_ffff_ffffn);
    expect(b[12]).toBe(0);
  });

  it("copies a prefix only", () => {
    const dst = new Uint8Array(4);
    copyBytes(dst, new Uint8Array([1, 2, 3, 4]), 2);
    expect([...dst]).toEqual([1, 2, 0, 0]);
  });
});
