// Tests of createKernel: isolation between kernels, sparse RAM, and plugin registration.

import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { DmaBuf } from "./dma-buf/dma-buf.js";
import type { ErrnoCode } from "./errors/errno.js";
import { KernelError } from "./errors/kernel-error.js";
import { PageExporter } from "./examples/page-exporter.js";
import { NUM_HEAP_MINORS } from "./heap/dma-heap.js";
import type { DmaHeapHandle, DmaHeapOps } from "./heap/ops.js";
import { createKernel } from "./kernel.js";
import * as hostsModule from "./plugin/hosts.js";
import {
  createDeviceHost,
  type DeviceHost,
  type ExporterHost,
  type HeapHost,
  installedCpuCache,
} from "./plugin/hosts.js";
import { device, exporter, heap } from "./plugin/metadata.js";
import { O_RDWR } from "./uapi/fcntl.js";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "./uapi/mman.js";

/** The KernelError `fn` throws; fails the test when it throws nothing or something else. */
function kernelError(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KernelError) return e;
    throw e;
  }
  throw new Error("expected a KernelError, nothing was thrown");
}

/** Asserts that `fn` throws a KernelError with `code` (and its errno number). */
function expectErrno(fn: () => unknown, code: ErrnoCode, errno?: number): KernelError {
  const e = kernelError(fn);
  expect(e.code).toBe(code);
  if (errno !== undefined) expect(e.errno).toBe(errno);
  return e;
}

const noAllocate = (): DmaBuf => {
  throw new KernelError("ENOMEM", "allocate");
};

describe("isolation: two kernels share nothing", () => {
  it("inode numbers, pids, files, processes, memory, heaps, clock and plugins are per kernel", () => {
    const k1 = createKernel({ ram: "16MiB", plugins: [PageExporter] });
    const k2 = createKernel({ ram: "16MiB", plugins: [PageExporter] });
    expect(k1.container).not.toBe(k2.container);
    expect(k1.plugin(PageExporter)).not.toBe(k2.plugin(PageExporter));

    const p1 = k1.spawn();
    const p1b = k1.spawn();
    const p2 = k2.spawn();
    expect([p1.pid, p1b.pid, p2.pid]).toEqual([1, 2, 1]);
    expect([...k1.processes().keys()]).toEqual([1, 2]);
    expect([...k2.processes().keys()]).toEqual([1]);
    expect(p2.readdir("/proc")).toEqual(["self", "1"]);

    const b1 = k1.plugin(PageExporter).create(8192, O_RDWR);
    const b1b = k1.plugin(PageExporter).create(4096, O_RDWR);
    const b2 = k2.plugin(PageExporter).create(4096, O_RDWR);
    expect([b1.ino, b1b.ino, b2.ino]).toEqual([1, 2, 1]);
    expect(k1.files.size).toBe(2);
    expect(k2.files.size).toBe(1);
    expect(k1.dmaBuf.list()).toHaveLength(2);
    expect(k2.dmaBuf.list()).toEqual([b2]);
    expect(k1.buddy.freePageCount()).toBe(4096 - 3);
    expect(k2.buddy.freePageCount()).toBe(4096 - 1);

    const fd = k1.dmaBuf.fd(b1, p1, 0);
    const m = p1.mmap(fd, 8192, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0x5a);
    const phys = (b1.priv.pfns[0] as number) * 4096;
    expect(k1.memory.read(phys, 4)).toEqual(new Uint8Array([0x5a, 0x5a, 0x5a, 0x5a]));
    expect(k2.memory.read(phys, 4)).toEqual(new Uint8Array(4));
    expect(k2.memory.backedBytes()).toBe(0);
    expect(p2.fds()).toEqual([]);
    expect(p2.mappings()).toEqual([]);

    k1.heaps.add({ name: "only-in-k1", ops: { allocate: noAllocate } });
    expect(p1.readdir("/dev/dma_heap")).toEqual(["only-in-k1"]);
    expect(p2.readdir("/dev/dma_heap")).toEqual([]);
    expect(k2.heaps.list()).toEqual([]);

    k1.clock.advance(5_000);
    expect(k1.clock.now).toBe(5_000);
    expect(k2.clock.now).toBe(0);
    k1.log.info("k1 only");
    expect(k2.log.records).toEqual([]);
  });

  it("device-node inode numbers start over in every kernel", () => {
    const k1 = createKernel({ ram: "16MiB" });
    const k2 = createKernel({ ram: "16MiB" });
    const h1 = k1.heaps.add({ name: "a", ops: { allocate: noAllocate } });
    const h2 = k2.heaps.add({ name: "a", ops: { allocate: noAllocate } });
    expect(h1.ino).toBe(h2.ino);
    expect(h1.minor).toBe(0);
    expect(h2.minor).toBe(0);
  });
});

