import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // Run every package from its sources, without a build (the "source" export condition).
    conditions: ["source"],
  },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "test/bench/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
})
