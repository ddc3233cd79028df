import { defineConfig } from "vitest/config"

// Every package runs from its sources, without a build: the workspace-only
// "@sitecache/source" export condition, for what Vite resolves and, through the
// workers' node flags, for what node resolves (child processes the tests start
// inherit it from `process.execArgv`, see @sitecache/conformance's childNodeArgs).
const SOURCE = "@sitecache/source"

export default defineConfig({
  resolve: { conditions: [SOURCE] },
  ssr: { resolve: { conditions: [SOURCE], externalConditions: [SOURCE] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "test/bench/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One scratch folder for the run (TMPDIR), removed at its end: see test/support/run-temp.ts.
    globalSetup: ["test/support/run-temp.ts"],
    execArgv: [`--conditions=${SOURCE}`],
  },
})
