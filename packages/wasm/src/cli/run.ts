#!/usr/bin/env node
// dmabuf-run: boot a model kernel, run a wasm program built by dmabuf-cc in it, report findings.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createKernel, type KernelConfigInput, type PluginEntry } from "@dmabuf/core";
import { CacheModel, Camera, cacheModelOf, Scanout, Vgem } from "@dmabuf/devices";
import { CmaHeap } from "@dmabuf/heaps-cma";
import { SystemHeap, SystemUncachedHeap } from "@dmabuf/heaps-system";
import { runWasm } from "../runtime.js";

const USAGE = `usage: dmabuf-run [options] program.wasm [args...]
  --config FILE        kernel configuration (JSON: createKernel's options; "plugins" by name)
  --ram SIZE           simulated RAM (default 1GiB)
  --profile VERSION    kernel profile: 6.18 (default), 6.12, 6.6 or 6.1
  --heaps LIST         heaps to load: system,system-uncached,cma (default system)
  --devices LIST       devices to add, in probe order: scanout, vgem, camera (DRM nodes
                       /dev/dri/card0, card1, … in that order)
  --cma SIZE           size of the default CMA area (with the cma heap)
  --hugepages N        2 MiB huge pages to reserve
  --cache MODE         install the CPU cache model: checking or realistic
  --bufinfo            print /sys/kernel/debug/dma_buf/bufinfo when the program ends
  --findings-status N  exit with N when the model found a problem (default: the program's status)
  --quiet              print the program's output only`;

const PLUGINS: Readonly<Record<string, PluginEntry>> = {
  system: SystemHeap,
  "system-uncached": SystemUncachedHeap,
  cma: CmaHeap,
};

const DEVICES: Readonly<Record<string, PluginEntry>> = {
  scanout: Scanout,
  vgem: Vgem,
  camera: Camera,
};

function kernelConfig(values: Record<string, string | boolean | undefined>): KernelConfigInput {
  const file = values.config
    ? (JSON.parse(readFileSync(values.config as string, "utf8")) as Record<string, unknown>)
    : {};
  const names = values.heaps
    ? (values.heaps as string).split(",")
    : ((file.plugins as string[] | undefined) ?? ["system"]);
  const plugins: PluginEntry[] = names.map((n) => {
    const p = PLUGINS[n];
    if (!p) throw new Error(`unknown heap "${n}" (known: ${Object.keys(PLUGINS).join(", ")})`);
    return p;
  });
  for (const n of values.devices ? (values.devices as string).split(",") : []) {
    const d = DEVICES[n];
    if (!d) throw new Error(`unknown device "${n}" (known: ${Object.keys(DEVICES).join(", ")})`);
    plugins.push(d);
  }
  if (values.cache) plugins.push({ plugin: CacheModel, config: { mode: values.cache } });
  const config: Record<string, unknown> = { ...file, plugins };
  if (values.ram) config.ram = values.ram;
  if (values.profile) config.profile = values.profile;
  if (values.hugepages) config.hugepages = Number(values.hugepages);
  if (values.cma) config.cma = { size: values.cma };
  else if (names.includes("cma") && !file.cma) config.cma = { size: "64MiB" };
  return config as KernelConfigInput;
}

function main(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: "string" },
        ram: { type: "string" },
        profile: { type: "string" },
        heaps: { type: "string" },
        devices: { type: "string" },
        cma: { type: "string" },
        hugepages: { type: "string" },
        cache: { type: "string" },
        bufinfo: { type: "boolean", default: false },
        "findings-status": { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  }
  // Options stop at the program: everything after it is the program's.
  const at = argv.findIndex((a) => a.endsWith(".wasm"));
  const ours = at < 0 ? argv : argv.slice(0, at + 1);
  const theirs = at < 0 ? [] : argv.slice(at + 1);
  try {
    parsed = (() => {
      argv = ours;
      return parse();
    })();
  } catch (e) {
    process.stderr.write(`dmabuf-run: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const program = positionals[0];
  if (!program) {
    process.stderr.write(`dmabuf-run: no program\n${USAGE}\n`);
    return 2;
  }
  let wasm: Uint8Array;
  try {
    wasm = new Uint8Array(readFileSync(program));
  } catch (e) {
    process.stderr.write(`dmabuf-run: ${program}: ${(e as NodeJS.ErrnoException).code ?? e}\n`);
    return 1;
  }
  let kernel: ReturnType<typeof createKernel>;
  try {
    kernel = createKernel(kernelConfig(values));
  } catch (e) {
    process.stderr.write(`dmabuf-run: ${(e as Error).message}\n`);
    return 2;
  }
  const logFrom = kernel.log.records.length;
  const openAtExit: string[] = [];
  let bufinfo = "";
  const result = runWasm(kernel, wasm, {
    argv0: program.replace(/^.*\//, "").replace(/\.wasm$/, ""),
    args: theirs,
    onOutput: (fd, text) => (fd === 1 ? process.stdout : process.stderr).write(text),
    beforeExit: (proc) => {
      for (const fd of proc.fds()) {
        if (fd > 2) openAtExit.push(`fd ${fd} → ${proc.readlink(`/proc/self/fd/${fd}`)}`);
      }
      if (values.bufinfo) bufinfo = proc.readFile("/sys/kernel/debug/dma_buf/bufinfo");
    },
  });
  const violations = cacheModelOf(kernel)?.checker.violations ?? [];
  const warnings = kernel.log.records.slice(logFrom).filter((r) => r.level === "warn");
  const findings = violations.length + warnings.length;
  if (!values.quiet) {
    const out: string[] = [`== dmabuf-run: ${program} exited with status ${result.exitCode}`];
    if (result.signal) out.push(`   killed by ${result.signal}`);
    out.push(
      violations.length === 0
        ? "== coherency: no violations"
        : `== coherency: ${violations.length} violation(s)\n${violations.map((v) => `   ${v.message}`).join("\n")}`,
    );
    out.push(
      warnings.length === 0
        ? "== kernel warnings: none"
        : `== kernel warnings:\n${warnings.map((w) => `   ${w.text}`).join("\n")}`,
    );
    out.push(
      openAtExit.length === 0
        ? "== open at exit: nothing"
        : `== open at exit (closed by exit):\n${openAtExit.map((l) => `   ${l}`).join("\n")}`,
    );
    if (values.bufinfo) out.push(`== bufinfo at exit:\n${bufinfo}`);
    process.stderr.write(`${out.join("\n")}\n`);
  }
  if (findings > 0 && values["findings-status"] !== undefined) {
    return Number(values["findings-status"]);
  }
  return result.exitCode;
}

process.exitCode = main(process.argv.slice(2));
