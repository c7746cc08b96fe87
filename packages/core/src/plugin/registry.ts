// Plugin registration: read the declared metadata, check the contract, then make it visible.

import { KernelError } from "../errors/kernel-error.js";
import type { DmaHeapOps } from "../heap/ops.js";
import type { Kernel } from "../kernel.js";
import {
  createDeviceHost,
  createExporterHost,
  createHeapHost,
  type DeviceHost,
  type ExporterHost,
  type HeapHost,
} from "./hosts.js";
import { type PluginClass, type PluginMetadata, pluginMetadata } from "./metadata.js";
import { parsePluginConfig } from "./plugin-config.js";

/** A plugin entry of the kernel configuration. */
export type PluginEntry = PluginClass | { plugin: PluginClass; config?: unknown };

/**
 * Checks that an exporter implements the required {@link DmaBufOps} members, the way
 * `dma_buf_export` checks an ops table. Members may be methods or function-valued fields.
 * @param ops - the constructed plugin instance
 * @param name - the plugin's name, for the message
 * @throws KernelError EINVAL naming the missing member.
 */
export function checkExporterContract(ops: object, name: string): void {
  const o = ops as Record<string, unknown>;
  for (const m of ["mapDmaBuf", "unmapDmaBuf", "release"]) {
    if (typeof o[m] !== "function") {
      throw new KernelError("EINVAL", "register_exporter", `${name} lacks ${m}`);
    }
  }
  if ((typeof o.pin === "function") !== (typeof o.unpin === "function")) {
    throw new KernelError("EINVAL", "register_exporter", `${name}: pin and unpin must pair`);
  }
}

/**
 * Checks a heap plugin the way `dma_heap_add` checks a heap: a non-empty declared name
 * (unless the plugin adds its heaps from `probe`) and an `allocate` method.
 * @param ops - the constructed plugin instance
 * @param meta - its declared metadata
 * @param name - the plugin's name, for the message
 * @throws KernelError EINVAL.
 */
export function checkHeapContract(ops: object, meta: PluginMetadata, name: string): void {
  if (meta.kind !== "heap") return;
  const o = ops as Record<string, unknown>;
  if (typeof o.allocate !== "function") {
    throw new KernelError("EINVAL", "dma_heap_add", `${name} lacks allocate`);
  }
  if (meta.name === "" || (meta.name === undefined && typeof o.probe !== "function")) {
    throw new KernelError("EINVAL", "dma_heap_add", `${name} declares no heap name`);
  }
}

/**
 * Checks a device plugin: a non-empty declared name and a `probe` method, where a device
 * plugin registers its hardware.
 * @param ops - the constructed plugin instance
 * @param meta - its declared metadata
 * @param name - the plugin's name, for the message
 * @throws KernelError EINVAL.
 */
export function checkDeviceContract(ops: object, meta: PluginMetadata, name: string): void {
  if (meta.kind !== "device") return;
  if (typeof meta.name !== "string" || meta.name === "") {
    throw new KernelError("EINVAL", "device_register", `${name} declares no device name`);
  }
  if (typeof (ops as Record<string, unknown>).probe !== "function") {
    throw new KernelError("EINVAL", "device_register", `${name} lacks probe`);
  }
}

interface Checked {
  cls: PluginClass;
  meta: PluginMetadata;
  config: unknown;
}

/**
 * Registers plugins in order, in three passes so a bad plugin leaves nothing
 * half-registered: (1) every entry's metadata and configuration are validated; (2) every
 * plugin is constructed explicitly as `new Cls(host, config)` — `host` the kernel's frozen
 * {@link HeapHost}, {@link DeviceHost} or {@link ExporterHost} by the plugin's kind, `config`
 * its validated configuration — and its contract checked on the instance; constructors must
 * not have side effects; (3) only then, in order, a heap plugin with a declared name is added
 * as a heap and `probe()` runs if the plugin has one.
 * @throws KernelError EINVAL for an undecorated class, a broken contract or an invalid
 * plugin configuration; EEXIST when the same class is listed twice; the errors of heap
 * registration (EEXIST, EBUSY) and of `probe`.
 */
export function registerPlugins(
  host: Kernel,
  entries: readonly PluginEntry[],
): Map<PluginClass, unknown> {
  const checked: Checked[] = [];
  for (const entry of entries) {
    const cls = typeof entry === "function" ? entry : entry.plugin;
    const meta = pluginMetadata(cls);
    if (!meta) {
      throw new KernelError("EINVAL", "register_plugin", `${cls.name} has no plugin decorator`);
    }
    if (checked.some((c) => c.cls === cls)) {
      throw new KernelError("EEXIST", "register_plugin", `${cls.name} listed twice`);
    }
    let config = typeof entry === "function" ? undefined : entry.config;
    if (meta.kind !== "exporter" && meta.configSchema) {
      config = parsePluginConfig(cls.name, meta.configSchema, config);
    }
    checked.push({ cls, meta, config });
  }
  const instances = new Map<PluginClass, Record<string, unknown>>();
  const hosts = new Map<PluginMetadata["kind"], HeapHost | DeviceHost | ExporterHost>();
  for (const { cls, meta, config } of checked) {
    let pluginHost = hosts.get(meta.kind);
    if (!pluginHost) {
      pluginHost =
        meta.kind === "heap"
          ? createHeapHost(host)
          : meta.kind === "device"
            ? createDeviceHost(host)
            : createExporterHost(host);
      hosts.set(meta.kind, pluginHost);
    }
    const instance = new cls(pluginHost, config) as Record<string, unknown>;
    if (meta.kind === "exporter") checkExporterContract(instance, cls.name);
    checkHeapContract(instance, meta, cls.name);
    checkDeviceContract(instance, meta, cls.name);
    instances.set(cls, instance);
  }
  for (const [cls, instance] of instances) host.container.registerInstance(cls, instance);
  for (const { cls, meta } of checked) {
    const instance = instances.get(cls) as Record<string, unknown>;
    if (meta.kind === "heap" && meta.name !== undefined) {
      host.heaps.add({
        name: meta.name,
        ops: instance as unknown as DmaHeapOps,
        capabilities: meta.capabilities,
      });
    }
    if (typeof instance.probe === "function") (instance.probe as () => void)();
  }
  return instances;
}
