// The built packages run as their esbuild bundles: one module per entry, zod inlined, other packages external, source maps back to TypeScript.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const PACKAGES = [
  "core",
  "devices",
  "heaps-system",
  "heaps-cma",
  "testing",
  "wasm",
  "create-plugin",
];
const built = PACKAGES.every((p) =>
  existsSync(join(root, "packages", p, "dist/bundle-state.json")),
);

interface Manifest {
  name: string;
  bin?: Record<string, string>;
  exports: Record<string, string | { default?: string; types?: string }>;
  files: string[];
}
interface Metafile {
  outputs: Record<
    string,
    {
      imports: { path: string; external?: boolean }[];
      inputs: Record<string, { bytesInOutput: number }>;
    }
  >;
}

const manifest = (p: string) =>
  JSON.parse(readFileSync(join(root, "packages", p, "package.json"), "utf8")) as Manifest;
const metafile = (p: string) =>
  JSON.parse(readFileSync(join(root, "packages", p, "dist/bundle-meta.json"), "utf8")) as Metafile;

/** Runs an ES module script with node from `packages/testing` (where @dmabuf/core and zod resolve). */
function node(script: string, flags: string[] = []) {
  return spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], {
    cwd: join(root, "packages/testing"),
    encoding: "utf8",
  });
}

