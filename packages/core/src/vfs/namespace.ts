// The file-system namespace: directories, pseudo files (procfs, sysfs, debugfs) and device nodes.

import { KernelError } from "../errors/kernel-error.js";
import type { FileOperations } from "./file.js";
import type { Credentials } from "./open.js";
import { MAY_EXEC, mayAccess } from "./permission.js";
import type { TextBytes } from "./text-bytes.js";

/** A directory: its entries may be fixed or computed from live state on every lookup. */
export interface DirNode {
  /** Node kind. */
  readonly kind: "dir";
  /** Permission bits. */
  readonly mode: number;
  /** Owner; default 0 (root). */
  readonly uid?: number;
  /** Group; default 0. */
  readonly gid?: number;
  /** An extra access check after the mode bits (see `Guarded.mayAccess`). **Optional**. */
  mayAccess?(cred: Credentials): boolean;
  /** Entry names, in the order readdir() returns them. */
  list(): string[];
  /** The entry called `name`, if it exists now. */
  lookup(name: string): Node | undefined;
}

/** A pseudo file whose text is rendered from live state when it is opened. */
export interface TextNode {
  /** Node kind. */
  readonly kind: "file";
  /** Permission bits. */
  readonly mode: number;
  /** Owner; default 0 (root). */
  readonly uid?: number;
  /** Group; default 0. */
  readonly gid?: number;
  /** An extra access check after the mode bits (see `Guarded.mayAccess`). **Optional**. */
  mayAccess?(cred: Credentials): boolean;
  /** Produces the file's current content (strings as UTF-8, byte arrays verbatim). */
  render(): TextBytes;
}

/** A character device node such as /dev/dma_heap/system. */
export interface DeviceNode {
  /** Node kind. */
  readonly kind: "chr";
  /** Permission bits. */
  readonly mode: number;
  /** Owner. */
  readonly uid: number;
  /** Group. */
  readonly gid: number;
  /** Inode number of the node (on devtmpfs). */
  readonly ino: number;
  /** Device number, [major, minor]. */
  readonly rdev: readonly [number, number];
  /** The driver's file methods. */
  readonly fops: FileOperations;
  /** Whether the driver opens the device non-seekable (`nonseekable_open`). */
  readonly nonseekable: boolean;
  /** Driver-private data for `file.privateData`. */
  readonly privateData: unknown;
}

/**
 * A regular pseudo file with driver methods (`debugfs_create_file` with fops), such as
 * /sys/kernel/debug/sync/sw_sync: fstat shows a regular file of size 0.
 */
export interface RegularNode {
  /** Node kind. */
  readonly kind: "reg";
  /** Permission bits. */
  readonly mode: number;
  /** The driver's file methods. */
  readonly fops: FileOperations;
  /**
   * The driver's open method. Called by open() after the permission check, before the file
   * exists. **Optional**.
   * @returns the new file's `privateData`
   * @throws KernelError to fail the open.
   */
  open?(opener: Credentials): unknown;
}

/** A symbolic link whose target is computed when read. */
export interface LinkNode {
  /** Node kind. */
  readonly kind: "link";
  /** The link's target. */
  target(): string;
}

/** Anything a path can name. */
export type Node = DirNode | TextNode | DeviceNode | RegularNode | LinkNode;

/** A directory with fixed entries plus, optionally, entries computed by a callback. */
export class StaticDir implements DirNode {
  /** Node kind. */
  readonly kind = "dir";
  readonly #entries = new Map<string, Node>();

  /**
   * @param mode - permission bits
   * @param dynamic - entries computed from live state, listed after the fixed ones
   */
  constructor(
    readonly mode = 0o755,
    private readonly dynamic?: { list(): string[]; lookup(name: string): Node | undefined },
  ) {}

