// The suites pass on every built-in plugin and on the reference heap and importer.

import { DMA_BIDIRECTIONAL, type Kernel, PageExporter, type PluginClass } from "@dmabuf/core";
import {
  CacheModel,
  Camera,
  type DeviceModel,
  MemcpyEngine,
  SgEngine,
  Vgem,
} from "@dmabuf/devices";
import { CarveoutHeap, CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap } from "@dmabuf/heaps-system";
import { describe } from "vitest";
import { ReferenceHeap } from "../reference/reference-heap.js";
import { ReferenceImporter } from "../reference/reference-importer.js";
import type { ImporterUnderTest } from "./importer/context.js";
import {
  describeExporterConformance,
  describeHeapConformance,
  describeImporterConformance,
} from "./vitest.js";

/** The importer-suite view of a `@dmabuf/devices` device model. */
function deviceModel(cls: PluginClass<DeviceModel>): (kernel: Kernel) => ImporterUnderTest {
  return (kernel) => {
    const model = kernel.plugin(cls);
    return {
      device: model.device,
      importFd: (proc, fd) => model.importFd(proc, fd, DMA_BIDIRECTIONAL),
    };
  };
}

for (const profile of ["6.18", "6.1"] as const) {
  describe(`profile ${profile}`, () => {
    describeHeapConformance({ plugin: SystemHeap, kernelConfig: { profile } });
    describeHeapConformance({ plugin: ReferenceHeap, kernelConfig: { profile } });
    describeHeapConformance({
      plugin: CmaHeap,
      kernelConfig: { profile, ram: "128MiB", cma: { size: "32MiB" } },
    });
    describeHeapConformance({
      plugin: CarveoutHeap,
      config: {
        heaps: [
          { name: "video", size: "8MiB" },
          { name: "secure_video", size: "4MiB", protected: true },
        ],
      },
      kernelConfig: { profile },
    });
    describeExporterConformance({ plugin: PageExporter, kernelConfig: { profile } });
    describeImporterConformance({
      name: "reference-importer",
      importer: (kernel) => new ReferenceImporter(kernel),
      kernelConfig: { profile },
    });
  });
}

describe("heaps with small pools", () => {
  describeHeapConformance({
    plugin: CarveoutHeap,
    config: { heaps: [{ name: "tiny", size: "1MiB" }] },
  });
  describeHeapConformance({ plugin: CmaHeap, kernelConfig: { cma: { size: "2MiB" } } });
});

describe("under the devices' checking cache model (every missing sync is fatal)", () => {
  const kernelConfig = { plugins: [{ plugin: CacheModel, config: { fatal: true } }] };
  describeHeapConformance({ plugin: SystemHeap, kernelConfig });
  describeHeapConformance({ plugin: ReferenceHeap, kernelConfig });
});

describe("importer devices of @dmabuf/devices", () => {
  describeImporterConformance({
    name: "vgem",
    kernelConfig: { plugins: [Vgem] },
    importer: deviceModel(Vgem),
  });
  for (const model of [SgEngine, MemcpyEngine, Camera]) {
    describeImporterConformance({
      name: model.name,
      kernelConfig: { plugins: [model] },
      importer: deviceModel(model),
    });
  }
  describeImporterConformance({
    name: "non-coherent vgem under the checking cache model",
    kernelConfig: {
      plugins: [
        { plugin: CacheModel, config: { fatal: true } },
        { plugin: Vgem, config: { coherent: false } },
      ],
    },
    importer: deviceModel(Vgem),
  });
});
