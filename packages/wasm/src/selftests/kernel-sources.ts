// The kernel's own selftests, obtained at test time from Debian's linux-source package.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SourceTree } from "../compile.js";

/** Where a linux-source tarball was found, and its Debian version. */
export interface KernelSource {
  /** The extracted tree's root (`…/linux-source-6.12`). */
  readonly root: string;
  /** `dpkg-query` version of the package, e.g. `6.12.118-1~deb12u1`. */
  readonly version: string;
}

/** Paths of the tarball that the selftests need (never committed: GPL-2.0). */
const NEEDED = [
  "tools/testing/selftests/kselftest.h",
  "tools/testing/selftests/dmabuf-heaps",
  "tools/testing/selftests/drivers/dma-buf",
  "tools/testing/selftests/sync",
  "include/uapi",
];

/**
 * Finds `/usr/src/linux-source-<series>.tar.xz` (Debian's `linux-source-<series>` package) and
 * extracts the selftest files and uapi headers into `cacheDir/<version>/` once.
 * @returns the extracted tree, or a reason it is not available
 */
export function obtainKernelSource(
  series: string,
  cacheDir: string,
): KernelSource | { missing: string } {
  const tarball = `/usr/src/linux-source-${series}.tar.xz`;
  if (!existsSync(tarball)) {
    return { missing: `${tarball} not found (apt-get install linux-source-${series})` };
  }
  let version = "unknown";
  try {
    version = execFileSync("dpkg-query", ["-W", "-f=$" + "{Version}", `linux-source-${series}`], {
      encoding: "utf8",
    }).trim();
  } catch {
    // not a dpkg system: key the cache on the tarball's size instead
    version = `size-${statSync(tarball).size}`;
  }
  const dir = join(cacheDir, version);
  const root = join(dir, `linux-source-${series}`);
  const stamp = join(dir, ".complete");
  if (!existsSync(stamp)) {
    mkdirSync(dir, { recursive: true });
    execFileSync("tar", [
      "-xJf",
      tarball,
      "-C",
      dir,
      ...NEEDED.map((p) => `linux-source-${series}/${p}`),
    ]);
    execFileSync("touch", [stamp]);
  }
  return { root, version };
}

function readTree(dir: string, transform: (text: string) => string = (t) => t): SourceTree {
  const tree: SourceTree = {};
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    tree[name] = statSync(p).isDirectory()
      ? readTree(p, transform)
      : transform(readFileSync(p, "utf8"));
  }
  return tree;
}

/**
 * What `make headers_install` does to a uapi header, written for this project: kernel-only
 * annotations go, the compiler-internals includes go, `__packed` becomes the attribute it
 * stands for and `_UAPI` include guards lose their prefix. (`__KERNEL__` stays undefined and
 * `__EXPORTED_HEADERS__` is defined on the command line, see {@link UAPI_DEFINES}.)
 */
export function installUapiHeader(text: string): string {
  return text
    .replace(/([\s(*])(__user|__force|__iomem)(?=[\s*)])/g, "$1")
    .replace(/__attribute_const__/g, "")
    .replace(/^#include <linux\/compiler(_types)?\.h>.*$/gm, "")
    .replace(/(^|[^A-Za-z0-9_])__packed(?![A-Za-z0-9_])/g, "$1__attribute__((packed))")
    .replace(/^#(ifndef|define|endif\s*\/\*)\s*_UAPI/gm, "#$1 ");
}

/**
 * The kernel's uapi headers as the compiler's include tree: `linux/`, `asm-generic/`, `drm/`
 * and an `asm/` that forwards to `asm-generic/` (wasm32 has no arch directory). `__user` and
 * friends are defined away on the command line, as headers_install would strip them.
 */
export function uapiIncludeTree(source: KernelSource): SourceTree {
  const uapi = join(source.root, "include/uapi");
  const generic = readTree(join(uapi, "asm-generic"), installUapiHeader);
  const asm: SourceTree = {};
  for (const name of Object.keys(generic)) {
    asm[name] = `#include <asm-generic/${name}>\n`;
  }
  return {
    linux: readTree(join(uapi, "linux"), installUapiHeader),
    "asm-generic": generic,
    asm,
    drm: readTree(join(uapi, "drm"), installUapiHeader),
  };
}

/** Defines that stand in for what headers_install removes from uapi headers. */
export const UAPI_DEFINES: readonly string[] = ["__EXPORTED_HEADERS__"];

/** A selftest directory as a source tree (the program and its local headers). */
export function selftestTree(source: KernelSource): SourceTree {
  const st = join(source.root, "tools/testing/selftests");
  return {
    "kselftest.h": readFileSync(join(st, "kselftest.h"), "utf8"),
    "dmabuf-heaps": readTree(join(st, "dmabuf-heaps")),
    drivers: { "dma-buf": readTree(join(st, "drivers/dma-buf")) },
    sync: readTree(join(st, "sync")),
  };
}
