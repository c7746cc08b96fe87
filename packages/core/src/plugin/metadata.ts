// Plugin decorators: they only declare metadata; createKernel reads it and registers plugins.

import { type InjectionToken, injectable } from "tsyringe";
import type { ZodType } from "zod";
import type { HeapCapabilities } from "../heap/ops.js";

/** The metadata key plugin decorators write. */
export const PLUGIN_METADATA_KEY = "dmabuf:plugin";

/** What an exporter plugin declares. */
export interface ExporterMetadata {
  /** Plugin kind. */
  readonly kind: "exporter";
  /** The exporter's name: `exp_name` of its buffers (bufinfo, sysfs, fdinfo). */
  readonly name: string;
}

/** What a heap plugin declares. */
export interface HeapMetadata {
  /** Plugin kind. */
  readonly kind: "heap";
  /**
   * The heap's name (/dev/dma_heap/<name>), describing the memory, not the implementation.
   * A plugin that registers several heaps (one per memory region) instead adds them from
   * its `probe` method and leaves this undefined.
   */
  readonly name: string | undefined;
  /** What the heap can do. */
  readonly capabilities: HeapCapabilities;
  /** Schema of the plugin's configuration (validated at registration). */
  readonly configSchema: ZodType | undefined;
}

/** What a device plugin declares: hardware the model adds (a DMA device, the CPU's cache). */
export interface DeviceMetadata {
  /** Plugin kind. */
  readonly kind: "device";
  /** What the plugin models, e.g. "camera" (its default dev_name) or "cpu-cache". */
  readonly name: string;
  /** Schema of the plugin's configuration (validated at registration). */
  readonly configSchema: ZodType | undefined;
}

/** Declared metadata of any plugin kind. */
export type PluginMetadata = ExporterMetadata | HeapMetadata | DeviceMetadata;

/**
 * An optional lifecycle method of any plugin (`module_init`): called once, after the plugin's
 * contract was checked and the instance constructed, to register what it provides.
 */
export interface PluginProbe {
  /** Register heaps, devices or files. Throwing aborts kernel creation. */
  probe(): void;
}

/** A plugin class: constructed by the kernel's container. */
// biome-ignore lint/suspicious/noExplicitAny: constructor parameters are injected by tsyringe
export type PluginClass<T = unknown> = new (...args: any[]) => T;

/**
 * Declares a class as a dma-buf exporter plugin. The decorator only records metadata (and
 * makes the class injectable); {@link createKernel} checks the contract when the plugin is
 * registered: the class must implement the required {@link DmaBufOps} members
 * (`mapDmaBuf`, `unmapDmaBuf`, `release`) and `pin`/`unpin` together or not at all.
 *
 * @example
 * ```ts
 * @exporter({ name: "example" })
 * class ExampleExporter implements DmaBufOps<ExampleBuffer> { … }
 * const kernel = createKernel({ plugins: [ExampleExporter] });
 * kernel.plugin(ExampleExporter).create(4096);
 * ```
 */
export function exporter(options: { name: string }): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(PLUGIN_METADATA_KEY, { kind: "exporter", name: options.name }, target);
    injectable()(target as unknown as PluginClass);
  };
}

/**
 * Declares a class as a DMA-BUF heap plugin. The decorator only records metadata (and makes
 * the class injectable); {@link createKernel} checks the contract when the plugin is
 * registered (`allocate` present, name valid and unique, config valid) and then adds the heap
 * the way `dma_heap_add` does, making /dev/dma_heap/<name> appear.
 *
 * @example
 * ```ts
 * @heap({ name: "system", capabilities: { contiguous: false } })
 * class SystemHeap implements DmaHeapOps {
 *   constructor(private readonly kernel: Kernel) {}
 *   allocate(heap, len, fdFlags, heapFlags) { … }
 * }
 * ```
 */
export function heap(options: {
  name?: string;
  capabilities?: HeapCapabilities;
  configSchema?: ZodType;
}): ClassDecorator {
  return (target) => {
    const meta: HeapMetadata = {
      kind: "heap",
      name: options.name,
      capabilities: options.capabilities ?? {},
      configSchema: options.configSchema,
    };
    Reflect.defineMetadata(PLUGIN_METADATA_KEY, meta, target);
    injectable()(target as unknown as PluginClass);
  };
}

/**
 * Declares a class as a device plugin: hardware the model adds, such as a DMA engine, a
 * display controller or the CPU's cache model. The decorator only records metadata (and makes
 * the class injectable); {@link createKernel} checks the contract when the plugin is
 * registered (a non-empty name, a `probe` method, a valid configuration), constructs it with
 * the kernel and its configuration ({@link PLUGIN_CONFIG}) injected, and calls `probe()`,
 * where the plugin registers its devices (`kernel.dma.addDevice`) or installs itself.
 *
 * @example
 * ```ts
 * @device({ name: "camera", configSchema: cameraConfigSchema })
 * class Camera implements PluginProbe {
 *   constructor(readonly kernel: Kernel, @inject(PLUGIN_CONFIG) config: unknown) { … }
 *   probe() { this.kernel.dma.addDevice(this.device); }
 * }
 * const kernel = createKernel({ plugins: [{ plugin: Camera, config: { coherent: false } }] });
 * ```
 */
export function device(options: { name: string; configSchema?: ZodType }): ClassDecorator {
  return (target) => {
    const meta: DeviceMetadata = {
      kind: "device",
      name: options.name,
      configSchema: options.configSchema,
    };
    Reflect.defineMetadata(PLUGIN_METADATA_KEY, meta, target);
    injectable()(target as unknown as PluginClass);
  };
}

/** Reads the metadata a plugin decorator recorded, if any. */
export function pluginMetadata(target: unknown): PluginMetadata | undefined {
  if (typeof target !== "function") return undefined;
  return Reflect.getOwnMetadata(PLUGIN_METADATA_KEY, target) as PluginMetadata | undefined;
}

/** Injection token under which a kernel registers itself in its container. */
export const KERNEL: InjectionToken<unknown> = Symbol("dmabuf:kernel");

/** Injection token of a plugin's validated configuration (`@inject(PLUGIN_CONFIG)`). */
export const PLUGIN_CONFIG: InjectionToken<unknown> = Symbol("dmabuf:plugin-config");
