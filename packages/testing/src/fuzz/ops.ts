// The fuzzer's operations: random syscalls, in-kernel importer calls and device jobs, with
// random and boundary arguments, as fast-check arbitraries (shrinkable, printable, replayable).

import fc from "fast-check";

/** Chooses an element of a list that exists at run time: taken modulo its length. */
const sel = fc.nat({ max: 0xffff });
const kern = fc.nat({ max: 3 });

/** Lengths at and around every boundary a size check has. */
const length = fc.oneof(
  fc.constantFrom(
    0,
    1,
    4095,
    4096,
    4097,
    8192,
    65536,
    2 ** 21,
    2 ** 31,
    2 ** 40,
    2 ** 53,
    -1,
    -4096,
  ),
  fc.integer({ min: 1, max: 5 * 4096 }),
);
/** Offsets for mmap and accesses. */
const offset = fc.oneof(
  fc.constantFrom(0, 1, 4096, 8192, -4096, 2 ** 40),
  fc.nat({ max: 4 * 4096 }),
);
/** Any 32-bit value, with the interesting ones weighted in. */
const bits32 = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 7, 0x80000, 0x80002, 0xffffffff), fc.nat());
/** A user-space argument: right-sized bytes, short bytes, NULL, a string, or nonsense. */
const userArg = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 40 }),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(42 as unknown, {} as unknown, [1, 2] as unknown),
);

/** One operation of a fuzz sequence. */
export type Op =
  | { t: "spawn"; k: number; uid: number }
  | { t: "alloc"; k: number; p: number; heap: number; len: number; fdFlags: number }
  | { t: "close"; k: number; p: number; fd: number }
  | { t: "dup"; k: number; p: number; fd: number }
  | { t: "send"; k: number; p: number; fd: number; k2: number; p2: number }
  | {
      t: "mmap";
      k: number;
      p: number;
      fd: number;
      len: number;
      prot: number;
      flags: number;
      off: number;
    }
  | { t: "munmap"; k: number; m: number }
  | { t: "access"; k: number; m: number; off: number; len: number; write: boolean }
  | { t: "sync"; k: number; p: number; fd: number; flags: number }
  | { t: "setName"; k: number; p: number; fd: number; arg: unknown }
  | { t: "ioctl"; k: number; p: number; fd: number; cmd: number; arg: unknown }
  | { t: "exportSync"; k: number; p: number; fd: number; flags: number }
  | { t: "read"; k: number; p: number; what: number; target: number }
  | { t: "exit"; k: number; p: number }
  | { t: "kill"; k: number; p: number }
  | { t: "import"; k: number; p: number; fd: number }
  | { t: "copy"; k: number; a: number; b: number; len: number }
  | { t: "unimport"; k: number; i: number }
  | { t: "vmap"; k: number; p: number; fd: number }
  | { t: "vunmap"; k: number; v: number }
  | { t: "memfd"; k: number; p: number; len: number };

/** The arbitrary of one operation. */
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant("spawn" as const),
      k: kern,
      uid: fc.constantFrom(0, 1000),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("alloc" as const),
      k: kern,
      p: sel,
      heap: fc.nat({ max: 2 }),
      len: length,
      fdFlags: fc.oneof(fc.constantFrom(0o2, 0o2000002, 0, 1, 3), bits32),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({ t: fc.constant("close" as const), k: kern, p: sel, fd: sel }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant("dup" as const), k: kern, p: sel, fd: sel }), weight: 2 },
  {
    arbitrary: fc.record({
      t: fc.constant("send" as const),
      k: kern,
      p: sel,
      fd: sel,
      k2: kern,
      p2: sel,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("mmap" as const),
      k: kern,
      p: sel,
      fd: sel,
      len: length,
      prot: fc.nat({ max: 7 }),
      flags: fc.constantFrom(1, 2, 3, 0, 0x10, 0x11),
      off: offset,
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ t: fc.constant("munmap" as const), k: kern, m: sel }), weight: 2 },
  {
    arbitrary: fc.record({
      t: fc.constant("access" as const),
      k: kern,
      m: sel,
      off: offset,
      len: fc.nat({ max: 9000 }),
      write: fc.boolean(),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("sync" as const),
      k: kern,
      p: sel,
      fd: sel,
      flags: bits32,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("setName" as const),
      k: kern,
      p: sel,
      fd: sel,
      arg: userArg,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("ioctl" as const),
      k: kern,
      p: sel,
      fd: sel,
      cmd: fc.oneof(
        fc.constantFrom(
          0x40086200,
          0x40086201,
          0x40046201,
          0xc0086202,
          0x40086203,
          0xc0184800,
          0x5421,
          0x5451,
        ),
        fc.nat({ max: 0xffffffff }),
      ),
      arg: userArg,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("exportSync" as const),
      k: kern,
      p: sel,
      fd: sel,
      flags: fc.nat({ max: 4 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("read" as const),
      k: kern,
      p: sel,
      what: fc.nat({ max: 5 }),
      target: sel,
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ t: fc.constant("exit" as const), k: kern, p: sel }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant("kill" as const), k: kern, p: sel }), weight: 1 },
  {
    arbitrary: fc.record({ t: fc.constant("import" as const), k: kern, p: sel, fd: sel }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("copy" as const),
      k: kern,
      a: sel,
      b: sel,
      len: fc.nat({ max: 3 * 4096 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ t: fc.constant("unimport" as const), k: kern, i: sel }), weight: 1 },
  {
    arbitrary: fc.record({ t: fc.constant("vmap" as const), k: kern, p: sel, fd: sel }),
    weight: 1,
  },
  { arbitrary: fc.record({ t: fc.constant("vunmap" as const), k: kern, v: sel }), weight: 1 },
  {
    arbitrary: fc.record({ t: fc.constant("memfd" as const), k: kern, p: sel, len: length }),
    weight: 1,
  },
);

/** A fuzz sequence. */
export const sequenceArb: fc.Arbitrary<Op[]> = fc.array(opArb, {
  minLength: 1,
  maxLength: 40,
  size: "medium",
});