describe("sparse RAM", () => {
  it("a 64 GiB kernel with 1 MiB touched backs memory in proportion to the 1 MiB", () => {
    const kernel = createKernel({ ram: "64GiB", plugins: [PageExporter] });
    expect(kernel.memory.bytes).toBe(64 * 1024 ** 3);
    expect(kernel.memory.backedBytes()).toBe(0);
    const proc = kernel.spawn();
    const buf = kernel.plugin(PageExporter).create(1024 ** 2, O_RDWR);
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    const m = proc.mmap(fd, 1024 ** 2, PROT_READ | PROT_WRITE, MAP_SHARED);
    m.fill(0xc3);
    const section = kernel.memory.sectionBytes;
    expect(section).toBe(2 * 1024 ** 2);
    expect(kernel.memory.backedSections()).toBeGreaterThanOrEqual(1);
    expect(kernel.memory.backedSections()).toBeLessThanOrEqual(2);
    expect(kernel.memory.backedBytes()).toBeGreaterThanOrEqual(1024 ** 2);
    expect(kernel.memory.backedBytes()).toBeLessThanOrEqual(2 * section);
    const back = m.read();
    expect(back.length).toBe(1024 ** 2);
    expect(back.every((b) => b === 0xc3)).toBe(true);
  });
});

describe("kernel.plugin", () => {
  it("returns the registered instance, the same one every time", () => {
    const kernel = createKernel({ ram: "16MiB", plugins: [PageExporter] });
    const a = kernel.plugin(PageExporter);
    expect(a).toBeInstanceOf(PageExporter);
    expect(kernel.plugin(PageExporter)).toBe(a);
  });

  it("ENOENT for a class this kernel did not register", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const e = expectErrno(() => kernel.plugin(PageExporter), "ENOENT", 2);
    expect(e.syscall).toBe("plugin");
  });
});

