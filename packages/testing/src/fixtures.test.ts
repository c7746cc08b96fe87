import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const vendored = new URL("../../../fixtures/linux-6.1-observed.json", import.meta.url);
const shared = new URL("../../../../shared/kernel/linux-6.1-observed.json", import.meta.url);

describe("fixtures", () => {
  it("the vendored 6.1 observations are valid and name the 6.1 oracle", () => {
    const data = JSON.parse(readFileSync(vendored, "utf8"));
    expect(data.harness.target).toBe("6.1");
    expect(data.environment.page_size).toBe(4096);
  });

  it.skipIf(!existsSync(shared))("the vendored copy equals shared/kernel's", () => {
    expect(readFileSync(vendored, "utf8")).toBe(readFileSync(shared, "utf8"));
  });
});
