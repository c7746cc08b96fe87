// The demo end to end: its trace validates against the trace-event format, its report renders in Chromium.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { traceEventFileSchema, traceEventProblems } from "@dmabuf/core";
import { beforeAll, describe, expect, it } from "vitest";
import { fmodeNames, openFlagNames } from "./explain.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(tmpdir(), "dmabuf-demo-test");
const CHROMIUM = "/usr/bin/chromium";

let stdout = "";
beforeAll(() => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // The built demo, as `pnpm demo` runs it (`pnpm test` builds first).
  stdout = execFileSync(process.execPath, [join(root, "demo/dist/main.js"), "--out", out], {
    encoding: "utf8",
  });
}, 60_000);

describe("demo", () => {
  it("says where its trace and report are", () => {
    expect(stdout).toContain(`trace:  ${join(out, "pipeline-trace.json")}`);
    expect(stdout).toContain(`report: ${join(out, "pipeline-report.html")}`);
  });

  it("explains the raw numbers of its dumps", () => {
    expect(stdout).toContain(
      "bufinfo: mode 00080007 is the file's f_mode in hex = FMODE_READ|FMODE_WRITE|FMODE_LSEEK|FMODE_OPENED",
    );
    expect(stdout).toContain("fdinfo: flags: 02000002 is f_flags in octal = O_RDWR|O_CLOEXEC");
    expect(openFlagNames(0o4000)).toBe("O_RDONLY|O_NONBLOCK");
    expect(fmodeNames(0x60001)).toBe("FMODE_READ|FMODE_CAN_READ|FMODE_CAN_WRITE");
  });

  it("writes a trace the trace-event schema accepts, with tracks and fence flows", () => {
    const json = JSON.parse(readFileSync(join(out, "pipeline-trace.json"), "utf8"));
    const parsed = traceEventFileSchema.safeParse(json);
    expect(parsed.success ? [] : parsed.error.issues.slice(0, 5)).toEqual([]);
    if (!parsed.success) return;
    expect(traceEventProblems(parsed.data)).toEqual([]);
    const threads = parsed.data.traceEvents
      .filter((e) => e.name === "thread_name")
      .map((e) => (e.args as { name: string }).name);
    expect(threads).toEqual(
      expect.arrayContaining(["camera0", "scanout0", "#1 camera-frame", "#2 framebuffer"]),
    );
    const phases = new Set(parsed.data.traceEvents.map((e) => e.ph));
    expect([...phases].sort()).toEqual(["C", "M", "X", "f", "i", "s"]);
    const finding = parsed.data.traceEvents.find((e) => e.ph === "i" && e.cat === "finding");
    expect(finding?.name).toMatch(/^coherency: scanout0 read buffer 2 "framebuffer"/);
  });
});

describe.skipIf(!existsSync(CHROMIUM))(
  `the report in headless Chromium${existsSync(CHROMIUM) ? "" : ` (skipped: ${CHROMIUM} is not installed; .ci/run installs Debian's chromium)`}`,
  () => {
    it("renders the memory map, the timeline and the findings without console errors", async () => {
      const { chromium } = await import("playwright-core");
      const profile = join(out, "chromium-profile");
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
        await page.goto(`file://${join(out, "pipeline-report.html")}`);
        const count = (sel: string) => page.locator(sel).count();
        expect(await page.title()).toBe("camera → CPU → display, one SYNC END missing");
        // Memory map: the RAM strip, the buddy orders, the CMA area's bitmap.
        expect(await count("#memory-map svg.ram rect.cell")).toBe(256);
        expect(await count("#memory-map table.buddy tbody tr")).toBe(11);
        expect(await count("#memory-map figure.cma svg.bitmap rect.used")).toBeGreaterThan(0);
        // Timeline: two device jobs, CPU windows (one never ended), the fence arrow, the finding.
        expect(await count("#timeline rect.span.dma")).toBe(2);
        expect(await count("#timeline rect.span.cpu.open")).toBe(1);
        expect(await count("#timeline line.flow")).toBeGreaterThan(0);
        expect(await count("#timeline g.finding-mark")).toBe(1);
        // Findings and buffer lives.
        expect(await page.locator("#findings li.finding.err").first().textContent()).toContain(
          "coherency: scanout0 read buffer 2",
        );
        expect(await count("#buffers tr[data-buf]")).toBe(2);
        const box = await page.locator("#timeline svg.timeline").boundingBox();
        expect(box?.height).toBeGreaterThan(100);
        await page.screenshot({ path: join(out, "pipeline-report.png"), fullPage: true });
        expect(readFileSync(join(out, "pipeline-report.png")).subarray(1, 4).toString()).toBe(
          "PNG",
        );
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    }, 60_000);
  },
);
