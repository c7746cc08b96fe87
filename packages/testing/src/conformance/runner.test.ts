// The suites' machinery: cases as data, the factory checks, skips, and the after-case checks.

import {
  createKernel,
  DMA_BIDIRECTIONAL,
  DMA_TO_DEVICE,
  type DmaBuf,
  heap,
  type Kernel,
  PageExporter,
} from "@dmabuf/core";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe, expect, it } from "vitest";
import { ReferenceHeap } from "../reference/reference-heap.js";
import { ConformanceFailure, expectError } from "./assert.js";
import type { ConformanceCase } from "./case.js";
import { testDevice } from "./device-view.js";
import { exporterConformanceCases } from "./exporter/suite.js";
import { heapConformanceCases, resolveHeapTargets, runHeapConformance } from "./heap/suite.js";
import { importerConformanceCases } from "./importer/suite.js";
import { executeCase, type PreparedSuite, runSuite } from "./runner.js";

const ID = /^(heap|exporter|importer)\.[a-z]+(-[a-z]+)*\.[a-z0-9]+(-[a-z0-9]+)*$/;

describe("cases are data", () => {
  const suites = {
    heap: heapConformanceCases,
    exporter: exporterConformanceCases,
    importer: importerConformanceCases,
  };
  for (const [name, cases] of Object.entries(suites)) {
    it(`${name}: ids are unique and dotted, every case has a title and a body`, () => {
      expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
      for (const c of cases) {
        expect(c.id).toMatch(ID);
        expect(c.title.length).toBeGreaterThan(10);
        expect(typeof c.run).toBe("function");
      }
    });
    it(`${name}: the first cases check the factory`, () => {
      expect(cases[0]?.id).toBe(`${name}.factory.fresh-kernel`);
    });
  }
});

describe("the factory checks", () => {
  it("a factory that returns the same kernel twice fails with FACTORY", () => {
    const shared = createKernel({ ram: "32MiB", plugins: [SystemHeap] });
    const [report] = runHeapConformance({ factory: () => shared, heapName: "system" });
    const byId = new Map(report?.results.map((r) => [r.id, r]));
    expect(byId.get("heap.factory.fresh-kernel")?.failure?.code).toBe("FACTORY");
    expect(byId.get("heap.factory.isolated")?.failure?.code).toBe("FACTORY");
  });

  it("a fresh factory passes them", () => {
    const [report] = runHeapConformance({
      factory: () => createKernel({ ram: "32MiB", plugins: [SystemHeap] }),
    });
    expect(report?.failed).toBe(0);
    expect(report?.target).toBe("system");
  });

  it("a factory without the heap fails every case that boots with FACTORY", () => {
    let calls = 0;
    const [report] = runHeapConformance({
      factory: () => createKernel({ ram: "32MiB", plugins: calls++ === 0 ? [SystemHeap] : [] }),
    });
    const codes = new Set(report?.results.filter((r) => r.failure).map((r) => r.failure?.code));
    expect([...codes]).toEqual(["FACTORY"]);
  });
});

describe("targets and capabilities", () => {
  it("a plugin that adds its heaps from probe is tested once per heap", () => {
    const targets = resolveHeapTargets({
      plugin: CmaHeap,
      kernelConfig: { cma: { size: "8MiB" } },
    });
    expect(targets.map((t) => t.heapName)).toEqual(["default_cma_region", "reserved"]);
    expect(targets[0]?.capabilities).toMatchObject({ contiguous: true, maxAllocation: 8 << 20 });
  });

  it("options name exactly one of plugin and factory, and a heap plugin", () => {
    expect(() => resolveHeapTargets({})).toThrow(TypeError);
    expect(() => resolveHeapTargets({ plugin: SystemHeap, factory: () => createKernel() })).toThrow(
      TypeError,
    );
    expect(() => resolveHeapTargets({ plugin: PageExporter })).toThrow(TypeError);
    expect(() => resolveHeapTargets({ plugin: SystemHeap, heapName: "nope" })).toThrow(TypeError);
  });

  it("cases a heap cannot run are skipped with the reason; excluded cases with the user's", () => {
    @heap({ name: "write_only_view", capabilities: { cpuAccess: false } })
    class NoCpuHeap extends ReferenceHeap {}
    const [report] = runHeapConformance({
      plugin: NoCpuHeap,
      exclude: { "heap.ioctl.emfile": "tested elsewhere" },
    });
    const byId = new Map(report?.results.map((r) => [r.id, r]));
    expect(byId.get("heap.alloc.zeroed-after-reuse")).toMatchObject({
      status: "skipped",
      reason: "buffers cannot be mmapped",
    });
    expect(byId.get("heap.ioctl.emfile")).toMatchObject({
      status: "skipped",
      reason: "tested elsewhere",
    });
    expect(byId.get("exporter.vmap.roundtrip")?.status).toBe("passed");
  });
});

