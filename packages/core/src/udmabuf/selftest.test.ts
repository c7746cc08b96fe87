// tools/testing/selftests/drivers/dma-buf/udmabuf.c (the 6.11+ form, plan 7) re-expressed:
// each result is a case, run on a fresh kernel of each profile.

import { describe, expect, it } from "vitest";
import { createKernel } from "../kernel.js";
import type { Mapping } from "../mm/mapping.js";
import type { KernelVersion } from "../profile.js";
import { F_ADD_SEALS, F_SEAL_SHRINK, O_RDWR } from "../uapi/fcntl.js";
import { MFD_ALLOW_SEALING, MFD_HUGETLB } from "../uapi/memfd.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "../uapi/mman.js";
import { UDMABUF_FLAGS_CLOEXEC } from "../uapi/udmabuf.js";
import type { Process } from "../vfs/process.js";
import { create, createList, outcome } from "./test-fixtures.js";

const PAGE = 4096;
const NUM_PAGES = 4;
const NUM_ENTRIES = 4;
const MEMFD_SIZE = 1024; // in pages
const HUGE = 512 * PAGE;

/**
 * A kernel the selftest can run on: tests 6 and 7 map a 2 GiB hugetlb memfd (1024 huge pages
 * of 2 MiB, `hugepages=1024`), so RAM is 3 GiB, backed in 4 KiB sections so that touching one
 * byte per huge page costs 4 KiB of host memory, not 2 MiB.
 */
function setup(profile: KernelVersion) {
  const kernel = createKernel({ ram: "3GiB", profile, hugepages: MEMFD_SIZE, sectionBytes: PAGE });
  const proc = kernel.spawn({ name: "udmabuf", stdio: true });
  const devfd = proc.open("/dev/udmabuf", O_RDWR);
  return { kernel, proc, devfd };
}

/** The selftest's memfd: "udmabuf-test", sealable, F_SEAL_SHRINK, then ftruncate. */
function memfdWithSeals(proc: Process, size: number, hpage: boolean): number {
  const memfd = proc.memfdCreate("udmabuf-test", MFD_ALLOW_SEALING | (hpage ? MFD_HUGETLB : 0));
  proc.fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK);
  proc.ftruncate(memfd, size);
  return memfd;
}

/** Writes `chr` to the first byte of every page (of `pageSize`) of the mapping. */
function writeToMemfd(addr: Mapping, size: number, pageSize: number, chr: string): void {
  for (let i = 0; i < size / pageSize; i++)
    addr.write(i * pageSize, Uint8Array.of(chr.charCodeAt(0)));
}

/** The list the selftest creates: NUM_ENTRIES items of NUM_PAGES pages, spread over the memfd. */
function createUdmabufList(
  proc: Process,
  devfd: number,
  memfd: number,
  size: number,
  pageSize: number,
) {
  const items = Array.from(
    { length: NUM_ENTRIES },
    (_, i) => [memfd, i * (size / NUM_ENTRIES), pageSize * NUM_PAGES] as const,
  );
  return createList(proc, devfd, items, UDMABUF_FLAGS_CLOEXEC);
}

/** compare_chunks: the first byte of every page of every item equals the memfd's. */
function compareChunks(addr1: Mapping, addr2: Mapping, size: number, pageSize: number): boolean {
  let k = 0;
  for (let i = 0; i < NUM_ENTRIES; i++) {
    const off = i * (size / NUM_ENTRIES);
    for (let j = 0; j < NUM_PAGES; j++, k++) {
      if (addr1.read(off + j * pageSize, 1)[0] !== addr2.read(k * pageSize, 1)[0]) return false;
    }
  }
  return true;
}

/** The main memfd of tests 1–4: four pages, sealed before it is sized. */
function smallMemfd(proc: Process): number {
  return memfdWithSeals(proc, PAGE * NUM_PAGES, false);
}

