// dmabuf-cc: C sources → an instrumented wasm32-wasi module, with the registry's clang and binaryen.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { linuxAbiHeader, strerrorTable } from "./abi.js";
import { instrumentMemory } from "./instrument.js";
import { uapiHeaders } from "./uapi-headers.js";

/** A directory tree of files, as the in-memory compiler sees it. */
export interface SourceTree {
  [name: string]: SourceTree | string | Uint8Array;
}

/** What {@link compileC} builds. */
export interface CompileOptions {
  /** The program's files, by relative path (directories as nested trees). */
  readonly files: SourceTree;
  /** Paths (in `files`) of the translation units to compile and link. */
  readonly sources: readonly string[];
  /** Extra include directories (paths in `files`), searched before the system's. */
  readonly includeDirs?: readonly string[];
  /** Preprocessor definitions (`NAME` or `NAME=value`). */
  readonly defines?: readonly string[];
  /** Further clang flags (e.g. `-O0`, `-g`, `-Wall`). Default `-O2`. */
  readonly flags?: readonly string[];
  /** The model's page size the shim reports. Default 4096. */
  readonly pageSize?: number;
  /**
   * Rewrite every load and store into calls the runtime intercepts (default true). Without it
   * accesses to mapped memory never reach the model: only useful to measure hook cost.
   */
  readonly instrument?: boolean;
  /**
   * A directory where modules are kept by a hash of everything that went into them (sources,
   * flags, shim, toolchain versions): compiling the same thing again is a file read.
   */
  readonly cacheDir?: string;
}

/** A compiler diagnostic turned into an error: `stderr` holds clang's messages. */
export class CompileError extends Error {
  /** Stable code. */
  readonly code = "DMABUF_CC_FAILED";
  /**
   * @param message - what failed
   * @param stderr - the compiler's output
   */
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(`${message}\n${stderr}`);
    this.name = "CompileError";
  }
}

const SHIM_DIR = "__dmabuf";

function lookup(
  tree: SourceTree,
  parts: readonly string[],
): SourceTree | string | Uint8Array | undefined {
  let node: SourceTree | string | Uint8Array | undefined = tree;
  for (const p of parts) {
    if (node === undefined || typeof node === "string" || node instanceof Uint8Array)
      return undefined;
    node = node[p];
  }
  return node;
}

/**
 * The in-memory file system the compiler runs on resolves no `.` or `..` path segments, which
 * C sources use in quoted includes (`#include "../kselftest.h"`). Such an include is rewritten
 * to the absolute path it names, exactly as a host file system would resolve it; includes that
 * name nothing in the tree are left for the include path to find.
 */
