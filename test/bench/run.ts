/**
 * `pnpm bench [--smoke] [suite…]`: run the benchmark suites in `suites/`,
 * print their tables, and write `out/results.json`.
 */
import { readdirSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { type Bench, createBench, writeReport } from "./harness.js"
import { ensureSqlite3, SQLITE3_SUITES } from "./peers.js"

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2).filter((arg) => arg !== "--")
const available = readdirSync(join(here, "suites"))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => basename(file, ".ts"))
  .sort()
if (args.includes("--help") || args.includes("-h")) {
  console.log(
    `usage: pnpm bench [--smoke] [suite…]\nsuites: ${available.join(", ")}\nBENCH_REPEAT=n sets the repetitions (default 3, 1 with --smoke)`,
  )
  process.exit(0)
}
const unknown = args.filter((arg) => arg.startsWith("-") && arg !== "--smoke")
if (unknown.length > 0) {
  console.error(`bench: unknown option ${unknown.join(", ")} (pnpm bench --help)`)
  process.exit(2)
}
const smoke = args.includes("--smoke") || process.env.BENCH_SMOKE === "1"
const wanted = args.filter((arg) => !arg.startsWith("--"))
// Three repetitions: a median that one disturbed build cannot move, and a full run that fits in 10 minutes.
const repeat = Number(process.env.BENCH_REPEAT ?? (smoke ? 1 : 3))
const outRoot = join(here, "out")
const runStarted = performance.now()

const suites = available
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  // Alphabetical, the site suite last: it ends by deleting gigabytes of pages and caches, which on a disk mounted
  // with `discard` slows the creation of files for a while after (see test/bench/site/child.ts).
  .sort((a, b) => Number(a === "site") - Number(b === "site") || a.localeCompare(b))
if (suites.length === 0) {
  console.error(`bench: no suite matches ${wanted.join(", ")} (suites: ${available.join(", ")})`)
  process.exit(2)
}

if (suites.some((suite) => SQLITE3_SUITES.includes(suite))) ensureSqlite3()

console.log(`sitecache bench: ${suites.join(", ")}${smoke ? " (smoke)" : ""}, median of ${repeat}, node ${process.version}`)
const results: Record<string, unknown> = {}
let failed = 0
for (const suite of suites) {
  const started = performance.now()
  console.log(`\n=== ${suite} ===`)
  const bench = createBench(suite, { smoke, repeat, outRoot })
  try {
    const run = (await import(pathToFileURL(join(here, "suites", `${suite}.ts`)).href)) as {
      default: (bench: Bench) => Promise<void>
    }
    await run.default(bench)
    results[suite] = { ...bench.report, seconds: (performance.now() - started) / 1000 }
  } catch (error) {
    failed++
    console.error(`bench ${suite} failed:`, error)
    results[suite] = { error: String(error) }
  }
  console.log(`(${suite}: ${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
const totalSeconds = (performance.now() - runStarted) / 1000
writeReport(join(outRoot, "results.json"), {
  node: process.version,
  smoke,
  repeat,
  date: new Date().toISOString(),
  seconds: totalSeconds,
  results,
})
console.log(`\nwrote ${join("test/bench/out", "results.json")}`)
// The full run (every suite, not smoke) has a time budget: print it beside the total.
const budget = !smoke && wanted.length === 0 ? `; target under 10 minutes: ${totalSeconds <= 600 ? "PASS" : "MISS"}` : ""
console.log(`pnpm bench: ${suites.length} suite(s) in ${(totalSeconds / 60).toFixed(1)} min${budget}`)
process.exit(failed > 0 ? 1 : 0)
