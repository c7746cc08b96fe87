// The runtime against real programs: Linux errno and constants, signals, refused imports.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createKernel, ERRNO } from "@dmabuf/core";
import { SystemHeap } from "@dmabuf/heaps-system";
import { beforeAll, describe, expect, it } from "vitest";
import { linuxAbiHeader } from "./abi.js";
import { compileC } from "./compile.js";
import { runWasm, WasmImportError } from "./runtime.js";

const cacheDir = join(dirname(fileURLToPath(import.meta.url)), "../../../.cache");

const PROGRAM = `
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == 'b') {
    int fd = memfd_create("small", 0);
    ftruncate(fd, 4096);
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    p[0] = 7;
    printf("first page %d\\n", p[0]);
    fflush(stdout);
    p[4096] = 1;
    printf("not reached\\n");
    return 0;
  }
  int r = open("/nope", O_RDONLY);
  printf("open=%d errno=%d %s\\n", r, errno, strerror(errno));
  int h = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
  r = ioctl(h, 0x1234, 0);
  printf("ioctl=%d errno=%d %s\\n", r, errno, strerror(errno));
  printf("fd=%d EINVAL=%d ENOTTY=%d O_CLOEXEC=%#x POLLOUT=%#x page=%d\\n", h, EINVAL, ENOTTY,
         O_CLOEXEC, POLLOUT, getpagesize());
  return 3;
}
`;

describe("the runtime", () => {
  let wasm: Uint8Array;
  beforeAll(async () => {
    wasm = await compileC({ files: { "p.c": PROGRAM }, sources: ["p.c"], cacheDir });
  }, 300_000);

  it("gives the program Linux's errno numbers, strerror texts and constants", () => {
    const kernel = createKernel({ plugins: [SystemHeap] });
    const r = runWasm(kernel, wasm);
    expect(r.stdout).toBe(
      "open=-1 errno=2 No such file or directory\n" +
        "ioctl=-1 errno=22 Invalid argument\n" + // dma_heap_ioctl: unknown nr
        "fd=3 EINVAL=22 ENOTTY=25 O_CLOEXEC=0x80000 POLLOUT=0x4 page=4096\n",
    );
    expect(r.exitCode).toBe(3);
    expect(r.fdsAtExit).toEqual([0, 1, 2, 3]);
    expect(kernel.processes().size).toBe(0);
  }, 60_000);

  it("ends a program that touches a mapping past the end of its file with SIGBUS (status 135)", () => {
    const kernel = createKernel({});
    const r = runWasm(kernel, wasm, { args: ["bus"] });
    expect(r.stdout).toBe("first page 7\n");
    expect(r.signal).toBe("SIGBUS");
    expect(r.exitCode).toBe(128 + 7);
    expect(r.stderr).toMatch(/^Bus error /);
    expect(kernel.snapshot().fds).toBe(0);
  }, 60_000);
});

describe("the generated ABI header", () => {
  it("defines every errno with the model's number", () => {
    const header = linuxAbiHeader(4096);
    for (const e of Object.values(ERRNO)) {
      expect(header).toContain(`#define ${e.code} ${e.errno}\n`);
    }
    expect(header).toContain("#define O_CLOEXEC 0x80000\n");
    expect(header).toContain("#define F_ADD_SEALS 0x409\n");
  });
});

describe("module checks", () => {
  const wat = (imports: string) =>
    `(module ${imports} (memory (export "memory") 1) (func (export "_start")))`;
  async function module(imports: string): Promise<Uint8Array> {
    const { default: binaryen } = await import("binaryen");
    const m = binaryen.parseText(wat(imports));
    try {
      return m.emitBinary();
    } finally {
      m.dispose();
    }
  }

  it("refuses a module that imports WASI path_open (a call the shim did not redirect)", async () => {
    const bytes = await module(
      `(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))`,
    );
    const kernel = createKernel({});
    expect(() => runWasm(kernel, bytes)).toThrow(WasmImportError);
    expect(() => runWasm(kernel, bytes)).toThrow(/wasi_snapshot_preview1\.path_open/);
  }, 60_000);

  it("refuses an import the runtime does not provide, naming it", async () => {
    const bytes = await module(`(import "linux" "fork" (func (result i32)))`);
    expect(() => runWasm(createKernel({}), bytes)).toThrow(/linux\.fork/);
  }, 60_000);
});
