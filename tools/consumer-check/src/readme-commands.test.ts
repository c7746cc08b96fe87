// The docs name root scripts in a form that runs them: `pnpm <script>` only where pnpm has no own command of that name.

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const scripts = Object.keys(
  (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { scripts: object }).scripts,
);

/**
 * pnpm 12's own commands that do not fall back to a script of the same name (`pnpm docs
 * <pkg>` opens a package's homepage). `test`, `start` and unknown names run the script.
 */
const PNPM_COMMANDS = new Set(
  "add approve-builds audit bin cache cat-file cat-index config create dedupe deploy dlx docs doctor env exec fetch find-hash help home ignored-builds import info init install install-test licenses link list login logout ls outdated owner pack patch patch-commit patch-remove ping prune publish rebuild recursive remove repo root run sbom search self-update server setup store unlink update version view why".split(
    " ",
  ),
);

const pages = [
  "README.md",
  ...readdirSync(`${root}docs`)
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

describe("script commands in the docs", () => {
  it("every `pnpm <script>` a page writes runs that script", () => {
    const shadowed: string[] = [];
    for (const page of pages) {
      const text = readFileSync(`${root}${page}`, "utf8");
      for (const m of text.matchAll(/\bpnpm ([a-z][\w:-]*)/g)) {
        const name = m[1] as string;
        if (scripts.includes(name) && PNPM_COMMANDS.has(name)) {
          shadowed.push(
            `${page}: "pnpm ${name}" runs pnpm's own command; write "pnpm run ${name}"`,
          );
        }
      }
    }
    expect(shadowed).toEqual([]);
  });

  it("the README builds the API site with a command that runs the docs script", () => {
    const readme = readFileSync(`${root}README.md`, "utf8");
    expect(readme).toContain("`pnpm run docs` builds the API site");
    expect(scripts).toContain("docs");
  });
});
