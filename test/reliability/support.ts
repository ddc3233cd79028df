/**
 * Shared by the reliability suites: the backends they run against, caches
 * opened the way a user opens them (`createCache({ backend, dir })`), child
 * processes, a machine whose cores are busy, and the disk tricks (a small
 * tmpfs, a read-only remount).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { childNodeArgs as tsxChildArgs } from "@sitecache/conformance"
import { type CacheConfig, type CreateCacheOptions, createCache, type StoreCache } from "@sitecache/core"
import { it } from "vitest"
import { tempDir } from "../support/temp.js"

/** Every local persistent backend; each suite runs against all of them. */
export const BACKENDS = ["fs", "sqlite"] as const
export type Backend = (typeof BACKENDS)[number]

const require = createRequire(import.meta.url)
const here = fileURLToPath(new URL(".", import.meta.url))

export function openCache(
  backend: Backend,
  dir: string,
  config: Omit<CacheConfig, "backend" | "dir"> = {},
  options: CreateCacheOptions = {},
): Promise<StoreCache> {
  return createCache({ backend, dir, ...config }, { resolveFrom: import.meta.url, ...options })
}

/** A fresh directory, removed after the test that made it (see test/support/temp.ts). */
export function scratchDir(label: string): string {
  return tempDir(`reliability-${label}`)
}

// ---------------------------------------------------------------- child processes

/** The node arguments that run child.ts: a bundle made once per test process, else tsx on the sources. */
let childArgs: Promise<string[]> | undefined

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>
}

async function bundleChild(): Promise<string[]> {
  const entry = join(here, "child.ts")
  let esbuild: Esbuild
  try {
    // esbuild comes with tsx, which runs every child of the workspace's tests.
    esbuild = require(createRequire(require.resolve("tsx")).resolve("esbuild")) as Esbuild
  } catch {
    return [...tsxChildArgs(), entry]
  }
  // Inside the test package's node_modules, so the external host libraries resolve from the bundle.
  const outDir = join(here, "..", "node_modules", ".cache", "sitecache-reliability")
  mkdirSync(outDir, { recursive: true })
  const outfile = join(outDir, `child-${process.pid}.mjs`)
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@sitecache/source"],
    external: ["better-sqlite3", "ioredis"],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: "error",
  })
  process.on("exit", () => rmSync(outfile, { force: true }))
  return [outfile]
}

export function childNodeArgs(): Promise<string[]> {
  childArgs ??= bundleChild()
  return childArgs
}

export interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunningChild {
  readonly process: ChildProcess
  /** Complete stdout lines so far. */
  readonly lines: string[]
  /** Resolves when a line equal to `text` has been printed (rejects if the child exits first). */
  waitFor(text: string): Promise<void>
  readonly exited: Promise<ChildResult>
}

export async function startChild(args: string[], options: { uid?: number; gid?: number } = {}): Promise<RunningChild> {
  const child = spawn(process.execPath, [...(await childNodeArgs()), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  })
  const lines: string[] = []
  let stdout = ""
  let stderr = ""
  let partial = ""
  const waiters: { text: string; resolve: () => void }[] = []
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    for (const text of parts) {
      lines.push(text)
      for (const waiter of waiters.filter((w) => w.text === text)) waiter.resolve()
    }
  })
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<ChildResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return {
    process: child,
    lines,
    exited,
    waitFor(text) {
      if (lines.includes(text)) return Promise.resolve()
      return new Promise((resolve, reject) => {
        waiters.push({ text, resolve })
        exited.then((result) =>
          reject(new Error(`child exited (${result.code ?? result.signal}) before printing ${text}: ${result.stderr}`)),
        )
      })
    },
  }
}

/** Run a child to its end; rejects when it fails. Resolves with its last stdout line parsed as JSON. */
export async function runChild<T>(args: string[], options: { uid?: number; gid?: number } = {}): Promise<T> {
  const child = await startChild(args, options)
  const result = await child.exited
  if (result.code !== 0) throw new Error(`child ${args.join(" ")} failed (${result.code ?? result.signal}):\n${result.stderr}`)
  return JSON.parse(child.lines.at(-1) ?? "null") as T
}

// ---------------------------------------------------------------- a busy machine

/** Processes that do nothing but keep a core busy (CI machines have 2 cores; the tests' own processes add more). */
export const BUSY_LOOPS = 3

/** Keep every core busy until the returned function is called (or this process exits). */
export function saturateCores(): () => void {
  const loops: ChildProcess[] = Array.from({ length: BUSY_LOOPS }, () =>
    spawn(process.execPath, ["-e", "for (;;);"], { stdio: "ignore" }),
  )
  const stop = () => {
    for (const loop of loops) if (loop.exitCode === null && loop.signalCode === null) loop.kill("SIGKILL")
  }
  process.once("exit", stop)
  return () => {
    process.off("exit", stop)
    stop()
  }
}

// ---------------------------------------------------------------- disks

/** Temporary files of the fs backend (writes in progress or left by killed writers) below `dir`. */
export function tempFiles(dir: string): string[] {
  const found: string[] = []
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (name.startsWith(".tmp-")) found.push(full)
    }
  }
  walk(dir)
  return found
}

/** SQLite's own check of the database of a cache at `dir`: `"ok"` or what it found. */
export function sqliteQuickCheck(dir: string): string {
  const Database = require("better-sqlite3") as new (
    path: string,
    options: { readonly: boolean },
  ) => { pragma(source: string, options: { simple: boolean }): unknown; close(): void }
  const db = new Database(join(dir, "cache.db"), { readonly: true })
  try {
    return String(db.pragma("quick_check", { simple: true }))
  } finally {
    db.close()
  }
}

/** Mount a tmpfs of `size` (e.g. `"2m"`) on `dir`; `false` when this process may not mount. */
export function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir], { stdio: "pipe" })
    return true
  } catch {
    return false
  }
}

export function remount(dir: string, mode: "ro" | "rw"): void {
  execFileSync("mount", ["-o", `remount,${mode}`, dir], { stdio: "pipe" })
}

export function unmount(dir: string): void {
  execFileSync("umount", ["-l", dir], { stdio: "pipe" })
}

let mountable: boolean | undefined
/** Whether this process can mount a tmpfs (root, or a capable container). */
export function canMount(): boolean {
  if (mountable === undefined) {
    const probe = scratchDir("mount-probe")
    mountable = mountTmpfs(probe, "64k")
    if (mountable) unmount(probe)
  }
  return mountable
}

/**
 * Register a test that needs to mount filesystems. Where this process may
 * not mount, the test is registered as skipped (it shows as a skip, never as
 * a pass), and under `CI=true` (CI runs as root and must run it) one failing
 * test says why.
 */
export function itMounting(name: string, test: () => Promise<void>, timeout?: number): void {
  if (canMount()) {
    it(name, test, timeout)
    return
  }
  const message = `cannot mount a tmpfs here (run as root, as CI does): "${name}" did not run`
  console.warn(message)
  it.skip(name, test, timeout)
  if (process.env.CI === "true") {
    it(`${name} (needs permission to mount a tmpfs)`, () => {
      throw new Error(message)
    })
  }
}

/** Make every directory below `dir` 0755 and every file 0644 (readable, not writable, by others). */
export function openUp(dir: string): void {
  chmodSync(dir, 0o755)
  for (const name of readdirSync(dir)) {
    const full = join(dir, name)
    if (statSync(full).isDirectory()) openUp(full)
    else chmodSync(full, 0o644)
  }
}