describe.each(["6.18", "6.12", "6.6", "6.1"] as const)(
  "udmabuf selftest, profile %s",
  (profile) => {
    it("test-1: an offset that is not page aligned fails (EINVAL)", () => {
      const { proc, devfd } = setup(profile);
      const memfd = smallMemfd(proc);
      expect(outcome(() => create(proc, devfd, memfd, PAGE / 2, PAGE)).errno).toBe("EINVAL");
    });

    it("test-2: a size that is not a multiple of the page fails (EINVAL)", () => {
      const { proc, devfd } = setup(profile);
      const memfd = smallMemfd(proc);
      expect(outcome(() => create(proc, devfd, memfd, 0, PAGE / 2)).errno).toBe("EINVAL");
    });

    it("test-3: stdin is not a memfd (EBADFD)", () => {
      const { proc, devfd } = setup(profile);
      smallMemfd(proc);
      expect(outcome(() => create(proc, devfd, 0, 0, PAGE * NUM_PAGES)).errno).toBe("EBADFD");
    });

    it("test-4: a written, sealed memfd of four pages works", () => {
      const { proc, devfd } = setup(profile);
      const memfd = smallMemfd(proc);
      const size = PAGE * NUM_PAGES;
      const addr1 = proc.mmap(memfd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      writeToMemfd(addr1, size, PAGE, "a");
      const buf = create(proc, devfd, memfd, 0, size);
      expect(buf).toBeGreaterThanOrEqual(0);
      proc.munmap(addr1);
      proc.close(buf);
      proc.close(memfd);
    });

    it("test-5: a list over a 1024-page memfd stays coherent with later writes (4 KiB pages)", () => {
      const { proc, devfd } = setup(profile);
      const size = MEMFD_SIZE * PAGE;
      const memfd = memfdWithSeals(proc, size, false);
      const addr1 = proc.mmap(memfd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      writeToMemfd(addr1, size, PAGE, "a");
      const buf = createUdmabufList(proc, devfd, memfd, size, PAGE);
      const addr2 = proc.mmap(
        buf,
        NUM_PAGES * NUM_ENTRIES * PAGE,
        PROT_READ | PROT_WRITE,
        MAP_SHARED,
      );
      writeToMemfd(addr1, size, PAGE, "b");
      expect(compareChunks(addr1, addr2, size, PAGE)).toBe(true);
      expect(addr2.read(0, 1)[0]).toBe("b".charCodeAt(0));
    });

    it("test-6: the same over a 2 GiB hugetlb memfd (2 MiB pages)", () => {
      const { kernel, proc, devfd } = setup(profile);
      const size = MEMFD_SIZE * HUGE;
      const memfd = memfdWithSeals(proc, size, true);
      const addr1 = proc.mmap(memfd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
      writeToMemfd(addr1, size, HUGE, "a");
      const buf = createUdmabufList(proc, devfd, memfd, size, HUGE);
      const addr2 = proc.mmap(
        buf,
        NUM_PAGES * NUM_ENTRIES * HUGE,
        PROT_READ | PROT_WRITE,
        MAP_SHARED,
      );
      writeToMemfd(addr1, size, HUGE, "b");
      expect(compareChunks(addr1, addr2, size, HUGE)).toBe(true);
      expect(kernel.hugetlb.defaultPool.free).toBe(0);
      proc.munmap(addr1);
      proc.munmap(addr2);
      proc.close(buf);
      proc.close(memfd);
      expect(kernel.hugetlb.defaultPool.free).toBe(MEMFD_SIZE);
    });

    if (profile === "6.18" || profile === "6.12") {
      it("test-7: pinned and mapped before the memfd is written, still coherent", () => {
        const { proc, devfd } = setup(profile);
        const size = MEMFD_SIZE * HUGE;
        const memfd = memfdWithSeals(proc, size, true);
        const buf = createUdmabufList(proc, devfd, memfd, size, HUGE);
        const addr2 = proc.mmap(
          buf,
          NUM_PAGES * NUM_ENTRIES * HUGE,
          PROT_READ | PROT_WRITE,
          MAP_SHARED,
        );
        const addr1 = proc.mmap(memfd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
        writeToMemfd(addr1, size, HUGE, "a");
        writeToMemfd(addr1, size, HUGE, "b");
        expect(compareChunks(addr1, addr2, size, HUGE)).toBe(true);
      });
    } else {
      it(`test-7: ${profile} fails the create (EINVAL): it pins only huge pages already in the file`, () => {
        // The seven-test selftest is of 6.11+, whose udmabuf allocates missing folios when it
        // pins them; 6.1 looks the huge pages up and refuses a range that has none yet.
        const { kernel, proc, devfd } = setup(profile);
        const size = MEMFD_SIZE * HUGE;
        const memfd = memfdWithSeals(proc, size, true);
        const before = kernel.snapshot();
        expect(outcome(() => createUdmabufList(proc, devfd, memfd, size, HUGE)).errno).toBe(
          "EINVAL",
        );
        expect(kernel.snapshot()).toEqual(before);
      });
    }
  },
);
