import { defineConfig } from "vitest/config";

export default defineConfig({
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  ssr: {
    resolve: { conditions: ["@dmabuf/source", "module", "node", "development|production"] },
  },
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "docs/**/*.test.ts",
      "demo/src/**/*.test.ts",
      "tools/*/src/**/*.test.ts",
    ],
    setupFiles: ["./vitest.setup.ts"],
    // Kernels are isolated values and plugins register in per-kernel child containers, so test
    // files can share one module graph per worker instead of re-importing it for every file.
    isolate: false,
    coverage: { provider: "v8", include: ["packages/*/src/**/*.ts"], exclude: ["**/*.test.ts"] },
  },
});
