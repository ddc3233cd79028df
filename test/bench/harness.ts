/**
 * The benchmark harness. Every figure is the median of several repetitions,
 * and every comparison is a ratio of two figures measured in the same run, so
 * a noisy, shared machine moves both sides together.
 *
 * A suite is a file in `suites/` whose default export is `(bench: Bench) => Promise<void>`.
 * `pnpm bench` runs them all; `pnpm bench -- <name…>` runs the named ones;
 * `--smoke` (or `BENCH_SMOKE=1`) runs a small, quick version (CI does).
 */
import { spawn } from "node:child_process"
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

export interface Measurement {
  readonly name: string
  /** Median time of one operation, in ns. */
  readonly nsPerOp: number
  /** Per-repetition medians, ns per op. */
  readonly samples: readonly number[]
  readonly ops: number
}

export interface Row {
  readonly label: string
  readonly value: string
  readonly ratio?: string
  readonly note?: string
}

export interface Bench {
  /** Small sizes and one repetition: for CI, to keep the harness from rotting. */
  readonly smoke: boolean
  /** Repetitions per measurement (median taken). */
  readonly repeat: number
  /** Scratch directory for this suite, removed by nobody (under test/bench/out). */
  readonly outDir: string
  /** Time `ops` calls of `fn` (awaited one after another), `repeat` times; median ns per op. */
  measure(name: string, ops: number, fn: (i: number) => unknown): Promise<Measurement>
  /** Time a whole run (`fn` once per repetition); median ns. */
  measureOnce(name: string, fn: (repetition: number) => unknown): Promise<Measurement>
  /** Print a table and keep it for the JSON report. */
  table(title: string, rows: readonly Row[]): void
  /** Keep any data for the JSON report (charts read it). */
  record(name: string, data: unknown): void
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(0)} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 2 : 1)} ms`
  return `${(ns / 1_000_000_000).toFixed(2)} s`
}

/** `a / b` as "1.23×". */
export function ratio(a: Measurement | number, b: Measurement | number): string {
  const x = typeof a === "number" ? a : a.nsPerOp
  const y = typeof b === "number" ? b : b.nsPerOp
  return `${(x / y).toFixed(2)}×`
}

export function createBench(
  suite: string,
  options: { smoke: boolean; repeat: number; outRoot: string },
): Bench & {
  readonly report: { tables: { title: string; rows: readonly Row[] }[]; data: Record<string, unknown> }
} {
  const report = { tables: [] as { title: string; rows: readonly Row[] }[], data: {} as Record<string, unknown> }
  const outDir = join(options.outRoot, suite)
  mkdirSync(outDir, { recursive: true })
  const bench = {
    smoke: options.smoke,
    repeat: options.repeat,
    outDir,
    report,
    async measure(name: string, ops: number, fn: (i: number) => unknown): Promise<Measurement> {
      const warm = Math.min(ops, Math.max(10, Math.floor(ops / 10)))
      for (let i = 0; i < warm; i++) await fn(i)
      const samples: number[] = []
      for (let r = 0; r < options.repeat; r++) {
        const started = process.hrtime.bigint()
        for (let i = 0; i < ops; i++) {
          const result = fn(i)
          if (result instanceof Promise) await result
        }
        samples.push(Number(process.hrtime.bigint() - started) / ops)
      }
      return { name, nsPerOp: median(samples), samples, ops }
    },
    async measureOnce(name: string, fn: (repetition: number) => unknown): Promise<Measurement> {
      const samples: number[] = []
      for (let r = 0; r < options.repeat; r++) {
        const started = process.hrtime.bigint()
        await fn(r)
        samples.push(Number(process.hrtime.bigint() - started))
      }
      return { name, nsPerOp: median(samples), samples, ops: 1 }
    },
    table(title: string, rows: readonly Row[]) {
      report.tables.push({ title, rows })
      const width = Math.max(...rows.map((row) => row.label.length), 10)
      const valueWidth = Math.max(...rows.map((row) => row.value.length), 8)
      console.log(`\n${title}`)
      for (const row of rows) {
        console.log(
          `  ${row.label.padEnd(width)}  ${row.value.padStart(valueWidth)}  ${(row.ratio ?? "").padStart(8)}  ${row.note ?? ""}`.trimEnd(),
        )
      }
    },
    record(name: string, data: unknown) {
      report.data[name] = data
    },
  }
  return bench
}

export function writeReport(path: string, report: unknown): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`)
}

/**
 * Repetitions of the builds of the adapters' generated 1,000-page sites: three
 * whole-process builds of one take a minute (Eleventy) to three (Vite, which
 * bundles every page), so a full `pnpm bench` builds each once to stay within
 * its 10-minute budget. `BENCH_ADAPTER_REPEAT=3` for medians.
 */
export function largeSiteRepeat(bench: Bench): number {
  const fromEnv = Number(process.env.BENCH_ADAPTER_REPEAT)
  return bench.smoke ? 1 : fromEnv > 0 ? fromEnv : 1
}

/**
 * A full garbage collection (`--expose-gc` turned on at run time when the
 * process was started without it), untimed, before a timed run: so that each
 * run pays for its own garbage only, not for the runs before it (a major
 * collection of a few hundred MB costs as much as a warm build of a
 * thousand pages, and falls on whichever run happens to cross the limit).
 */
export const collectGarbage = ((): (() => void) => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed !== undefined) return exposed
  setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
})()

/**
 * Remove a folder of a suite's files (gigabytes of entries, pages and caches)
 * in a detached process: on a disk mounted with `discard` (virtual machines,
 * CI runners) deleting them takes a minute, which is no part of any figure.
 * Renamed first, so that a run started meanwhile never sees half of it.
 */
export function removeInBackground(dir: string): void {
  const doomed = `${dir}.removing-${process.pid}`
  try {
    renameSync(dir, doomed)
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return
  }
  const script = `require("node:fs").rmSync(${JSON.stringify(doomed)}, { recursive: true, force: true, maxRetries: 5 })`
  spawn(process.execPath, ["-e", script], { detached: true, stdio: "ignore" }).unref()
}
