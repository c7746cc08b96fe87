// Tests of the errno table, the error classes, and the catalog kept in sync with code and docs.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernel, KernelConfigError } from "../kernel.js";
import { BuddyError } from "../mm/buddy.js";
import { BUG_CODES, ERROR_CATALOG, SIGNAL_CODES } from "./catalog.js";
import { ERRNO, ERRNO_ALIASES, errnoByNumber, isErrnoCode } from "./errno.js";
import { KernelBug, KernelSignal } from "./kernel-bug.js";
import { isKernelError, KernelError } from "./kernel-error.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** Every non-test .ts file under packages/{name}/src. */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(p);
    }
  };
  for (const pkg of readdirSync(join(ROOT, "packages"), { withFileTypes: true })) {
    if (!pkg.isDirectory()) continue;
    const src = join(ROOT, "packages", pkg.name, "src");
    try {
      readdirSync(src);
    } catch {
      continue;
    }
    walk(src);
  }
  return out;
}

describe("ERRNO: the Linux x86-64 errno table", () => {
  it.each([
    ["EPERM", 1],
    ["ENOENT", 2],
    ["ESRCH", 3],
    ["EINTR", 4],
    ["EIO", 5],
    ["EBADF", 9],
    ["EAGAIN", 11],
    ["ENOMEM", 12],
    ["EACCES", 13],
    ["EFAULT", 14],
    ["EBUSY", 16],
    ["EEXIST", 17],
    ["ENODEV", 19],
    ["ENOTDIR", 20],
    ["EISDIR", 21],
    ["EINVAL", 22],
    ["EMFILE", 24],
    ["ENOTTY", 25],
    ["ESPIPE", 29],
    ["EPIPE", 32],
    ["ENOSYS", 38],
    ["ELOOP", 40],
    ["ENODATA", 61],
    ["ETIME", 62],
    ["EOVERFLOW", 75],
    ["EOPNOTSUPP", 95],
    ["ETIMEDOUT", 110],
    ["ECANCELED", 125],
    ["EHWPOISON", 133],
  ] as const)("%s is %d", (code, n) => {
    expect(ERRNO[code].errno).toBe(n);
    expect(ERRNO[code].code).toBe(code);
    expect(errnoByNumber(n)?.code).toBe(code);
  });

  it("numbers are unique and cover 1–133 except the alias gaps 41 and 58", () => {
    const numbers = Object.values(ERRNO).map((e) => e.errno);
    expect(new Set(numbers).size).toBe(numbers.length);
    const expected = Array.from({ length: 133 }, (_, i) => i + 1).filter(
      (n) => n !== 41 && n !== 58,
    );
    expect([...numbers].sort((a, b) => a - b)).toEqual(expected);
  });

  it("every key is its entry's code, with a description", () => {
    for (const [key, e] of Object.entries(ERRNO)) {
      expect(e.code).toBe(key);
      expect(e.description.length).toBeGreaterThan(0);
      expect(isErrnoCode(key)).toBe(true);
    }
    expect(ERRNO.EINVAL.description).toBe("Invalid argument");
    expect(isErrnoCode("EWOULDBLOCK")).toBe(false);
    expect(isErrnoCode("toString")).toBe(false);
    expect(errnoByNumber(41)).toBeUndefined();
    expect(errnoByNumber(0)).toBeUndefined();
  });

  it("aliases resolve to the numbers C uses", () => {
    expect(ERRNO[ERRNO_ALIASES.EWOULDBLOCK].errno).toBe(11);
    expect(ERRNO[ERRNO_ALIASES.EDEADLOCK].errno).toBe(35);
    expect(ERRNO[ERRNO_ALIASES.ENOTSUP].errno).toBe(95);
  });
});