describe.skipIf(!built)("bundled packages (after pnpm build)", () => {
  it("every export and bin of every package is a bundle, and each loads in a fresh node", () => {
    const files: string[] = [];
    for (const p of PACKAGES) {
      const m = manifest(p);
      const targets = [
        ...Object.entries(m.exports)
          .filter(([k]) => k !== "./package.json")
          .map(([, v]) => (typeof v === "string" ? v : v.default)),
        ...Object.values(m.bin ?? {}),
      ];
      for (const t of targets) {
        expect(t, `${m.name} ${t}`).toMatch(/^\.\/dist\/[a-z-]+\.bundle\.js$/);
        files.push(join(root, "packages", p, t as string));
      }
      expect(m.files).not.toContain("dist/**/*.js");
    }
    // Bins are loaded as modules too: each prints its usage for --help and exits.
    const entries = files.filter((f) => !/(cli|cli-cc|cli-run)\.bundle\.js$/.test(f));
    const r = node(
      `for (const f of ${JSON.stringify(entries)}) { const m = await import(f); if (Object.keys(m).length === 0) throw new Error(f + " exports nothing"); }\nconsole.log("ok");`,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("ok\n");
    for (const bin of files.filter((f) => !entries.includes(f))) {
      const b = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
      expect(b.status, `${bin}: ${b.stderr}`).toBe(0);
      expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    }
  });

  it("each bundle holds its own package and zod only (no locale but en); other packages stay imports", () => {
    for (const p of PACKAGES) {
      const meta = metafile(p);
      const kept = new Set<string>();
      const external = new Set<string>();
      for (const o of Object.values(meta.outputs)) {
        for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
          if (bytesInOutput > 0) kept.add(input);
        }
        for (const i of o.imports) if (i.external) external.add(i.path);
      }
      for (const input of kept) {
        const ok =
          input.startsWith("dist/") ||
          /node_modules\/zod\/(?!.*\/locales\/(?!en\.js$))/.test(input);
        expect(ok, `@dmabuf/${p} inlines ${input}`).toBe(true);
      }
      expect([...external].filter((e) => e === "zod" || e.startsWith("zod/"))).toEqual([]);
      if (p !== "core" && p !== "create-plugin") expect(external).toContain("@dmabuf/core");
    }
    const inlinedZod = (p: string) =>
      Object.values(metafile(p).outputs).some((o) =>
        Object.entries(o.inputs).some(
          ([i, v]) => i.includes("node_modules/zod/") && v.bytesInOutput > 0,
        ),
      );
    expect(inlinedZod("core")).toBe(true);
    const externals = (p: string) =>
      Object.values(metafile(p).outputs).flatMap((o) =>
        o.imports.filter((i) => i.external).map((i) => i.path),
      );
    // One tsyringe container and one reflect-metadata for every package, one vitest.
    for (const shared of ["tsyringe", "reflect-metadata"])
      expect(externals("core")).toContain(shared);
    for (const shared of ["vitest", "@dmabuf/core", "@dmabuf/heaps-system"]) {
      expect(externals("testing")).toContain(shared);
    }
  });

  it("bins that find files next to their module still do: the starter's templates, the wasm shim", () => {
    const scratch = mkdtempSync(join(tmpdir(), "dmabuf-bundles-"));
    try {
      const create = join(root, "packages/create-plugin/dist/cli.bundle.js");
      const s = spawnSync(process.execPath, [create, join(scratch, "h"), "--kind", "heap"], {
        encoding: "utf8",
      });
      expect(s.status, s.stderr).toBe(0);
      expect(readFileSync(join(scratch, "h/src/plugin.ts"), "utf8")).toContain("@heap(");
      writeFileSync(
        join(scratch, "t.c"),
        "#include <linux/dma-heap.h>\nint main(void) { return DMA_HEAP_IOCTL_ALLOC ? 0 : 1; }\n",
      );
      const cc = join(root, "packages/wasm/dist/cli-cc.bundle.js");
      const c = spawnSync(
        process.execPath,
        [cc, "-o", join(scratch, "t.wasm"), join(scratch, "t.c")],
        {
          encoding: "utf8",
        },
      );
      expect(c.status, c.stderr).toBe(0);
      expect(readFileSync(join(scratch, "t.wasm")).subarray(0, 4)).toEqual(Buffer.from("\0asm"));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);

  // A plugin author's schema comes from their own zod; core's zod is the bundle's inlined copy.
  const CONFIGURED = `
import { createKernel, heap, KernelError } from "@dmabuf/core";
import * as z from "zod";
const schema = z.object({ sizeMiB: z.number().int().positive().default(4), label: z.string().default("dflt") });
class Configured { constructor(_host, config) { this.config = config; } allocate() { throw new Error("unused"); } }
heap({ name: "configured", configSchema: schema })(Configured);
const boot = (config) => createKernel({ ram: "16MiB", plugins: [{ plugin: Configured, config }] });
`;

  it("a plugin's config schema from another zod copy is checked by the bundled core", () => {
    const r = node(`${CONFIGURED}
console.log(JSON.stringify(boot({ sizeMiB: 8 }).plugin(Configured).config));
for (const bad of [{ sizeMB: 8 }, { sizeMiB: -1, label: 7 }]) {
  try { boot(bad); console.log("booted"); }
  catch (e) { console.log(e instanceof KernelError, e.code, JSON.stringify(e.message)); }
}`);
    expect(r.stderr).toBe("");
    const [ok, typo, invalid] = r.stdout.trim().split("\n");
    expect(JSON.parse(ok as string)).toEqual({ sizeMiB: 8, label: "dflt" });
    expect(typo).toMatch(/^true EINVAL ".*sizeMB.*sizeMiB/);
    expect(invalid).toMatch(/^true EINVAL ".*→ at sizeMiB.*→ at label/);
  });

  it("under --enable-source-maps a throw inside the core bundle names the TypeScript file and line", () => {
    const r = node(
      `${CONFIGURED}
try { boot({ sizeMiB: -1 }); } catch (e) { console.log(e.stack); }`,
      ["--enable-source-maps"],
    );
    expect(r.stderr).toBe("");
    const frames = r.stdout.split("\n").filter((l) => l.trim().startsWith("at "));
    const top = frames.find((l) => l.includes("parsePluginConfig"));
    const at = /\((.*packages\/core\/src\/plugin\/plugin-config\.ts):(\d+):\d+\)$/.exec(top ?? "");
    expect(at, r.stdout).not.toBeNull();
    const line = readFileSync(at?.[1] as string, "utf8").split("\n")[Number(at?.[2]) - 1];
    expect(line).toContain('throw new KernelError("EINVAL", "register_plugin"');
    expect(frames.some((l) => l.includes("bundle.js"))).toBe(false);
  });

  it("the source maps carry the TypeScript text, so a packed tarball (no src/) maps too", () => {
    const map = JSON.parse(
      readFileSync(join(root, "packages/core/dist/index.bundle.js.map"), "utf8"),
    ) as { sources: string[]; sourcesContent: (string | null)[] };
    const i = map.sources.indexOf("../src/plugin/plugin-config.ts");
    expect(i).toBeGreaterThanOrEqual(0);
    expect(map.sourcesContent[i]).toBe(
      readFileSync(join(root, "packages/core/src/plugin/plugin-config.ts"), "utf8"),
    );
  });
});
