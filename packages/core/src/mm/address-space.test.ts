// The user address space: top-down placement against a reference search, sparse page tables,
// and the length and flag checks of mmap as Linux makes them (size_t lengths).

import { describe, expect, it } from "vitest";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel } from "../kernel.js";
import { O_RDWR } from "../uapi/fcntl.js";
import {
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  PROT_READ,
  PROT_WRITE,
} from "../uapi/mman.js";
import { errnoOf } from "../vfs/process.js";
import { TASK_SIZE } from "./address-space.js";
import type { Mapping } from "./mapping.js";

const PS = 4096;
const TOP = 0x7ffff7ff9000;

/** The highest free range of `len` bytes below TOP, found the slow way over every mapping. */
function referenceGap(maps: readonly Mapping[], len: number): number {
  let top = TOP;
  for (const m of [...maps].sort((a, b) => b.address - a.address)) {
    if (m.vma.end <= top - len) break;
    top = Math.min(top, m.address);
  }
  return top - len;
}

describe("address space placement", () => {
  it("mmap, munmap and mremap place mappings where the exhaustive top-down search does", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const p = kernel.spawn();
    const fd = p.memfdCreate("placement", 0);
    p.ftruncate(fd, 8 * PS);
    let x = 12345;
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) | 0;
      return (x >>> 8) % n;
    };
    const live: Mapping[] = [];
    for (let step = 0; step < 3000; step++) {
      const op = rnd(10);
      if (op < 5 || live.length === 0) {
        const len = (1 + rnd(8)) * PS;
        const want = referenceGap(p.mappings(), len);
        const m = p.mmap(fd, len, PROT_READ, MAP_SHARED);
        expect(m.address, `step ${step}`).toBe(want);
        live.push(m);
      } else if (op < 9) {
        const [m] = live.splice(rnd(live.length), 1);
        p.munmap(m as Mapping);
      } else {
        const i = rnd(live.length);
        const old = live[i] as Mapping;
        const len = (1 + rnd(8)) * PS;
        const others = p.mappings().filter((m) => m !== old);
        const grows = len > old.length;
        const want = grows ? referenceGap(p.mappings(), len) : old.address;
        const m = p.mremap(old, len);
        expect(m.address, `step ${step} mremap`).toBe(want);
        expect(others.every((o) => o.vma.end <= m.address || o.address >= m.vma.end)).toBe(true);
        live[i] = m;
      }
    }
    expect(p.mappings().length).toBe(live.length);
  });
});

describe("mmap lengths and flags (size_t semantics)", () => {
  const setup = () => {
    const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter] });
    const p = kernel.spawn();
    const fd = kernel.dmaBuf.fd(kernel.plugin(PageExporter).create(PS, O_RDWR), p, 0);
    return { kernel, p, fd };
  };

  it("a huge length of a 4 KiB buffer is the driver's EINVAL, at once, leaving nothing behind", () => {
    const { kernel, p, fd } = setup();
    const before = kernel.snapshot();
    const t0 = performance.now();
    expect(errnoOf(() => p.mmap(fd, 2 ** 39, PROT_READ, MAP_SHARED))).toBe("EINVAL");
    expect(errnoOf(() => p.mmap(fd, 2 ** 44, PROT_READ, MAP_SHARED))).toBe("EINVAL");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(kernel.snapshot()).toEqual(before);
  });

  it("negative lengths and lengths beyond TASK_SIZE are ENOMEM and hold no reference", () => {
    const { kernel, p, fd } = setup();
    const before = kernel.snapshot();
    for (const len of [-1, -PS, -(2 ** 40), TASK_SIZE + 1, 2 ** 60]) {
      expect(
        errnoOf(() => p.mmap(fd, len, PROT_READ, MAP_SHARED)),
        `length ${len}`,
      ).toBe("ENOMEM");
    }
    expect(kernel.snapshot()).toEqual(before);
    expect(p.fileOf(fd).refCount).toBe(1);
  });

  it("MAP_SHARED_VALIDATE refuses unknown flags with EOPNOTSUPP; MAP_SHARED ignores them", () => {
    const { kernel, p, fd } = setup();
    const MAP_SYNC = 0x80000;
    const before = kernel.snapshot();
    expect(errnoOf(() => p.mmap(fd, PS, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC))).toBe(
      "EOPNOTSUPP",
    );
    expect(errnoOf(() => p.mmap(fd, PS, PROT_READ, MAP_SHARED_VALIDATE | 0x100000))).toBe(
      "EOPNOTSUPP",
    );
    expect(kernel.snapshot()).toEqual(before);
    const m = p.mmap(fd, PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_SYNC);
    expect(m.vma.shared).toBe(true);
    // Legacy flags are accepted with validation (MAP_POPULATE, MAP_NORESERVE).
    expect(p.mmap(fd, PS, PROT_READ, MAP_SHARED_VALIDATE | 0x8000 | 0x4000).length).toBe(PS);
    expect(p.mmap(fd, PS, PROT_READ, MAP_PRIVATE | MAP_SYNC).vma.shared).toBe(false);
  });

  it("a sparse 1 TiB memfd mapping is instant and allocates only the pages touched", () => {
    const kernel = createKernel({ ram: "64MiB" });
    const p = kernel.spawn();
    const fd = p.memfdCreate("big", 0);
    p.ftruncate(fd, 2 ** 40);
    const t0 = performance.now();
    const m = p.mmap(fd, 2 ** 40, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.write(2 ** 39, new Uint8Array([7]));
    m.write(2 ** 40 - 1, new Uint8Array([9]));
    expect([m.read(2 ** 39, 1)[0], m.read(2 ** 40 - 1, 1)[0], m.read(0, 1)[0]]).toEqual([7, 9, 0]);
    expect([...m.vma.pages.populated()].length).toBe(3);
    p.munmap(m);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