describe("error classes", () => {
  it("KernelError is shaped like Node's SystemError", () => {
    const e = new KernelError("EINVAL", "ioctl", "bad flags");
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(KernelError);
    expect(e.name).toBe("KernelError");
    expect(e.code).toBe("EINVAL");
    expect(e.errno).toBe(22);
    expect(e.syscall).toBe("ioctl");
    expect(e.message.startsWith("EINVAL")).toBe(true);
    expect(e.message).toBe("EINVAL: Invalid argument, ioctl (bad flags)");
    expect(new KernelError("EBADF", "close").message).toBe("EBADF: Bad file descriptor, close");
    expect(isKernelError(e)).toBe(true);
    expect(isKernelError(e, "EINVAL")).toBe(true);
    expect(isKernelError(e, "EBADF")).toBe(false);
    expect(isKernelError(new Error("EINVAL"))).toBe(false);
  });

  it("a syscall failure of a real kernel is such a KernelError", () => {
    const p = createKernel({ ram: "16MiB" }).spawn();
    let caught: unknown;
    try {
      p.close(3);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KernelError);
    expect(caught).toMatchObject({ code: "EBADF", errno: 9, syscall: "close" });
    expect((caught as Error).message.startsWith("EBADF")).toBe(true);
  });

  it("KernelBug, KernelSignal, BuddyError and KernelConfigError carry their codes", () => {
    const bug = new KernelBug("FILE_REFCOUNT_UNDERFLOW", "fput twice");
    expect(bug).toBeInstanceOf(Error);
    expect([bug.name, bug.code]).toEqual(["KernelBug", "FILE_REFCOUNT_UNDERFLOW"]);
    expect(bug.message).toBe("FILE_REFCOUNT_UNDERFLOW: fput twice");
    const sig = new KernelSignal("SIGBUS", 0x7ffff7ff8000, "no page");
    expect(sig).toBeInstanceOf(Error);
    expect([sig.name, sig.code, sig.address]).toEqual(["KernelSignal", "SIGBUS", 0x7ffff7ff8000]);
    expect(sig.message).toBe("SIGBUS at 0x7ffff7ff8000: no page");
    const buddy = new BuddyError("BUDDY_DOUBLE_FREE", "pfn 3");
    expect([buddy.name, buddy.code]).toEqual(["BuddyError", "BUDDY_DOUBLE_FREE"]);
    const config = new KernelConfigError("✖ bad\n  → at ram");
    expect([config.name, config.code]).toEqual(["KernelConfigError", "KERNEL_CONFIG_INVALID"]);
  });
});

describe("ERROR_CATALOG", () => {
  it("codes are unique; errno entries carry Linux's number", () => {
    const codes = ERROR_CATALOG.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of ERROR_CATALOG) {
      expect(e.meaning.length).toBeGreaterThan(0);
      expect(e.meaning).not.toContain("\n");
      expect(e.meaning).not.toContain("|");
      if (e.kind === "errno") {
        expect(isErrnoCode(e.code)).toBe(true);
        expect(e.errno).toBe(ERRNO[e.code as keyof typeof ERRNO].errno);
      } else {
        expect(e.errno).toBeNull();
      }
    }
  });

  it("bug and signal entries are exactly BUG_CODES and SIGNAL_CODES", () => {
    const of = (kind: string) =>
      ERROR_CATALOG.filter((e) => e.kind === kind)
        .map((e) => e.code)
        .sort();
    expect(of("bug")).toEqual([...BUG_CODES].sort());
    expect(of("signal")).toEqual([...SIGNAL_CODES].sort());
    expect(of("config")).toEqual(["KERNEL_CONFIG_INVALID"]);
  });

  it("is exactly the set of codes the source code raises (both directions)", () => {
    const used = new Map<string, string>();
    const nonLiteral: string[] = [];
    const construct =
      /new\s+(KernelError|KernelBug|KernelSignal|BuddyError)\(\s*(?:"([A-Z0-9_]+)")?/g;
    const codeField = /\bcode\s*=\s*"([A-Z][A-Z0-9_]*)"/g;
    const finding = /\.bug\(\s*"([A-Z][A-Z0-9_]*)"/g;
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(construct)) {
        if (m[2]) used.set(m[2], file);
        else nonLiteral.push(`${file}: ${m[0]}`);
      }
      for (const m of text.matchAll(codeField)) used.set(m[1] as string, file);
      for (const m of text.matchAll(finding)) used.set(m[1] as string, file);
    }
    // A code built at run time would escape this scan.
    expect(nonLiteral).toEqual([]);
    const catalog = new Set(ERROR_CATALOG.map((e) => e.code));
    const missingFromCatalog = [...used.keys()].filter((c) => !catalog.has(c)).sort();
    const neverRaised = [...catalog].filter((c) => !used.has(c)).sort();
    expect(missingFromCatalog).toEqual([]);
    expect(neverRaised).toEqual([]);
  });
});

describe("docs/errors.md", () => {
  const text = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");
  const rows = text
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .map((l) =>
      l
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim()),
    );

  it("has the table header", () => {
    expect(rows[0]).toEqual(["code", "kind", "errno", "meaning"]);
    expect(rows[1]?.every((c) => /^:?-{3,}:?$/.test(c))).toBe(true);
  });

  it("its rows are exactly the catalog, in catalog order", () => {
    const documented = rows.slice(2).map(([code, kind, errno, meaning]) => ({
      code: code?.replaceAll("`", ""),
      kind,
      errno: errno === "—" ? null : Number(errno),
      meaning,
    }));
    expect(documented).toEqual(ERROR_CATALOG.map((e) => ({ ...e })));
  });
});