  /** Adds (or replaces) a fixed entry. */
  set(name: string, node: Node): void {
    this.#entries.set(name, node);
  }
  /** Removes a fixed entry. */
  remove(name: string): void {
    this.#entries.delete(name);
  }
  /** {@inheritDoc DirNode.list} */
  list(): string[] {
    return [...this.#entries.keys(), ...(this.dynamic?.list() ?? [])];
  }
  /** {@inheritDoc DirNode.lookup} */
  lookup(name: string): Node | undefined {
    return this.#entries.get(name) ?? this.dynamic?.lookup(name);
  }
}

/** A directory whose entries are all computed from live state. */
export function dynamicDir(
  list: () => string[],
  lookup: (name: string) => Node | undefined,
  mode = 0o555,
  owner: Pick<DirNode, "uid" | "gid" | "mayAccess"> = {},
): DirNode {
  return { kind: "dir", mode, list, lookup, ...owner };
}

/** A read-only pseudo file rendered by `render`. */
export function textFile(
  render: () => TextBytes,
  mode = 0o444,
  owner: Pick<TextNode, "uid" | "gid" | "mayAccess"> = {},
): TextNode {
  return { kind: "file", mode, render, ...owner };
}

/** A symbolic link. */
export function symlink(target: () => string): LinkNode {
  return { kind: "link", target };
}

/** The tree of every path the kernel serves. */
export class Namespace {
  /** The root directory. */
  readonly root = new StaticDir(0o755);

  /**
   * Resolves an absolute path. Symbolic links in the middle of a path are always followed;
   * a final one only with `follow` (the default). With `cred`, every directory searched must
   * grant it search (x) permission, as path walk checks.
   * @throws KernelError ENOENT if a component is missing or the path is empty, ENOTDIR if a
   * non-directory is traversed or named with a trailing slash, EACCES when a directory may not
   * be searched, ELOOP after 40 links, EINVAL for a relative path.
   */
  resolve(
    path: string,
    syscall: string,
    options: { follow?: boolean; cred?: Credentials } = {},
  ): Node {
    if (path === "") throw new KernelError("ENOENT", syscall, "empty path");
    if (!path.startsWith("/")) throw new KernelError("EINVAL", syscall, "relative path");
    // A trailing slash names a directory: the last link is followed and a non-directory is
    // ENOTDIR.
    const mustBeDir = /\/\.?$/.test(path) && path !== "/";
    const follow = (options.follow ?? true) || mustBeDir;
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    let node: Node = this.root;
    let stack: DirNode[] = [];
    let links = 0;
    while (parts.length > 0) {
      const part = parts.shift() as string;
      if (node.kind !== "dir") throw new KernelError("ENOTDIR", syscall, path);
      if (options.cred) mayAccess(options.cred, node, MAY_EXEC, syscall);
      if (part === "..") {
        node = stack.pop() ?? this.root;
        continue;
      }
      const next: Node | undefined = node.lookup(part);
      if (!next) throw new KernelError("ENOENT", syscall, path);
      if (next.kind === "link" && (parts.length > 0 || follow)) {
        if (++links > 40) throw new KernelError("ELOOP", syscall, path);
        const target = next.target();
        parts.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
        if (target.startsWith("/")) {
          node = this.root;
          stack = [];
        }
        continue;
      }
      stack.push(node);
      node = next;
    }
    if (mustBeDir && node.kind !== "dir") throw new KernelError("ENOTDIR", syscall, path);
    return node;
  }

  /** Creates the directories of `path` as needed and returns the last one. */
  mkdirp(path: string): StaticDir {
    let dir = this.root;
    for (const part of path.split("/").filter((p) => p !== "")) {
      const next = dir.lookup(part);
      if (next instanceof StaticDir) dir = next;
      else if (next === undefined) {
        const made = new StaticDir();
        dir.set(part, made);
        dir = made;
      } else throw new KernelError("ENOTDIR", "mkdir", path);
    }
    return dir;
  }

  /**
   * Takes the fixed entry at `path` out of its directory (a driver's `device_destroy` on
   * devtmpfs). @returns the node removed, or `undefined` when there was none
   */
  uninstall(path: string): Node | undefined {
    const cut = path.lastIndexOf("/");
    const dir = this.resolve(path.slice(0, cut) || "/", "uninstall");
    if (!(dir instanceof StaticDir)) return undefined;
    const name = path.slice(cut + 1);
    const node = dir.lookup(name);
    dir.remove(name);
    return node;
  }

  /** Places `node` at `path`, creating parent directories. */
  install(path: string, node: Node): void {
    const cut = path.lastIndexOf("/");
    this.mkdirp(path.slice(0, cut)).set(path.slice(cut + 1), node);
  }
}
