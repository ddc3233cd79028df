import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

// Every package runs from its sources, without a build: the workspace-only
// "@sitecache/source" export condition, for what Vite resolves and, through the
// workers' node flags, for what node resolves (child processes the tests start
// inherit it from `process.execArgv`, see @sitecache/conformance's childNodeArgs).
const SOURCE = "@sitecache/source"

// The files that keep every core busy on purpose (test/reliability/support.ts,
// `saturateCores`). They run after every other file, one at a time, alone: a
// busy machine is what they test, and no other file's timeouts (Redis
// `commandTimeout`, say) should meet their busy loops. See docs/architecture.md §8.
const BUSY_MACHINE = ["test/reliability/concurrent.test.ts", "test/reliability/concurrent-builds.test.ts"]

// The files that take longest (builds, kills, outages: tens of seconds each) start first, so that none
// of them starts last and runs alone while the other workers idle. vitest does this by itself from the
// timings of an earlier run, which a fresh clone (CI) does not have: it would start the largest files first.
const LONGEST_FIRST = [
  "examples/astro-site/test/astro-site.test.ts",
  "packages/astro/test/integration.test.ts",
  "packages/astro/test/embedded.test.ts",
  "test/reliability/killed-writer.test.ts",
  "test/redis/outage.test.ts",
]

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const at = LONGEST_FIRST.findIndex((path) => spec.moduleId.endsWith(`/${path}`))
      return at < 0 ? LONGEST_FIRST.length : at
    }
    // Stable: the rest keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  resolve: { conditions: [SOURCE] },
  ssr: { resolve: { conditions: [SOURCE], externalConditions: [SOURCE] } },
  test: {
    exclude: ["**/node_modules/**", "**/dist/**", "test/bench/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    sequence: { sequencer: LongestFirst },
    // vitest's default in `run` is one worker less than the cores: one worker on a 2-core machine,
    // although most files spend much of their time waiting on child processes and servers.
    maxWorkers: Math.max(2, availableParallelism()),
    // One scratch folder for the run (TMPDIR), removed at its end: see test/support/run-temp.ts.
    globalSetup: ["test/support/run-temp.ts"],
    execArgv: [`--conditions=${SOURCE}`],
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", "test/bench/**", ...BUSY_MACHINE],
        },
      },
      {
        extends: true,
        test: { name: "busy machine", include: BUSY_MACHINE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
