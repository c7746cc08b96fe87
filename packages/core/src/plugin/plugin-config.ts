// A plugin's configuration checked against its declared schema: unknown keys and invalid values are EINVAL.

import type { ZodType } from "zod";
import { checkConfig } from "../config-keys.js";
import { KernelError } from "../errors/kernel-error.js";

/**
 * Validates a plugin's configuration against the schema it declared. A key the schema does
 * not declare, at any depth, is an error naming the nearest declared key (`fatl` →
 * `fatal`), as are the schema's own issues.
 * @param name - the plugin's class name, for the message
 * @param schema - the plugin's declared `configSchema`
 * @param config - the configuration as given (undefined reads as `{}`)
 * @returns the parsed configuration, defaults applied
 * @throws KernelError EINVAL listing every problem.
 */
export function parsePluginConfig(name: string, schema: ZodType, config: unknown): unknown {
  const checked = checkConfig(schema, config ?? {});
  if (checked.ok) return checked.data;
  throw new KernelError("EINVAL", "register_plugin", `${name} configuration: ${checked.message}`);
}
