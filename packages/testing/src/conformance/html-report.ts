// The HTML report of a conformance run: a summary, then one section per failed case.

import { type ReportSection, renderSectionsReport } from "@dmabuf/core";
import type { SuiteReport } from "./case.js";
import { formatSuiteHeading, formatTotals, totals } from "./report.js";

/**
 * Renders a conformance run as one self-contained HTML page (what `dmabuf-conformance
 * --report out.html` writes): a summary of every suite, then one section per failed case
 * (suite, target, case id and title, failure code and message) and one per target that
 * could not boot.
 */
export function conformanceReportHtml(
  module: string,
  reports: readonly SuiteReport[],
  errors: readonly { readonly target: string; readonly error: string }[] = [],
): string {
  const sections: ReportSection[] = [];
  for (const r of reports) {
    for (const c of r.results) {
      if (c.status !== "failed") continue;
      const f = c.failure;
      sections.push({
        title: `✗ ${r.suite} ${r.target}: ${c.id}`,
        text: `${c.title}\n\n${f?.code ?? "FAILED"}${f?.errorCode ? ` (${f.errorCode})` : ""}: ${f?.message ?? ""}\n\n${formatSuiteHeading(r)}`,
        failed: true,
      });
    }
  }
  for (const e of errors) {
    sections.push({
      title: `✗ ${e.target}: cannot boot a kernel with it`,
      text: e.error,
      failed: true,
    });
  }
  const suites = reports.map((r) => `${formatSuiteHeading(r)}: ${formatTotals(r)}`).join("; ");
  const summary = `${module}: ${formatTotals(totals(reports))}${errors.length ? `, ${errors.length} not bootable` : ""}. ${suites}`;
  return renderSectionsReport(`dmabuf-conformance: ${module}`, summary, sections);
}
