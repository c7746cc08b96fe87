// Plugin registration: read the declared metadata, check the contract, then make it visible.

import type { DependencyContainer } from "tsyringe";
import { KernelError } from "../errors/kernel-error.js";
import { type PluginClass, pluginMetadata } from "./metadata.js";

/** The part of a kernel plugin registration touches. */
export interface PluginHost {
  /** The kernel's DI container. */
  readonly container: DependencyContainer;
}

/**
 * Checks that a class implements the required {@link DmaBufOps} members, the way
 * `dma_buf_export` checks an ops table.
 * @throws KernelError EINVAL naming the missing member.
 */
export function checkExporterContract(cls: PluginClass): void {
  const proto = cls.prototype as Record<string, unknown>;
  for (const m of ["mapDmaBuf", "unmapDmaBuf", "release"]) {
    if (typeof proto[m] !== "function") {
      throw new KernelError("EINVAL", "register_exporter", `${cls.name} lacks ${m}`);
    }
  }
  if ((typeof proto.pin === "function") !== (typeof proto.unpin === "function")) {
    throw new KernelError("EINVAL", "register_exporter", `${cls.name}: pin and unpin must pair`);
  }
}

/**
 * Registers plugin classes in order. Every contract is checked before any instance is
 * created, so a bad plugin leaves nothing half-registered.
 * @throws KernelError EINVAL for an undecorated class or a broken contract; EEXIST when the
 * same class is listed twice.
 */
export function registerPlugins(
  host: PluginHost,
  classes: readonly PluginClass[],
): Map<PluginClass, unknown> {
  const seen = new Set<PluginClass>();
  for (const cls of classes) {
    const meta = pluginMetadata(cls);
    if (!meta) {
      throw new KernelError("EINVAL", "register_plugin", `${cls.name} has no plugin decorator`);
    }
    if (seen.has(cls)) throw new KernelError("EEXIST", "register_plugin", `${cls.name} twice`);
    seen.add(cls);
    if (meta.kind === "exporter") checkExporterContract(cls);
  }
  const instances = new Map<PluginClass, unknown>();
  for (const cls of classes) {
    host.container.registerSingleton(cls);
    instances.set(cls, host.container.resolve(cls));
  }
  return instances;
}