describe("plugin registration", () => {
  it("an undecorated class is EINVAL", () => {
    class Plain {}
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [Plain] }), "EINVAL", 22);
  });

  it("a class listed twice is EEXIST, also when once given with a config", () => {
    expectErrno(
      () => createKernel({ ram: "16MiB", plugins: [PageExporter, PageExporter] }),
      "EEXIST",
      17,
    );
    expectErrno(
      () =>
        createKernel({
          ram: "16MiB",
          plugins: [PageExporter, { plugin: PageExporter, config: {} }],
        }),
      "EEXIST",
    );
  });

  it("an exporter lacking release is EINVAL before any plugin becomes visible or probes", () => {
    const constructed: string[] = [];
    @heap({ name: "fine" })
    class FineHeap implements DmaHeapOps {
      constructor() {
        constructed.push("FineHeap");
      }
      allocate(): DmaBuf {
        return noAllocate();
      }
    }
    @exporter({ name: "broken" })
    class NoRelease {
      constructor() {
        constructed.push("NoRelease");
      }
      mapDmaBuf() {
        return null;
      }
      unmapDmaBuf() {}
    }
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [FineHeap, NoRelease] }), "EINVAL", 22);
    // Instances are built to check their contract (ops may be fields), but nothing was
    // registered: the heap that came first never became visible.
    expect(constructed).toEqual(["FineHeap", "NoRelease"]);
  });

  it("an exporter lacking mapDmaBuf, or with pin but no unpin, is EINVAL", () => {
    @exporter({ name: "no-map" })
    class NoMap {
      unmapDmaBuf() {}
      release() {}
    }
    @exporter({ name: "pin-only" })
    class PinOnly {
      mapDmaBuf() {
        return null;
      }
      unmapDmaBuf() {}
      release() {}
      pin() {}
    }
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [NoMap] }), "EINVAL");
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [PinOnly] }), "EINVAL");
  });

  it("a heap plugin becomes /dev/dma_heap/<name> with its capabilities", () => {
    @heap({ name: "test_mem", capabilities: { contiguous: true, maxAllocation: 8192 } })
    class TestHeap implements DmaHeapOps {
      allocate(): DmaBuf {
        return noAllocate();
      }
    }
    const kernel = createKernel({ ram: "16MiB", plugins: [TestHeap] });
    const h = kernel.heaps.find("test_mem");
    expect(h?.ops).toBe(kernel.plugin(TestHeap));
    expect(h?.capabilities).toEqual({ contiguous: true, maxAllocation: 8192 });
    expect(h?.minor).toBe(0);
    expect(kernel.spawn().readdir("/dev/dma_heap")).toEqual(["test_mem"]);
  });

  it("a heap plugin with an empty name is EINVAL", () => {
    @heap({ name: "" })
    class Nameless implements DmaHeapOps {
      allocate(): DmaBuf {
        return noAllocate();
      }
    }
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [Nameless] }), "EINVAL", 22);
  });

  it("a heap plugin without a name and without probe is EINVAL", () => {
    @heap({})
    class NoName implements DmaHeapOps {
      allocate(): DmaBuf {
        return noAllocate();
      }
    }
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [NoName] }), "EINVAL");
  });

  it("a heap plugin without allocate is EINVAL; ops written as fields are accepted", () => {
    let constructed = 0;
    @heap({ name: "lazy" })
    class NoAllocate {
      constructor() {
        constructed++;
      }
    }
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [NoAllocate] }), "EINVAL", 22);
    expect(constructed).toBe(1);
    @heap({ name: "fields" })
    class FieldHeap {
      allocate = (): DmaBuf => noAllocate();
    }
    expect(
      createKernel({ ram: "16MiB", plugins: [FieldHeap] })
        .heaps.list()
        .map((h) => h.name),
    ).toEqual(["fields"]);
  });

  it("two heap plugins of the same name: EEXIST, logged like dma_heap_add", () => {
    @heap({ name: "twin" })
    class TwinA implements DmaHeapOps {
      allocate(): DmaBuf {
        return noAllocate();
      }
    }
    @heap({ name: "twin" })
    class TwinB implements DmaHeapOps {
      allocate(): DmaBuf {
        return noAllocate();
      }
    }
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [TwinA, TwinB] }), "EEXIST", 17);
    const kernel = createKernel({ ram: "16MiB", plugins: [TwinA] });
    expectErrno(() => kernel.heaps.add({ name: "twin", ops: { allocate: noAllocate } }), "EEXIST");
    expect(kernel.log.records.map((r) => [r.level, r.text])).toEqual([
      ["err", "dma_heap: Already registered heap named twin"],
    ]);
    expect(kernel.heaps.list()).toHaveLength(1);
  });

  it("a plugin without a name may add several heaps from probe", () => {
    @heap({})
    class Regions implements DmaHeapOps {
      constructor(private readonly host: HeapHost) {}
      allocate(): DmaBuf {
        return noAllocate();
      }
      probe() {
        for (const name of ["region_a", "region_b"]) {
          this.host.addHeap({ name, ops: this, priv: name });
        }
      }
    }
    const kernel = createKernel({ ram: "16MiB", plugins: [Regions] });
    expect(kernel.heaps.list().map((h) => [h.name, h.minor, h.priv])).toEqual([
      ["region_a", 0, "region_a"],
      ["region_b", 1, "region_b"],
    ]);
  });

  it("probe runs exactly once, after every plugin is constructed and checked, in plugin order", () => {
    const events: string[] = [];
    @heap({ name: "first" })
    class First implements DmaHeapOps {
      constructor() {
        events.push("construct First");
      }
      allocate(): DmaBuf {
        return noAllocate();
      }
      probe() {
        events.push("probe First");
      }
    }
    @exporter({ name: "second" })
    class Second {
      constructor() {
        events.push("construct Second");
      }
      mapDmaBuf() {
        return null;
      }
      unmapDmaBuf() {}
      release() {}
      probe() {
        events.push("probe Second");
      }
    }
    const kernel = createKernel({ ram: "16MiB", plugins: [First, Second] });
    expect(events).toEqual(["construct First", "construct Second", "probe First", "probe Second"]);
    kernel.plugin(First);
    kernel.plugin(Second);
    expect(events).toHaveLength(4);
  });

  it("a probe that throws aborts createKernel with its error", () => {
    @exporter({ name: "failing" })
    class Failing {
      mapDmaBuf() {
        return null;
      }
      unmapDmaBuf() {}
      release() {}
      probe() {
        throw new KernelError("ENODEV", "probe");
      }
    }
    expectErrno(() => createKernel({ ram: "16MiB", plugins: [Failing] }), "ENODEV", 19);
  });

  it("plugins are constructed as new Cls(host, config) with a frozen host of their kind", () => {
    const seen: unknown[][] = [];
    @exporter({ name: "args" })
    class Args {
      constructor(...args: unknown[]) {
        seen.push(args);
      }
      mapDmaBuf() {
        return null;
      }
      unmapDmaBuf() {}
      release() {}
    }
    const k1 = createKernel({ ram: "16MiB", plugins: [Args] });
    const k2 = createKernel({ ram: "16MiB", plugins: [{ plugin: Args, config: { a: 1 } }] });
    expect(seen.map((a) => a.length)).toEqual([2, 2]);
    const [h1, c1] = seen[0] as [ExporterHost, unknown];
    const [h2, c2] = seen[1] as [ExporterHost, unknown];
    expect(c1).toBeUndefined();
    expect(c2).toEqual({ a: 1 });
    expect(Object.isFrozen(h1)).toBe(true);
    expect(h1).not.toBe(k1);
    expect(h1.buddy).toBe(k1.buddy);
    expect(h2.buddy).toBe(k2.buddy);
    expect(h1.dmaBuf).toBe(k1.dmaBuf);
    expect(Object.keys(h1).sort()).toEqual(
      ["buddy", "clock", "cpu", "current", "dma", "dmaBuf", "fatalSignalPending", "log"]
        .concat(["pageSize", "profile", "sg"])
        .sort(),
    );
    expect(() => {
      (h1 as { buddy: unknown }).buddy = null;
    }).toThrow(TypeError);
    expect(k1.container.resolve(Args)).toBe(k1.plugin(Args));
  });

  it("heaps get a HeapHost, devices a DeviceHost: only what their kind needs", () => {
    let heapHost: HeapHost | undefined;
    let deviceHost: DeviceHost | undefined;
    @heap({ name: "hosted" })
    class Hosted implements DmaHeapOps {
      constructor(host: HeapHost) {
        heapHost = host;
      }
      allocate(): DmaBuf {
        return noAllocate();
      }
    }
    @device({ name: "probe-only" })
    class ProbeOnly {
      constructor(host: DeviceHost) {
        deviceHost = host;
      }
      probe() {}
    }
    const kernel = createKernel({ ram: "16MiB", plugins: [Hosted, ProbeOnly] });
    const h = heapHost as HeapHost;
    const d = deviceHost as DeviceHost;
    expect(Object.isFrozen(h) && Object.isFrozen(d)).toBe(true);
    expect("addHeap" in h && "installCpuCache" in h).toBe(false);
    expect("installCpuCache" in d && "addHeap" in d).toBe(false);
    expect("container" in h || "heaps" in h || "namespace" in h || "spawn" in h).toBe(false);
    expect("buddy" in d || "reservations" in d).toBe(false);
    expect(h.cmaAreas).toEqual(kernel.cmaAreas);
    expect(d.processes()).toBe(kernel.processes());
    // current and the fatal-signal check follow the running syscall.
    const proc = kernel.spawn();
    expect(h.current).toBeUndefined();
    expect(h.fatalSignalPending()).toBe(false);
    kernel.runAs(proc, () => {
      expect(h.current).toBe(proc);
      proc.fatalSignalPending = true;
      expect(h.fatalSignalPending()).toBe(true);
    });
  });

  it("installCpuCache installs a port once; a second installation is EEXIST", () => {
    let host: DeviceHost | undefined;
    @device({ name: "grab" })
    class Grab {
      constructor(h: DeviceHost) {
        host = h;
      }
      probe() {}
    }
    const kernel = createKernel({ ram: "16MiB", plugins: [Grab] });
    const h = host as DeviceHost;
    const coherent = kernel.cpu;
    const writes: number[][] = [];
    const hooks = {
      sync: kernel.dma.hooks,
      bus: kernel.dma.bus,
      onMemoryWrite: (phys: number, len: number) => writes.push([phys, len]),
    };
    h.installCpuCache(coherent, hooks);
    expect(installedCpuCache(kernel)).toBe(coherent);
    kernel.memory.zero(8192, 16);
    expect(writes).toEqual([[8192, 16]]);
    const e = expectErrno(() => h.installCpuCache(coherent, hooks), "EEXIST", 17);
    expect(e.syscall).toBe("cpu_cache_install");
    // Wrapping the CPU port afterwards does not hide the installed cache.
    kernel.cpu = { ...coherent };
    expect(installedCpuCache(kernel)).toBe(coherent);
  });

  it("a CPU cache belongs to its kernel: another kernel has none and installs its own", () => {
    const a = createKernel({ ram: "16MiB" });
    const b = createKernel({ ram: "16MiB" });
    const hooks = (k: typeof a) => ({
      sync: k.dma.hooks,
      bus: k.dma.bus,
      onMemoryWrite: () => {},
    });
    const portA = { ...a.cpu };
    createDeviceHost(a).installCpuCache(portA, hooks(a));
    expect(a.cpuCache).toBe(portA);
    expect(b.cpuCache).toBeUndefined();
    expect(installedCpuCache(b)).toBeUndefined();
    const portB = { ...b.cpu };
    createDeviceHost(b).installCpuCache(portB, hooks(b));
    expect(installedCpuCache(a)).toBe(portA);
    expect(installedCpuCache(b)).toBe(portB);
    expect(a.cpu).toBe(portA);
  });

  it("a second copy of the core modules sees a kernel's CPU cache: the state is in the kernel", async () => {
    // A plugin package that bundles its own copy of @dmabuf/core reaches the kernel through
    // that copy; nothing of a kernel may live in module-level state of one copy.
    const kernel = createKernel({ ram: "16MiB" });
    const port = { ...kernel.cpu };
    const hooks = { sync: kernel.dma.hooks, bus: kernel.dma.bus, onMemoryWrite: () => {} };
    createDeviceHost(kernel).installCpuCache(port, hooks);
    const url = "./plugin/hosts.js?second-copy";
    const copy = (await import(/* @vite-ignore */ url)) as typeof hostsModule;
    expect(copy).not.toBe(hostsModule);
    expect(copy.installedCpuCache(kernel)).toBe(port);
    const e = expectErrno(
      () => copy.createDeviceHost(kernel).installCpuCache(port, hooks),
      "EEXIST",
    );
    expect(e.syscall).toBe("cpu_cache_install");
  });

  describe("plugin configuration", () => {
    const schema = z.object({
      sizeMiB: z.number().int().positive().default(4),
      label: z.string().default("dflt"),
    });
    @heap({ name: "configured", configSchema: schema })
    class Configured implements DmaHeapOps {
      constructor(
        _host: HeapHost,
        readonly config: z.output<typeof schema>,
      ) {}
      allocate(): DmaBuf {
        return noAllocate();
      }
    }

    it("a heap gets its configuration, validated and with defaults applied", () => {
      const kernel = createKernel({
        ram: "16MiB",
        plugins: [{ plugin: Configured, config: { sizeMiB: 8 } }],
      });
      expect(kernel.plugin(Configured).config).toEqual({ sizeMiB: 8, label: "dflt" });
    });

    it("a heap listed without a config gets the schema's defaults", () => {
      const kernel = createKernel({ ram: "16MiB", plugins: [Configured] });
      expect(kernel.plugin(Configured).config).toEqual({ sizeMiB: 4, label: "dflt" });
    });

    it("an invalid heap configuration is EINVAL naming the field, before anything registers", () => {
      const e = expectErrno(
        () =>
          createKernel({
            ram: "16MiB",
            plugins: [{ plugin: Configured, config: { sizeMiB: -1, label: 7 } }],
          }),
        "EINVAL",
        22,
      );
      expect(e.syscall).toBe("register_plugin");
      expect(e.message).toContain("→ at sizeMiB");
      expect(e.message).toContain("→ at label");
    });

    it("an exporter gets its configuration as given; without one, undefined", () => {
      @exporter({ name: "cfg-exporter" })
      class CfgExporter {
        constructor(
          _host: ExporterHost,
          readonly config: unknown,
        ) {}
        mapDmaBuf() {
          return null;
        }
        unmapDmaBuf() {}
        release() {}
      }
      const given = { any: ["thing"] };
      const k1 = createKernel({ ram: "16MiB", plugins: [{ plugin: CfgExporter, config: given }] });
      expect(k1.plugin(CfgExporter).config).toBe(given);
      const k2 = createKernel({ ram: "16MiB", plugins: [CfgExporter] });
      expect(k2.plugin(CfgExporter).config).toBeUndefined();
    });
  });
});

