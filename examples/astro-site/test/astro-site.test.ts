/**
 * The example built with the real `astro build` command, as `pnpm build`
 * does, on a copy in a temporary directory with its SQLite cache there too.
 * The copy keeps a part of the pages (every kind of page, the collection, the
 * images and both plugins); `pnpm bench` builds all of them.
 *
 * The first build is the command itself (`astro build --no-cache`). The six
 * after it run what the command runs (Astro's `build()`, which imports the
 * edited `astro.config.mjs` afresh each time) in one more process,
 * builder.ts: a new process per build was most of this file's time, each
 * loading Astro, Vite and the integration's sources with tsx again.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { tempDir } from "../../../test/support/temp.js"

const run = promisify(execFile)
const example = join(import.meta.dirname, "..")
const root = tempDir("astro-site", { scope: "file" })
const PAGES = { "src/pages/docs": 16, "src/pages/notes": 8, "src/content/guides": 8 }
const DOCUMENTS = Object.values(PAGES).reduce((a, b) => a + b, 0)

interface Build {
  readonly hits: number
  readonly misses: number
  readonly line: string
  /** Output file → sha256. */
  readonly files: ReadonlyMap<string, string>
  readonly outDir: string
}

let builds = 0
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href
const nodeArgs = ["--conditions=@sitecache/source", "--import", tsx]
// Telemetry off: a test sends nothing off this machine.
const buildEnv = () => ({ ...process.env, SITECACHE_DIR: join(root, ".cache"), NO_COLOR: "1", ASTRO_TELEMETRY_DISABLED: "1" })

/** The `astro build` command, in a process of its own. */
async function astroCommand(args: readonly string[]): Promise<Build> {
  const outDir = join(root, `dist-${++builds}`)
  const { stdout } = await run(
    process.execPath,
    [...nodeArgs, "node_modules/astro/astro.js", "build", "--outDir", outDir, ...args],
    {
      cwd: root,
      env: buildEnv(),
      maxBuffer: 64 << 20,
    },
  )
  return collect(stdout, outDir)
}

/** The process of builder.ts, and what it printed since its last build. */
interface Builder {
  readonly child: ChildProcess
  stdout: string
  stderr: string
  done?: ((error: Error | undefined) => void) | undefined
}
let builder: Builder | undefined
const DONE = "\u0001sitecache-test-build-done "

/** What `astro build` runs, in builder.ts's process (started at its first build), with `env` for this build. */
async function astroBuild(env: Record<string, string> = {}): Promise<Build> {
  if (builder === undefined) {
    const child = spawn(process.execPath, [...nodeArgs, join(import.meta.dirname, "builder.ts"), DONE], {
      cwd: root,
      env: buildEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    })
    const state: Builder = { child, stdout: "", stderr: "" }
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      state.stdout += chunk
      const end = state.stdout.indexOf("\n", state.stdout.indexOf(DONE))
      if (!state.stdout.includes(DONE) || end < 0) return
      const { error } = JSON.parse(state.stdout.slice(state.stdout.indexOf(DONE) + DONE.length, end)) as { error: string | null }
      const done = state.done
      state.done = undefined
      done?.(error === null ? undefined : new Error(`astro build failed: ${error}\n${state.stderr}`))
    })
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      state.stderr += chunk
    })
    child.stdin?.on("error", () => {}) // a builder that died is reported by its exit
    child.on("exit", (code, signal) => state.done?.(new Error(`builder.ts exited (${code ?? signal}):\n${state.stderr}`)))
    builder = state
  }
  const state = builder
  const outDir = join(root, `dist-${++builds}`)
  state.stdout = ""
  await new Promise<void>((resolve, reject) => {
    state.done = (error) => (error === undefined ? resolve() : reject(error))
    state.child.stdin?.write(`${JSON.stringify({ outDir, env })}\n`)
  })
  return collect(state.stdout.slice(0, state.stdout.indexOf(DONE)), outDir)
}

/** A build's counts (from its `[sitecache]` line) and output files. */
function collect(stdout: string, outDir: string): Build {
  const line = stdout.split("\n").find((l) => l.includes("[sitecache]")) ?? ""
  const counts = /(\d+) hits, (\d+) misses/.exec(line)
  const files = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else files.set(relative(outDir, path), createHash("sha256").update(readFileSync(path)).digest("hex"))
    }
  }
  walk(outDir)
  return { hits: Number(counts?.[1] ?? -1), misses: Number(counts?.[2] ?? -1), line, files, outDir }
}

