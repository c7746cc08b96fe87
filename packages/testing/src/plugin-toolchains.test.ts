// Plugins compiled the ways authors compile them: TC39 decorators, legacy decorators without
// emitted metadata, and host types imported with `import type`; each boots and certifies.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  allocFromHeap,
  createKernel,
  type DeviceHost,
  type DmaHeapOps,
  type PluginClass,
} from "@dmabuf/core";
import { MAP_SHARED, PROT_READ, PROT_WRITE } from "@dmabuf/core/uapi";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { runHeapConformance } from "./conformance/heap/suite.js";

const coreEntry = fileURLToPath(new URL("../../core/src/index.ts", import.meta.url));
const referenceSource = readFileSync(
  fileURLToPath(new URL("./reference/reference-heap.ts", import.meta.url)),
  "utf8",
);

/** A device and an exporter plugin, written as an author would, host types imported as types. */
const devicePluginSource = `
import { device, exporter } from "@dmabuf/core";
import type { DeviceHost, ExporterHost } from "@dmabuf/core";

@device({ name: "probe-dev" })
export class ProbeDevice {
  probed = 0;
  constructor(readonly host: DeviceHost, readonly config: unknown) {}
  probe(): void {
    this.probed++;
  }
}

@exporter({ name: "noop-exporter" })
export class NoopExporter {
  constructor(readonly host: ExporterHost) {}
  mapDmaBuf(): null { return null; }
  unmapDmaBuf(): void {}
  release(): void {}
}
`;

/** How a plugin author's project compiles: the decorator-related compiler settings. */
interface Mode {
  readonly name: string;
  readonly options: ts.CompilerOptions;
  /** Rewrites the source the way the mode's lint rules would (e.g. `import type`). */
  readonly rewrite?: (source: string) => string;
}

const base: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  useDefineForClassFields: true,
  verbatimModuleSyntax: false,
  isolatedModules: true,
};

/** The reference heap's value import, with every type-only name split into `import type`. */
function splitTypeImports(source: string): string {
  const m = /import \{([^}]*)\} from "@dmabuf\/core";/.exec(source);
  if (!m?.[1])
    throw new Error("the reference heap no longer imports @dmabuf/core in one statement");
  const names = m[1]
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const types = names.filter((n) => n.startsWith("type ")).map((n) => n.slice(5));
  const values = names.filter((n) => !n.startsWith("type "));
  return source.replace(
    m[0],
    `import { ${values.join(", ")} } from "@dmabuf/core";\n` +
      `import type { ${types.join(", ")} } from "@dmabuf/core";`,
  );
}

const modes: readonly Mode[] = [
  {
    name: "TC39 standard decorators (no experimentalDecorators, no metadata)",
    options: { ...base, experimentalDecorators: false, emitDecoratorMetadata: false },
  },
  {
    name: "legacy decorators without emitDecoratorMetadata",
    options: { ...base, experimentalDecorators: true, emitDecoratorMetadata: false },
  },
  {
    name: "legacy decorators with metadata, host types from `import type`",
    options: { ...base, experimentalDecorators: true, emitDecoratorMetadata: true },
    rewrite: splitTypeImports,
  },
  {
    name: "TC39 standard decorators, host types from `import type`",
    options: { ...base, experimentalDecorators: false, emitDecoratorMetadata: false },
    rewrite: splitTypeImports,
  },
];

const dir = mkdtempSync(join(tmpdir(), "dmabuf-plugin-toolchains-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Compiles `source` in `mode`, writes it outside the repository, and imports it. */
async function compileAndImport(
  source: string,
  mode: Mode,
): Promise<{ js: string; mod: Record<string, unknown> }> {
  const out = ts.transpileModule(mode.rewrite ? mode.rewrite(source) : source, {
    compilerOptions: mode.options,
    fileName: "plugin.ts",
    reportDiagnostics: true,
  });
  expect(out.diagnostics ?? []).toEqual([]);
  const js = out.outputText.replaceAll('"@dmabuf/core"', JSON.stringify(coreEntry));
  const file = join(dir, `plugin-${counter++}.mjs`);
  writeFileSync(file, js);
  const mod = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
  return { js, mod };
}

describe("plugins compiled with the toolchains authors use", () => {
  for (const mode of modes) {
    describe(mode.name, () => {
      it("the reference heap boots, allocates, maps, and passes the heap suite", async () => {
        const { js, mod } = await compileAndImport(referenceSource, mode);
        // The compiled output really is what the mode says.
        if (mode.options.experimentalDecorators) {
          expect(js).toContain("__decorate(");
          expect(js.includes("design:paramtypes")).toBe(mode.options.emitDecoratorMetadata);
        } else {
          expect(js).toContain("__esDecorate(");
          expect(js).not.toContain("design:paramtypes");
        }
        const Heap = mod.ReferenceHeap as PluginClass<DmaHeapOps>;
        const kernel = createKernel({ ram: "64MiB", plugins: [Heap] });
        const proc = kernel.spawn();
        const fd = allocFromHeap(proc, "pages", 3 * 4096);
        const map = proc.mmap(fd, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
        map.write(4096, Uint8Array.of(7, 8, 9));
        expect([...map.read(4096, 4)]).toEqual([7, 8, 9, 0]);
        const [report] = runHeapConformance({ plugin: Heap });
        expect(report?.results.filter((r) => r.status === "failed").map((r) => r.id)).toEqual([]);
        expect(report?.passed).toBeGreaterThan(20);
      });

      it("a device gets its DeviceHost and config; an exporter its host", async () => {
        const { mod } = await compileAndImport(devicePluginSource, mode);
        const Dev = mod.ProbeDevice as PluginClass<{
          host: DeviceHost;
          config: unknown;
          probed: number;
        }>;
        const Exp = mod.NoopExporter as PluginClass<{ host: object }>;
        const kernel = createKernel({
          ram: "16MiB",
          plugins: [{ plugin: Dev, config: { lanes: 2 } }, Exp],
        });
        const dev = kernel.plugin(Dev);
        expect(dev.probed).toBe(1);
        expect(dev.config).toEqual({ lanes: 2 });
        expect(typeof dev.host.installCpuCache).toBe("function");
        expect(dev.host.processes()).toBe(kernel.processes());
        expect(Object.isFrozen(kernel.plugin(Exp).host)).toBe(true);
      });
    });
  }
});