describe("kernel.heaps.add (dma_heap_add)", () => {
  const ops: DmaHeapOps = { allocate: noAllocate };

  it("an empty name is EINVAL", () => {
    const kernel = createKernel({ ram: "16MiB" });
    expectErrno(() => kernel.heaps.add({ name: "", ops }), "EINVAL", 22);
    expect(kernel.heaps.list()).toEqual([]);
  });

  it("ops without allocate, or no ops at all, is EINVAL", () => {
    const kernel = createKernel({ ram: "16MiB" });
    expectErrno(() => kernel.heaps.add({ name: "x", ops: {} as DmaHeapOps }), "EINVAL");
    expectErrno(
      () => kernel.heaps.add({ name: "x", ops: undefined as unknown as DmaHeapOps }),
      "EINVAL",
    );
    expect(kernel.heaps.list()).toEqual([]);
  });

  it("minors are handed out lowest first; the 129th heap is EBUSY", () => {
    const kernel = createKernel({ ram: "16MiB" });
    for (let i = 0; i < NUM_HEAP_MINORS; i++) {
      const h = kernel.heaps.add({ name: `h${i}`, ops, priv: i });
      expect(h.minor).toBe(i);
      expect((h as DmaHeapHandle).priv).toBe(i);
    }
    expect(NUM_HEAP_MINORS).toBe(128);
    expectErrno(() => kernel.heaps.add({ name: "h128", ops }), "EBUSY", 16);
    // The minor is taken before the name is compared, as in dma_heap_add.
    expectErrno(() => kernel.heaps.add({ name: "h0", ops }), "EBUSY");
    expect(kernel.heaps.list()).toHaveLength(128);
    expect(kernel.spawn().readdir("/dev/dma_heap")).toHaveLength(128);
    expect(kernel.heaps.find("h128")).toBeUndefined();
  });

  it("a heap appears in /dev/dma_heap and /sys/class/dma_heap at once", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const p = kernel.spawn();
    kernel.heaps.add({ name: "alpha", ops });
    kernel.heaps.add({ name: "beta", ops });
    expect(p.readdir("/dev/dma_heap")).toEqual(["alpha", "beta"]);
    expect(p.readdir("/sys/class/dma_heap")).toEqual(["alpha", "beta"]);
    expect(p.readFile("/sys/class/dma_heap/beta/dev")).toBe("254:1\n");
  });
});