/** The files whose content differs between two builds. */
function changed(a: Build, b: Build): string[] {
  expect([...b.files.keys()].sort()).toEqual([...a.files.keys()].sort())
  return [...a.files].filter(([file, hash]) => b.files.get(file) !== hash).map(([file]) => file)
}

function edit(file: string, change: (text: string) => string): void {
  const path = join(root, file)
  writeFileSync(path, change(readFileSync(path, "utf8")))
}

describe("examples/astro-site built with `astro build`", () => {
  let off: Build
  let cold: Build
  let warm: Build
  beforeAll(async () => {
    for (const item of ["astro.config.mjs", "package.json", "src/assets", "src/components", "src/layouts", "src/plugins"])
      cpSync(join(example, item), join(root, item), { recursive: true })
    for (const item of ["src/content.config.mjs", "src/pages/index.astro", "src/pages/guides/[...slug].astro"])
      cpSync(join(example, item), join(root, item), { recursive: true })
    for (const [dir, count] of Object.entries(PAGES)) {
      mkdirSync(join(root, dir), { recursive: true })
      for (const name of readdirSync(join(example, dir)).sort().slice(0, count))
        cpSync(join(example, dir, name), join(root, dir, name))
    }
    // The example's packages, but Astro's own cache (node_modules/.astro) in the copy.
    mkdirSync(join(root, "node_modules"))
    for (const name of readdirSync(join(example, "node_modules")))
      if (!name.startsWith(".")) symlinkSync(join(example, "node_modules", name), join(root, "node_modules", name))
    off = await astroCommand(["--no-cache"])
    cold = await astroBuild()
    warm = await astroBuild()
  }, 600_000)
  afterAll(async () => {
    const child = builder?.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.stdin?.end()
    await exited
  })

  it("builds uncached with --no-cache, then cold and warm with the same pages", () => {
    expect(off.line).toMatch(/off \(no cache read or written; \d+ ms in the steps it caches\)/)
    expect(cold).toMatchObject({ hits: 0, misses: DOCUMENTS })
    expect(warm).toMatchObject({ hits: DOCUMENTS, misses: 0 })
    expect(off.files.size).toBe(DOCUMENTS + 1 + 2)
    expect(changed(off, cold)).toEqual([])
    expect(changed(off, warm)).toEqual([])
  })

  it("renders every page again when a plugin option changes, and the pages show it", async () => {
    edit("astro.config.mjs", (text) => text.replace("wordsPerMinute: 200", "wordsPerMinute: 20"))
    const option = await astroBuild()
    expect(option).toMatchObject({ hits: 0, misses: DOCUMENTS })
    const page = readdirSync(join(root, "src/pages/docs")).sort()[0]!.replace(/\.md$/, "")
    const before = readFileSync(join(warm.outDir, "docs", page, "index.html"), "utf8")
    const after = readFileSync(join(option.outDir, "docs", page, "index.html"), "utf8")
    expect(/(\d+) min read/.exec(after)![1]).not.toBe(/(\d+) min read/.exec(before)![1])
    warm = option
  }, 300_000)

  it("renders again only the page that changed", async () => {
    const name = readdirSync(join(root, "src/pages/docs")).sort()[1]!
    edit(`src/pages/docs/${name}`, (text) => `${text}\nA paragraph added by the test.\n`)
    const page = await astroBuild()
    expect(page).toMatchObject({ hits: DOCUMENTS - 1, misses: 1 })
    expect(changed(warm, page)).toEqual([`docs/${name.replace(/\.md$/, "")}/index.html`])
    warm = page
  }, 300_000)

  it("renders the new markup of an edited MDX component with every compiled page from the cache", async () => {
    edit("src/components/Callout.astro", (text) => text.replace("<strong>", '<strong class="edited">'))
    const component = await astroBuild()
    expect(component).toMatchObject({ hits: DOCUMENTS, misses: 0 })
    const withCallout = changed(warm, component)
    expect(withCallout.length).toBe(PAGES["src/pages/notes"] + PAGES["src/content/guides"])
    for (const file of withCallout) expect(readFileSync(join(component.outDir, file), "utf8")).toContain('class="edited"')
    // After all the edits, the cached build is the uncached build of the same sources.
    const uncached = await astroBuild({ SITECACHE: "off" })
    expect(changed(uncached, component)).toEqual([])
  }, 300_000)
})
