// Plugin decorators: they only declare metadata; createKernel reads it and registers plugins.

import { type InjectionToken, injectable } from "tsyringe";

/** The metadata key plugin decorators write. */
export const PLUGIN_METADATA_KEY = "dmabuf:plugin";

/** What an exporter plugin declares. */
export interface ExporterMetadata {
  /** Plugin kind. */
  readonly kind: "exporter";
  /** The exporter's name: `exp_name` of its buffers (bufinfo, sysfs, fdinfo). */
  readonly name: string;
}

/** Declared metadata of any plugin kind. */
export type PluginMetadata = ExporterMetadata;

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

/** Reads the metadata a plugin decorator recorded, if any. */
export function pluginMetadata(target: unknown): PluginMetadata | undefined {
  if (typeof target !== "function") return undefined;
  return Reflect.getOwnMetadata(PLUGIN_METADATA_KEY, target) as PluginMetadata | undefined;
}

/** Injection token under which a kernel registers itself in its container. */
export const KERNEL: InjectionToken<unknown> = Symbol("dmabuf:kernel");
