// Prints the closing "N passed, N failed" line from vitest's JSON report (CI reads it).
import { existsSync, readFileSync } from "node:fs";

const path = new URL("../coverage/vitest-results.json", import.meta.url);
if (!existsSync(path)) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const r = JSON.parse(readFileSync(path, "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
process.exit(r.numFailedTests > 0 || !r.success ? 1 : 0);
