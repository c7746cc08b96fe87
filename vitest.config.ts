import { defineConfig } from "vitest/config";

export default defineConfig({
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  ssr: {
    resolve: { conditions: ["@dmabuf/source", "module", "node", "development|production"] },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "docs/**/*.test.ts", "demo/src/**/*.test.ts"],
    setupFiles: ["./vitest.setup.ts"],
    coverage: { provider: "v8", include: ["packages/*/src/**/*.ts"], exclude: ["**/*.test.ts"] },
  },
});
