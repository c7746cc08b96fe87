// kernel.report(): the page's parts from live state, with and without a trace.

import { describe, expect, it } from "vitest";
import { PageExporter } from "../examples/page-exporter.js";
import { createKernel } from "../kernel.js";
import { O_RDWR } from "../uapi/fcntl.js";
import { escapeHtml, formatBytes, formatNs } from "./page.js";

describe("kernel.report()", () => {
  it("shows memory, CMA bitmaps and leaks from live state even with tracing off", () => {
    const kernel = createKernel({ ram: "64MiB", cma: { size: "8MiB" }, plugins: [PageExporter] });
    const proc = kernel.spawn({ name: "leaky" });
    const buf = kernel.plugin(PageExporter).create(4096, O_RDWR);
    kernel.dmaBuf.setName(buf, "<frame>");
    const fd = kernel.dmaBuf.fd(buf, proc, 0);
    kernel.cmaAreas[0]?.alloc(16, 0);
    const html = kernel.report();
    for (const id of ["summary", "memory-map", "buffers", "timeline", "findings"]) {
      expect(html).toContain(`<section id="${id}">`);
    }
    expect(html.match(/<rect class="cell /g)).toHaveLength(256);
    expect(html).toContain('<figure class="cma" data-area="reserved">');
    expect(html).toMatch(/<rect class="used" x="0.00" y="0" width="4.00" height="20">/);
    expect(html).toContain(
      `<td>${buf.ino}</td><td>&lt;frame&gt;</td><td>page-exporter</td><td>4 KiB</td><td>1</td><td>leaky (pid 1) fd ${fd}</td>`,
    );
    expect(html).toContain("Tracing was off");
    expect(html).not.toMatch(/<script/);
  });

  it("counts fragmentation as the unusable free space index", () => {
    const kernel = createKernel({ ram: "16MiB" });
    const html = kernel.report();
    // A fresh 16 MiB kernel: every free page sits in order-10 blocks, nothing is unusable.
    expect(html).toContain("<tr><td>10</td><td>4 MiB</td><td>4</td><td>0.000</td></tr>");
    const pfn = kernel.buddy.allocPages(0);
    const after = kernel.report();
    // One page taken splits a 4 MiB block: 1023 free pages in orders 0–9 are unusable for order 10.
    expect(after).toContain(
      `<tr><td>10</td><td>4 MiB</td><td>3</td><td>${(1023 / 4095).toFixed(3)}</td></tr>`,
    );
    kernel.buddy.freePages(pfn, 0);
  });

  it("formats and escapes", () => {
    expect(formatBytes(307200)).toBe("300 KiB");
    expect(formatBytes(1052672)).toBe("1.00 MiB");
    expect(formatNs(33_333_333)).toBe("33.333 ms");
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
  });
});