describe("the after-case checks", () => {
  type Ctx = { boot(): Kernel };
  const suiteOf = (cases: ConformanceCase<Ctx, object>[]): PreparedSuite<Ctx, object> => ({
    kind: "exporter",
    target: "test",
    capabilities: {},
    cases,
    exclude: {},
    context: (tracker) => ({
      boot: () => tracker.track(createKernel({ ram: "16MiB", plugins: [PageExporter] })),
    }),
  });
  const create = (k: Kernel): DmaBuf => k.plugin(PageExporter).create(4096, 2);

  it("a reference left behind is a LEAK naming what changed", () => {
    const report = runSuite(
      suiteOf([
        { id: "t.leak.ref", title: "leaks a reference", run: (c) => void create(c.boot()) },
      ]),
    );
    expect(report.results[0]?.failure?.code).toBe("LEAK");
    expect(report.results[0]?.failure?.message).toContain("buffers 0 → 1");
  });

  it("a WARN of the dma-buf core is a KERNEL_WARNING", () => {
    const run = (c: Ctx) => {
      const k = c.boot();
      const buf = create(k);
      k.dmaBuf.attach(buf, testDevice("forgotten"));
      k.dmaBuf.put(buf);
    };
    const report = runSuite(suiteOf([{ id: "t.warn.attached", title: "releases attached", run }]));
    expect(report.results[0]?.failure?.code).toBe("KERNEL_WARNING");
  });

  it("a report of DMA-API debugging is a KERNEL_WARNING", () => {
    const run = (c: Ctx) => {
      const k = c.boot();
      const buf = create(k);
      const a = k.dmaBuf.attach(buf, testDevice("mapped"));
      const sgt = k.dmaBuf.mapAttachment(a, DMA_BIDIRECTIONAL);
      // A wrong-direction unmap: Linux warns and unmaps anyway, so nothing leaks.
      k.dmaBuf.unmapAttachment(a, sgt, DMA_TO_DEVICE);
      k.dmaBuf.detach(buf, a);
      k.dmaBuf.put(buf);
    };
    const report = runSuite(
      suiteOf([{ id: "t.warn.unmap", title: "unmaps in another direction", run }]),
    );
    expect(report.results[0]?.failure?.code).toBe("KERNEL_WARNING");
    expect(report.results[0]?.failure?.errorCode).toBe("DMA_API_UNMAP_WRONG_DIR");
  });

  it("anything a case throws becomes UNEXPECTED_ERROR with the thrown code", () => {
    const run = (c: Ctx) => {
      c.boot().dmaBuf.get(c.boot().spawn(), 7);
    };
    const suite = suiteOf([{ id: "t.error.ebadf", title: "gets a closed fd", run }]);
    const r = executeCase(suite, suite.cases[0] as ConformanceCase<Ctx, object>);
    expect(r.failure).toMatchObject({ code: "UNEXPECTED_ERROR", errorCode: "EBADF" });
  });

  it("expectError tells a missing error from a wrong one, by code", () => {
    const k = createKernel({ ram: "16MiB" });
    const p = k.spawn();
    expect(() => expectError(() => p.close(3), "EBADF", "close")).not.toThrow();
    const wrong = (() => {
      try {
        expectError(() => p.close(3), "EINVAL", "close");
      } catch (e) {
        return e as ConformanceFailure;
      }
    })();
    expect(wrong).toMatchObject({ code: "WRONG_ERROR", errorCode: "EBADF" });
    expect(() => expectError(() => 0, "EINVAL", "nothing")).toThrow(
      expect.objectContaining({ code: "MISSING_ERROR" }),
    );
  });
});
