// Unknown configuration keys: finds keys a zod object schema does not declare, with the nearest valid name.

import type { ZodType } from "zod";
import * as z from "zod";

/** A key of a configuration object that its schema does not declare. */
export interface UnknownConfigKey {
  /** Where the object holding the key is, e.g. `["cma", "regions", 0]` (empty at the top). */
  readonly path: readonly (string | number)[];
  /** The key as written. */
  readonly key: string;
  /** The nearest key the schema declares at that place, when one is close enough. */
  readonly suggestion: string | undefined;
}

/** Words people reach for instead of a declared key; only used when the target is declared. */
const SYNONYMS: Readonly<Record<string, string>> = {
  memory: "ram",
  mem: "ram",
  memsize: "ram",
  ramsize: "ram",
  memorysize: "ram",
  version: "profile",
  kernel: "profile",
  heaps: "plugins",
  devices: "plugins",
  exporters: "plugins",
  options: "config",
  settings: "config",
};

/** Levenshtein distance between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * The candidate closest to `word` (case-insensitive edit distance, plus a few common
 * synonyms such as `memory` for `ram`), or undefined when none is close enough to be a typo.
 * @param word - what was written
 * @param candidates - the valid names
 */
export function nearestName(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const lower = word.toLowerCase();
  const synonym = SYNONYMS[lower.replace(/[-_]/g, "")];
  if (synonym !== undefined && list.includes(synonym)) return synonym;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of list) {
    const cl = c.toLowerCase();
    const prefix =
      Math.min(lower.length, cl.length) >= 3 && (cl.startsWith(lower) || lower.startsWith(cl));
    const d = prefix ? 1 : distance(lower, cl);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

interface Def {
  readonly type: string;
  readonly shape?: Record<string, ZodType>;
  readonly catchall?: ZodType;
  readonly innerType?: ZodType;
  readonly in?: ZodType;
  readonly element?: ZodType;
  readonly options?: readonly ZodType[];
  readonly valueType?: ZodType;
  readonly left?: ZodType;
  readonly right?: ZodType;
  readonly getter?: () => ZodType;
}

const defOf = (schema: ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** The object schemas `schema` may check a value against, wrappers removed. */
function objectShapes(schema: ZodType, depth = 0): Def[] {
  if (depth > 32) return [];
  const def = defOf(schema);
  switch (def.type) {
    case "object":
      return [def];
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "readonly":
    case "catch":
      return def.innerType ? objectShapes(def.innerType, depth + 1) : [];
    case "pipe":
      return def.in ? objectShapes(def.in, depth + 1) : [];
    case "lazy":
      return def.getter ? objectShapes(def.getter(), depth + 1) : [];
    case "union":
      return (def.options ?? []).flatMap((o) => objectShapes(o, depth + 1));
    case "intersection":
      return [def.left, def.right].flatMap((s) => (s ? objectShapes(s, depth + 1) : []));
    default:
      return [];
  }
}

/** The array element / record value schema `schema` checks members against, if any. */
function memberSchema(schema: ZodType, kind: "array" | "record", depth = 0): ZodType[] {
  if (depth > 32) return [];
  const def = defOf(schema);
  switch (def.type) {
    case "array":
      return kind === "array" && def.element ? [def.element] : [];
    case "record":
      return kind === "record" && def.valueType ? [def.valueType] : [];
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "readonly":
    case "catch":
      return def.innerType ? memberSchema(def.innerType, kind, depth + 1) : [];
    case "pipe":
      return def.in ? memberSchema(def.in, kind, depth + 1) : [];
    case "lazy":
      return def.getter ? memberSchema(def.getter(), kind, depth + 1) : [];
    case "union":
      return (def.options ?? []).flatMap((o) => memberSchema(o, kind, depth + 1));
    default:
      return [];
  }
}

function walk(
  schema: ZodType,
  value: unknown,
  path: (string | number)[],
  out: UnknownConfigKey[],
): void {
  if (Array.isArray(value)) {
    const elements = memberSchema(schema, "array");
    if (elements.length === 0) return;
    value.forEach((v, i) => {
      for (const e of elements) walk(e, v, [...path, i], out);
    });
    return;
  }
  if (!isPlainObject(value)) return;
  const shapes = objectShapes(schema);
  if (shapes.length === 0) {
    for (const r of memberSchema(schema, "record")) {
      for (const [k, v] of Object.entries(value)) walk(r, v, [...path, k], out);
    }
    return;
  }
  // An object that admits any extra key (z.looseObject, .catchall(schema)) has no unknown keys.
  const open = shapes.some((d) => d.catchall !== undefined && defOf(d.catchall).type !== "never");
  const declared = new Set(shapes.flatMap((d) => Object.keys(d.shape ?? {})));
  for (const [k, v] of Object.entries(value)) {
    if (!declared.has(k)) {
      if (!open) out.push({ path, key: k, suggestion: nearestName(k, declared) });
      continue;
    }
    for (const d of shapes) {
      const s = d.shape?.[k];
      if (s) walk(s, v, [...path, k], out);
    }
  }
}

/**
 * Lists the keys of `value`, at any depth, that `schema` does not declare (zod's plain
 * `z.object` would silently drop them). Objects that admit extra keys are not checked.
 * @param schema - a zod schema, usually an object schema
 * @param value - the configuration as given
 */
export function unknownConfigKeys(schema: ZodType, value: unknown): UnknownConfigKey[] {
  const out: UnknownConfigKey[] = [];
  walk(schema, value, [], out);
  return out;
}

/**
 * One line per unknown key: `unknown key "memory" (did you mean "ram"?)`, with its path
 * when nested (`unknown key "cma.sise" (did you mean "size"?)`).
 */
export function formatUnknownKeys(keys: readonly UnknownConfigKey[]): string {
  return keys
    .map((u) => {
      const where = [...u.path, u.key].map(String).join(".");
      const hint = u.suggestion !== undefined ? ` (did you mean "${u.suggestion}"?)` : "";
      return `unknown key "${where}"${hint}`;
    })
    .join("\n");
}

/** The outcome of {@link checkConfig}. */
export type ConfigCheck =
  | { readonly ok: true; readonly data: unknown }
  | { readonly ok: false; readonly message: string };

/**
 * Parses `value` with `schema`, refusing keys the schema does not declare: the message lists
 * every unknown key with its nearest valid name, then the schema's own issues.
 * @param schema - the configuration schema
 * @param value - the configuration as given
 */
export function checkConfig(schema: ZodType, value: unknown): ConfigCheck {
  const unknown = unknownConfigKeys(schema, value);
  const parsed = schema.safeParse(value);
  if (unknown.length === 0 && parsed.success) return { ok: true, data: parsed.data };
  const problems = unknown.length > 0 ? [formatUnknownKeys(unknown)] : [];
  if (!parsed.success) {
    // A strict schema reports the unknown keys again, without the suggestion.
    const issues = parsed.error.issues.filter((i) => i.code !== "unrecognized_keys");
    if (issues.length > 0) problems.push(z.prettifyError(new z.ZodError(issues)));
  }
  return { ok: false, message: problems.join("\n") };
}
