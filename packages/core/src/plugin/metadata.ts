// Plugin decorators: they only declare metadata; createKernel reads it and registers plugins.

import type { InjectionToken } from "tsyringe";
import type { ZodType } from "zod";
import type { HeapCapabilities } from "../heap/ops.js";
import type { DeviceHost, ExporterHost, HeapHost } from "./hosts.js";

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

/**
 * A plugin class. The kernel constructs it explicitly as `new Cls(host, config)`: `host` is
 * the plugin's frozen host ({@link HeapHost}, {@link DeviceHost} or {@link ExporterHost} by
 * its kind) and `config` its validated configuration (`undefined` when none was given and no
 * schema supplies defaults). Nothing is resolved from emitted parameter types, so a plugin
 * compiled with TC39 standard decorators, legacy decorators, or no decorator metadata at all
 * is constructed the same way.
 */
// biome-ignore lint/suspicious/noExplicitAny: the constructor is called as new Cls(host, config)
export type PluginClass<T = unknown> = new (...args: any[]) => T;

/**
 * A plugin class decorator that works both ways TypeScript compiles decorators: as a TC39
 * standard decorator (called with the class and a `ClassDecoratorContext`) and as a legacy
 * `experimentalDecorators` decorator (called with the class only). It records metadata and
 * returns nothing, so the class is not replaced. The class's constructor must accept the
 * kind's host `H` as its first parameter (the compiler checks it) and may take the plugin's
 * configuration as its second.
 * @typeParam H - the host the kernel constructs the plugin with
 */
export type PluginDecorator<H = unknown> = <
  C extends abstract new (
    host: H,
    config: never,
  ) => unknown,
>(
  target: C,
  context?: ClassDecoratorContext<C>,
) => void;

/** Records `meta` on the decorated class, checking how the decorator was applied. */
function pluginDecorator<H>(meta: PluginMetadata): PluginDecorator<H> {
  return (target, context) => {
    if (context !== undefined && context.kind !== "class") {
      throw new TypeError(`@${meta.kind} decorates classes, not a ${String(context.kind)}`);
    }
    if (typeof target !== "function") {
      throw new TypeError(`@${meta.kind} decorates classes`);
    }
    Reflect.defineMetadata(PLUGIN_METADATA_KEY, meta, target);
  };
}

/**
 * Declares a class as a dma-buf exporter plugin. The decorator only records metadata; it works
 * as a TC39 standard and as a legacy decorator ({@link PluginDecorator}). {@link createKernel}
 * constructs the class as `new Cls(host, config)` with its {@link ExporterHost} and checks the
 * contract: the class must implement the required {@link DmaBufOps} members
 * (`mapDmaBuf`, `unmapDmaBuf`, `release`) and `pin`/`unpin` together or not at all.
 *
 * @example
 * ```ts
 * @exporter({ name: "example" })
 * class ExampleExporter implements DmaBufOps<ExampleBuffer> {
 *   constructor(private readonly host: ExporterHost) {}
 *   …
 * }
 * const kernel = createKernel({ plugins: [ExampleExporter] });
 * kernel.plugin(ExampleExporter).create(4096);
 * ```
 */
export function exporter(options: { name: string }): PluginDecorator<ExporterHost> {
  return pluginDecorator({ kind: "exporter", name: options.name });
}

/**
 * Declares a class as a DMA-BUF heap plugin. The decorator only records metadata; it works
 * as a TC39 standard and as a legacy decorator ({@link PluginDecorator}). {@link createKernel}
 * validates the configuration against `configSchema`, constructs the class as
 * `new Cls(host, config)` with its {@link HeapHost}, checks the contract (`allocate` present,
 * name valid and unique) and then adds the heap the way `dma_heap_add` does, making
 * /dev/dma_heap/<name> appear.
 *
 * @example
 * ```ts
 * @heap({ name: "system", capabilities: { contiguous: false } })
 * class SystemHeap implements DmaHeapOps {
 *   constructor(private readonly host: HeapHost) {}
 *   allocate(heap, len, fdFlags, heapFlags) { … }
 * }
 * ```
 */
export function heap(options: {
  name?: string;
  capabilities?: HeapCapabilities;
  configSchema?: ZodType;
}): PluginDecorator<HeapHost> {
  return pluginDecorator({
    kind: "heap",
    name: options.name,
    capabilities: options.capabilities ?? {},
    configSchema: options.configSchema,
  });
}

/**
 * Declares a class as a device plugin: hardware the model adds, such as a DMA engine, a
 * display controller or the CPU's cache model. The decorator only records metadata; it works
 * as a TC39 standard and as a legacy decorator ({@link PluginDecorator}). {@link createKernel}
 * checks the contract (a non-empty name, a `probe` method, a valid configuration), constructs
 * the class as `new Cls(host, config)` with its {@link DeviceHost} and validated
 * configuration, and calls `probe()`, where the plugin registers its devices
 * (`host.dma.addDevice`) or installs itself (`host.installCpuCache`).
 *
 * @example
 * ```ts
 * @device({ name: "camera", configSchema: cameraConfigSchema })
 * class Camera implements PluginProbe {
 *   constructor(readonly host: DeviceHost, config: unknown) { … }
 *   probe() { this.host.dma.addDevice(this.spec); }
 * }
 * const kernel = createKernel({ plugins: [{ plugin: Camera, config: { coherent: false } }] });
 * ```
 */
export function device(options: {
  name: string;
  configSchema?: ZodType;
}): PluginDecorator<DeviceHost> {
  return pluginDecorator({
    kind: "device",
    name: options.name,
    configSchema: options.configSchema,
  });
}

/** Reads the metadata a plugin decorator recorded, if any. */
export function pluginMetadata(target: unknown): PluginMetadata | undefined {
  if (typeof target !== "function") return undefined;
  return Reflect.getOwnMetadata(PLUGIN_METADATA_KEY, target) as PluginMetadata | undefined;
}

/** Injection token under which a kernel registers itself in its container. */
export const KERNEL: InjectionToken<unknown> = Symbol("dmabuf:kernel");

/**
 * Former injection token of a plugin's configuration.
 * @deprecated Plugins are constructed as `new Cls(host, config)`: take the configuration as
 * the constructor's second parameter. Parameter decorators are no longer read.
 */
export const PLUGIN_CONFIG: InjectionToken<unknown> = Symbol("dmabuf:plugin-config");
