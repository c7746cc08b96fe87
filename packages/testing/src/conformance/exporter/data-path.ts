// The data-path rules, run with a coherent and with a non-coherent device under a checking cache.

import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, type DmaDirection } from "@dmabuf/core";
import { check } from "../assert.js";
import { checkingCache, markViolations } from "../cache-check.js";
import type { ExporterCapabilities } from "../capabilities.js";
import { needs } from "../capabilities.js";
import { cpuReadBack, cpuWrite } from "../cpu-view.js";
import { firstDifference, mapForDevice, pagePattern, testDevice } from "../device-view.js";
import { expectedBytes, partBytes, readBack } from "../scratch.js";
import { type ExporterCase, fitSize, KiB, MiB } from "./context.js";

/** Whether the suite's device snoops the CPU's caches. */
export type DeviceKind = "coherent" | "non-coherent";

/** The two kinds every data-path rule runs with. */
export const DEVICE_KINDS: readonly DeviceKind[] = ["coherent", "non-coherent"];

function checkBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const at = firstDifference(actual, expected);
  check(at < 0, `${what}: byte ${at} is ${actual[at]}, expected ${expected[at]}`);
}

/** Size of the buffers: more than one 1 MiB chunk, not a power of two, capped to the maximum. */
function dataSize(caps: ExporterCapabilities, ps: number): number {
  return fitSize(caps, ps, MiB + 64 * KiB + 3 * ps);
}

/** A part of the buffer that ends in its last page and straddles a page boundary. */
function tail(size: number, ps: number): { offset: number; length: number } {
  const length = Math.min(size, ps + 200);
  return { offset: size - length, length };
}

type Session = ReturnType<Parameters<ExporterCase["run"]>[0]["boot"]>;

/**
 * What every rule starts from: a checking cache watching for violations, a buffer of the
 * rule's size, and a test device of `kind` that keeps it mapped in `dir`.
 */
function setUp(
  s: Session,
  caps: ExporterCapabilities,
  kind: DeviceKind,
  role: string,
  dir: DmaDirection,
) {
  const ps = s.kernel.pageSize;
  const mark = markViolations(checkingCache(s.kernel));
  const size = dataSize(caps, ps);
  const b = s.createFd(size);
  const dev = mapForDevice(
    s.kernel,
    b.buf,
    testDevice(`${kind}-${role}`, { coherent: kind === "coherent" }),
    dir,
  );
  // The device reads the whole buffer as the exporter made it, into the read-back scratch.
  const deviceView = () => dev.read(0, b.buf.size, readBack.take(b.buf.size));
  return { ps, mark, size, b, dev, deviceView };
}

interface DataRule {
  readonly name: string;
  readonly title: string;
  run(s: Session, caps: ExporterCapabilities, kind: DeviceKind): void;
}

const RULES: readonly DataRule[] = [
  {
    name: "cpu-to-device",
    title:
      "A device keeps the buffer mapped (DMA_TO_DEVICE); what the CPU writes between SYNC START and END it reads, the whole buffer and then a part",
    run(s, caps, kind) {
      const { ps, mark, size, b, dev, deviceView } = setUp(s, caps, kind, "reader", DMA_TO_DEVICE);
      const expected = pagePattern(size, ps, 11, expectedBytes.take(size));
      cpuWrite(s, caps, b, 0, expected);
      checkBytes(deviceView(), expected, `${kind} device read after a CPU write of the buffer`);
      mark.expectNone(`${kind} device read after a CPU write of the buffer`);
      const part = tail(size, ps);
      const bytes = pagePattern(part.length, ps, 12, partBytes.take(part.length));
      cpuWrite(s, caps, b, part.offset, bytes);
      expected.set(bytes, part.offset);
      checkBytes(deviceView(), expected, `${kind} device read after a CPU write of the last page`);
      mark.expectNone(`${kind} device read after a CPU write of the last page`);
      dev.detach();
      s.proc.close(b.fd);
    },
  },
  {
    name: "device-to-cpu",
    title:
      "A device keeps the buffer mapped (DMA_FROM_DEVICE); what it writes the CPU reads between SYNC START and END, also lines it had cached",
    run(s, caps, kind) {
      const { ps, mark, size, b, dev } = setUp(s, caps, kind, "writer", DMA_FROM_DEVICE);
      // The CPU reads first, so its cache holds every line of the buffer when the device writes.
      cpuReadBack(s, caps, b);
      const expected = pagePattern(size, ps, 13, expectedBytes.take(size));
      dev.write(0, expected);
      checkBytes(cpuReadBack(s, caps, b), expected, `CPU read after a ${kind} device write`);
      mark.expectNone(`CPU read after a ${kind} device write of the buffer`);
      const part = tail(size, ps);
      const bytes = pagePattern(part.length, ps, 14, partBytes.take(part.length));
      dev.write(part.offset, bytes);
      expected.set(bytes, part.offset);
      checkBytes(cpuReadBack(s, caps, b), expected, `CPU read after a ${kind} device write`);
      mark.expectNone(`CPU read after a ${kind} device write of the last page`);
      dev.detach();
      s.proc.close(b.fd);
    },
  },
  {
    name: "bidirectional",
    title:
      "A device keeps the buffer mapped (DMA_BIDIRECTIONAL); the CPU and the device take turns writing and each sees the other's bytes",
    run(s, caps, kind) {
      const { ps, mark, size, b, dev, deviceView } = setUp(
        s,
        caps,
        kind,
        "peer",
        DMA_BIDIRECTIONAL,
      );
      const expected = pagePattern(size, ps, 15, expectedBytes.take(size));
      for (let turn = 0; turn < 2; turn++) {
        cpuWrite(s, caps, b, 0, expected);
        checkBytes(deviceView(), expected, `${kind} device read, turn ${turn}`);
        mark.expectNone(`${kind} device read after a CPU write, turn ${turn}`);
        const part = tail(size, ps);
        const bytes = pagePattern(part.length, ps, 16 + turn, partBytes.take(part.length));
        dev.write(part.offset, bytes);
        expected.set(bytes, part.offset);
        checkBytes(cpuReadBack(s, caps, b), expected, `CPU read after a ${kind} device write`);
        mark.expectNone(`CPU read after a ${kind} device write, turn ${turn}`);
        pagePattern(size, ps, 20 + turn, expected);
      }
      dev.detach();
      s.proc.close(b.fd);
    },
  },
];

/**
 * The data-path cases: each rule twice, `exporter.coherent.<rule>` and
 * `exporter.non-coherent.<rule>`, always under a checking cache model (installed on the
 * case's kernel unless it booted with one). The device keeps the buffer mapped across the
 * CPU's accesses, so only the exporter's `beginCpuAccess`/`endCpuAccess` keep the two
 * coherent: a missing, partial, swapped or wrong-direction sync fails the non-coherent case
 * with stale bytes or a coherency finding.
 */
export const dataPathCases: readonly ExporterCase[] = RULES.flatMap((rule) =>
  DEVICE_KINDS.map(
    (kind): ExporterCase => ({
      id: `exporter.${kind}.${rule.name}`,
      title: `${rule.title} (${kind} device)`,
      spec: "SPEC §8.2, §9.4",
      requires: needs.cpuView,
      run(ctx) {
        rule.run(ctx.boot(), ctx.capabilities, kind);
      },
    }),
  ),
);
