// The suites pass on every built-in plugin and on the reference heap and importer.

import {
  DMA_BIDIRECTIONAL,
  type DmaFence,
  type Kernel,
  PageExporter,
  type PluginClass,
} from "@dmabuf/core";
import {
  CacheModel,
  Camera,
  type DeviceModel,
  type ImportedBuffer,
  MemcpyEngine,
  SgEngine,
  Vgem,
} from "@dmabuf/devices";
import { CarveoutHeap, CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap, SystemUncachedHeap } from "@dmabuf/heaps-system";
import { describe } from "vitest";
import { ReferenceHeap } from "../reference/reference-heap.js";
import { ReferenceImporter } from "../reference/reference-importer.js";
import type { ImporterUnderTest, ImporterWork, ImportHandle } from "./importer/context.js";
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

/** An engine job as the importer suite's queued work. */
function work<T extends object>(fence: DmaFence, extra?: T): ImporterWork & T {
  return {
    ...(extra as T),
    get done() {
      return fence.isSignaled();
    },
    wait: () => fence.wait(true),
  };
}

/** The importer-suite view of a `@dmabuf/devices` engine, with its jobs as queued work. */
function engineModel<M extends DeviceModel>(
  cls: PluginClass<M>,
  queue: (model: M, imported: ImportedBuffer) => Pick<ImportHandle, "queueRead" | "queueWrite">,
): (kernel: Kernel) => ImporterUnderTest {
  return (kernel) => {
    const model = kernel.plugin(cls);
    return {
      device: model.device,
      importFd: (proc, fd) => {
        const imported = model.importFd(proc, fd, DMA_BIDIRECTIONAL);
        return {
          read: (offset, length) => imported.read(offset, length),
          write: (offset, bytes) => imported.write(offset, bytes),
          release: () => imported.release(),
          ...queue(model, imported),
        };
      },
    };
  };
}

for (const profile of ["6.18", "6.1"] as const) {
  describe(`profile ${profile}`, () => {
    describeHeapConformance({ plugin: SystemHeap, kernelConfig: { profile } });
    describeHeapConformance({ plugin: SystemUncachedHeap, kernelConfig: { profile } });
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
      capabilities: ReferenceImporter.capabilities,
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
  describeHeapConformance({ plugin: SystemUncachedHeap, kernelConfig });
  describeHeapConformance({ plugin: ReferenceHeap, kernelConfig });
});

describe("importer devices of @dmabuf/devices", () => {
  describeImporterConformance({
    name: "vgem",
    kernelConfig: { plugins: [Vgem] },
    importer: deviceModel(Vgem),
  });
  describeImporterConformance({
    name: SgEngine.name,
    kernelConfig: { plugins: [SgEngine] },
    capabilities: { asyncWork: true },
    importer: engineModel(SgEngine, (engine, imported) => ({
      queueRead: (offset, length) => {
        const bytes = new Uint8Array(length);
        return work(engine.readback(imported, bytes, offset, length), { bytes });
      },
      queueWrite: (offset, bytes) => work(engine.upload(imported, offset, bytes)),
    })),
  });
  describeImporterConformance({
    name: Camera.name,
    kernelConfig: { plugins: [Camera] },
    capabilities: { asyncWork: true },
    importer: engineModel(Camera, (camera, imported) => ({
      queueWrite: (offset, bytes) => work(camera.capture(imported, bytes.slice(), offset)),
    })),
  });
  for (const moveNotify of [true, false]) {
    describeImporterConformance({
      name: `dynamic vgem (moveNotify ${moveNotify})`,
      kernelConfig: { moveNotify, plugins: [{ plugin: Vgem, config: { dynamic: true } }] },
      capabilities: { dynamic: true },
      importer: deviceModel(Vgem),
    });
  }
  describeImporterConformance({
    name: MemcpyEngine.name,
    kernelConfig: { plugins: [MemcpyEngine] },
    importer: deviceModel(MemcpyEngine),
  });
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