function resolveDotIncludes(
  tree: SourceTree,
  root: SourceTree = tree,
  dir: string[] = [],
): SourceTree {
  const out: SourceTree = {};
  for (const [name, node] of Object.entries(tree)) {
    if (typeof node === "string") {
      out[name] = node.replace(
        /^(\s*#\s*include\s*)"([^"]*)"/gm,
        (whole, head: string, path: string) => {
          if (!/(^|\/)\.\.?\//.test(path)) return whole;
          const parts = [...dir];
          for (const seg of path.split("/")) {
            if (seg === "..") parts.pop();
            else if (seg !== "." && seg !== "") parts.push(seg);
          }
          return typeof lookup(root, parts) === "string" ? `${head}"/${parts.join("/")}"` : whole;
        },
      );
    } else if (node instanceof Uint8Array) out[name] = node;
    else out[name] = resolveDotIncludes(node, root, [...dir, name]);
  }
  return out;
}

/** The shim's C sources shipped with this package (`c/`). */
function shimSources(): { header: string; source: string } {
  const here = dirname(fileURLToPath(import.meta.url));
  const c = join(here, "..", "c");
  return {
    header: readFileSync(join(c, "dmabuf_shim.h"), "utf8"),
    source: readFileSync(join(c, "dmabuf_shim.c"), "utf8"),
  };
}

/**
 * Compiles and links C sources into a wasm32-wasi module whose Linux calls reach the model:
 * the shim header is force-included, its library linked, and (by default) every memory access
 * instrumented. Runs clang and wasm-ld from the `@yowasp/clang` package (no system toolchain).
 * @returns the module's bytes
 * @throws CompileError with clang's diagnostics when compiling or linking fails.
 */
export async function compileC(options: CompileOptions): Promise<Uint8Array> {
  // runClang (the driver wrapper that runs cc1 and wasm-ld in turn) is exported but not typed.
  const { runClang } = (await import("@yowasp/clang")) as unknown as {
    runClang: typeof import("@yowasp/clang")["runLLVM"];
  };
  const shim = shimSources();
  const tree: SourceTree = {
    ...resolveDotIncludes(options.files),
    [SHIM_DIR]: {
      "dmabuf_shim.h": shim.header,
      "dmabuf_shim.c": shim.source,
      "dmabuf_linux_abi.h": linuxAbiHeader(options.pageSize ?? 4096),
      "dmabuf_strerror.inc": strerrorTable(),
      include: uapiHeaders(),
    },
  };
  const out = "__dmabuf_out.wasm";
  const instrument = options.instrument !== false;
  const args = [
    "clang",
    "--target=wasm32-wasip1",
    ...(options.flags ?? ["-O2"]),
    "-include",
    `${SHIM_DIR}/dmabuf_shim.h`,
    `-I${SHIM_DIR}`,
    ...(options.includeDirs ?? []).map((d) => `-I${d}`),
    // Our uapi headers come after the program's include path (a kernel tree given with -I wins).
    "-idirafter",
    `${SHIM_DIR}/include`,
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...options.sources,
    `${SHIM_DIR}/dmabuf_shim.c`,
    "-o",
    out,
  ];
  const cached = options.cacheDir
    ? join(options.cacheDir, `${cacheKey(tree, args, instrument)}.wasm`)
    : undefined;
  if (cached && existsSync(cached)) return new Uint8Array(readFileSync(cached));
  let stderr = "";
  const decoder = new TextDecoder();
  const collect = (bytes: Uint8Array | null) => {
    if (bytes) stderr += decoder.decode(bytes, { stream: true });
  };
  let result: SourceTree | undefined;
  try {
    result = (await runClang(args, tree, {
      stdout: collect,
      stderr: collect,
      fetchProgress: () => {},
    })) as SourceTree | undefined;
  } catch (e) {
    throw new CompileError(`clang failed: ${(e as Error).message}`, stderr);
  }
  const wasm = result?.[out];
  if (!(wasm instanceof Uint8Array)) throw new CompileError("clang produced no module", stderr);
  const module = instrument ? await instrumentMemory(wasm) : wasm;
  if (cached && options.cacheDir) {
    mkdirSync(options.cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, module);
    renameSync(tmp, cached);
  }
  return module;
}

/** The toolchain's identity: a cache entry is valid only for the same clang and binaryen. */
const TOOLCHAIN =
  "yowasp-clang 21.1.4-3; binaryen 132.0.0; llvm-memory-copy-fill-lowering,instrument-memory";

function cacheKey(tree: SourceTree, args: readonly string[], instrument: boolean): string {
  const h = createHash("sha256");
  h.update(`${TOOLCHAIN}\0${instrument}\0${args.join("\0")}\0`);
  const walk = (t: SourceTree, prefix: string) => {
    for (const name of Object.keys(t).sort()) {
      const node = t[name] as SourceTree | string | Uint8Array;
      if (typeof node === "string" || node instanceof Uint8Array) {
        h.update(`${prefix}${name}\0`);
        h.update(node);
        h.update("\0");
      } else walk(node, `${prefix}${name}/`);
    }
  };
  walk(tree, "");
  return h.digest("hex");
}
