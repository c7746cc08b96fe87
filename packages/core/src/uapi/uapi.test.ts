import { describe, expect, it } from "vitest";
import * as uapi from "./index.js";

describe("uapi request codes (x86-64, as compiled)", () => {
  it.each([
    ["DMA_BUF_IOCTL_SYNC", 0x40086200],
    ["DMA_BUF_SET_NAME", 0x40086201],
    ["DMA_BUF_SET_NAME_A", 0x40046201],
    ["DMA_BUF_SET_NAME_B", 0x40086201],
    ["DMA_BUF_IOCTL_EXPORT_SYNC_FILE", 0xc0086202],
    ["DMA_BUF_IOCTL_IMPORT_SYNC_FILE", 0x40086203],
    ["DMA_HEAP_IOCTL_ALLOC", 0xc0184800],
    ["UDMABUF_CREATE", 0x40187542],
    ["UDMABUF_CREATE_LIST", 0x40087543],
  ] as const)("%s = %s", (name, value) => {
    expect((uapi as unknown as Record<string, number>)[name]).toBe(value);
  });

  it("the selftest's older and newer ALLOC variants and the field decoders", () => {
    expect(uapi._IOWR(uapi.DMA_HEAP_IOC_MAGIC, 0, 16)).toBe(0xc0104800);
    expect(uapi._IOWR(uapi.DMA_HEAP_IOC_MAGIC, 0, 48)).toBe(0xc0304800);
    const cmd = 0xc0184800;
    expect([
      uapi._IOC_DIR(cmd),
      uapi._IOC_TYPE(cmd),
      uapi._IOC_NR(cmd),
      uapi._IOC_SIZE(cmd),
    ]).toEqual([uapi._IOC_READ | uapi._IOC_WRITE, 0x48, 0, 24]);
    expect(uapi._IO(0x48, 0)).toBe(0x4800);
    expect(uapi._IOR(0x48, 0, 24)).toBe(0x80184800);
  });
});

describe("uapi constants", () => {
  it("dma-buf.h", () => {
    expect([
      uapi.DMA_BUF_SYNC_READ,
      uapi.DMA_BUF_SYNC_WRITE,
      uapi.DMA_BUF_SYNC_RW,
      uapi.DMA_BUF_SYNC_START,
      uapi.DMA_BUF_SYNC_END,
      uapi.DMA_BUF_SYNC_VALID_FLAGS_MASK,
      uapi.DMA_BUF_NAME_LEN,
      uapi.DMA_BUF_BASE,
      uapi.DMA_BUF_MAGIC,
    ]).toEqual([1, 2, 3, 0, 4, 7, 32, 0x62, 0x444d4142]);
  });

  it("dma-heap.h and udmabuf.h", () => {
    expect(uapi.DMA_HEAP_VALID_FD_FLAGS).toBe(0x80003);
    expect(uapi.DMA_HEAP_VALID_HEAP_FLAGS).toBe(0n);
    expect(uapi.DMA_HEAP_ALLOCATION_DATA_SIZE).toBe(24);
    expect(uapi.UDMABUF_FLAGS_CLOEXEC).toBe(1);
    expect([
      uapi.UDMABUF_CREATE_SIZE,
      uapi.UDMABUF_CREATE_ITEM_SIZE,
      uapi.UDMABUF_CREATE_LIST_SIZE,
    ]).toEqual([24, 24, 8]);
  });

  it("fcntl, mman, poll and seek values of Linux x86-64", () => {
    expect([uapi.O_RDONLY, uapi.O_WRONLY, uapi.O_RDWR, uapi.O_ACCMODE]).toEqual([0, 1, 2, 3]);
    expect([
      uapi.O_NONBLOCK,
      uapi.O_APPEND,
      uapi.O_TRUNC,
      uapi.O_LARGEFILE,
      uapi.O_CLOEXEC,
    ]).toEqual([0x800, 0x400, 0x200, 0x8000, 0x80000]);
    expect(uapi.O_SYNC).toBe(0x101000);
    expect([uapi.PROT_NONE, uapi.PROT_READ, uapi.PROT_WRITE, uapi.PROT_EXEC]).toEqual([0, 1, 2, 4]);
    expect([
      uapi.MAP_SHARED,
      uapi.MAP_PRIVATE,
      uapi.MAP_SHARED_VALIDATE,
      uapi.MAP_FIXED,
      uapi.MAP_ANONYMOUS,
    ]).toEqual([1, 2, 3, 0x10, 0x20]);
    expect([uapi.SEEK_SET, uapi.SEEK_CUR, uapi.SEEK_END, uapi.SEEK_DATA, uapi.SEEK_HOLE]).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect([
      uapi.POLLIN,
      uapi.POLLPRI,
      uapi.POLLOUT,
      uapi.POLLERR,
      uapi.POLLHUP,
      uapi.POLLNVAL,
    ]).toEqual([1, 2, 4, 8, 0x10, 0x20]);
    expect([uapi.POLLRDNORM, uapi.POLLRDBAND, uapi.POLLWRNORM, uapi.POLLWRBAND]).toEqual([
      0x40, 0x80, 0x100, 0x200,
    ]);
  });
});

describe("struct byte layouts (little-endian)", () => {
  it("struct dma_buf_sync", () => {
    expect([...uapi.encodeDmaBufSync(uapi.DMA_BUF_SYNC_RW | uapi.DMA_BUF_SYNC_END)]).toEqual([
      7, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect([...uapi.encodeDmaBufSync(1n << 32n)]).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
    expect(uapi.decodeDmaBufSync(new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0x80]))).toEqual({
      flags: 0x8000000000000005n,
    });
  });

  it("struct dma_heap_allocation_data", () => {
    const b = uapi.encodeDmaHeapAllocationData({
      len: 0x1122n,
      fd: 7,
      fdFlags: 0x80002,
      heapFlags: 1n << 63n,
    });
    expect([...b]).toEqual([
      0x22, 0x11, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0x02, 0, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x80,
    ]);
    expect(uapi.decodeDmaHeapAllocationData(b)).toEqual({
      len: 0x1122n,
      fd: 7,
      fdFlags: 0x80002,
      heapFlags: 1n << 63n,
    });
    // A shorter ("older") struct decodes with the missing fields as zero.
    expect(uapi.decodeDmaHeapAllocationData(b.subarray(0, 16)).heapFlags).toBe(0n);
  });

  it("the sync_file and udmabuf structs", () => {
    expect([...uapi.encodeDmaBufSyncFile({ flags: 3, fd: -1 })]).toEqual([
      3, 0, 0, 0, 255, 255, 255, 255,
    ]);
    expect(uapi.decodeDmaBufSyncFile(new Uint8Array([1, 0, 0, 0, 9, 0, 0, 0]))).toEqual({
      flags: 1,
      fd: 9,
    });
    const c = uapi.encodeUdmabufCreate({ memfd: 3, flags: 1, offset: 4096n, size: 8192n });
    expect([...c]).toEqual([
      3, 0, 0, 0, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0,
    ]);
    expect(uapi.decodeUdmabufCreate(c)).toEqual({ memfd: 3, flags: 1, offset: 4096n, size: 8192n });
    const list = uapi.encodeUdmabufCreateList(1, [
      { memfd: 3, offset: 0n, size: 4096n },
      { memfd: 4, offset: 8192n, size: 4096n },
    ]);
    expect(list.length).toBe(8 + 2 * 24);
    expect([...list.subarray(0, 8)]).toEqual([1, 0, 0, 0, 2, 0, 0, 0]);
    expect([...list.subarray(32, 36)]).toEqual([4, 0, 0, 0]);
  });
});
