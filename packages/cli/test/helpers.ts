/**
 * Running `sitecache` commands: in this process through `main(argv, io)` with
 * streams of the test's own (the same code the binary runs), or as the real
 * binary in a child process for the one smoke test of the command line; and
 * building a cache the way a site generator does (memoize + finishBuild over
 * builds).
 */
import { execFile } from "node:child_process"
import { mkdir, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { PassThrough } from "node:stream"
import { fileURLToPath } from "node:url"
import { childNodeArgs } from "@sitecache/conformance"
import {
  BuildStats,
  type CacheConfig,
  createCache,
  FileHasher,
  finishBuild,
  type MemoResult,
  memoize,
  type StoreCache,
} from "@sitecache/core"
import { tempDir } from "../../../test/support/temp.js"
import { main } from "../src/main.js"

export const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url))

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed as JSON. */
  json<T = Record<string, unknown>>(): T
}

export interface CliOptions {
  /** The current directory of the command. Default this process's. */
  readonly cwd?: string
  /** Variables over this process's environment, which the command sees without any `SITECACHE*` variable. */
  readonly env?: Record<string, string | undefined>
  /** Whether standard input is a terminal (for confirmations). Default false. */
  readonly tty?: boolean
  /** What the command reads from standard input. Default nothing (closed at once). */
  readonly input?: string
}

/** The command's environment: this process's, without any `SITECACHE*` variable, plus `env`. */
function commandEnv(env: Record<string, string | undefined>): Record<string, string> {
  const clean: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("SITECACHE") && value !== undefined) clean[name] = value
  }
  for (const [name, value] of Object.entries(env)) if (value !== undefined) clean[name] = value
  return clean
}

function cliRun(code: number, stdout: string, stderr: string): CliRun {
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      try {
        return JSON.parse(stdout) as T
      } catch {
        throw new Error(`not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`)
      }
    },
  }
}

/** Run `sitecache ...args` in this process through `main`, with streams of its own. */
export async function sitecache(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  let stdout = ""
  let stderr = ""
  const out = new PassThrough().on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
  const err = new PassThrough().on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty === true })
  stdin.end(options.input ?? "")
  const code = await main(args, {
    stdout: out,
    stderr: err,
    stdin,
    env: commandEnv(options.env ?? {}),
    cwd: options.cwd ?? process.cwd(),
  })
  return cliRun(code, stdout, stderr)
}

/** Run the real `sitecache` binary as a child process (stdin is not a terminal). */
export function sitecacheBinary(args: readonly string[], options: Pick<CliOptions, "cwd" | "env"> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [...childNodeArgs(), BIN, ...args],
      { cwd: options.cwd ?? process.cwd(), env: commandEnv(options.env ?? {}), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : undefined
        if (code === undefined) {
          reject(Object.assign(error ?? new Error("no exit code"), { stdout, stderr }))
          return
        }
        resolve(cliRun(code, stdout, stderr))
      },
    )
    child.stdin?.end()
  })
}

/** A scratch project folder, removed after the test (or after the file's tests, when made outside a test). */
export async function tempProject(): Promise<string> {
  return tempDir("cli")
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), text)
  }
}

export interface SiteDocument {
  readonly content: string
  /** Partials the render reads (project-relative). */
  readonly partials?: readonly string[]
}

/**
 * One build of a tiny site, as an adapter does it: each document memoized
 * under named parts (content, path, pipeline, one part per plugin) with its
 * partials as dependencies, then `finishBuild`.
 */
export async function build(
  cache: StoreCache,
  root: string,
  site: {
    readonly documents: Record<string, SiteDocument>
    readonly plugins: Record<string, string>
    readonly keyPrefix: string
    readonly tool?: string
  },
): Promise<Record<string, MemoResult<string>>> {
  cache.setKeyPrefix(site.keyPrefix)
  const stats = new BuildStats()
  const files = new FileHasher({ root })
  const results: Record<string, MemoResult<string>> = {}
  const pluginParts = Object.fromEntries(Object.entries(site.plugins).map(([name, version]) => [`plugin:${name}`, version]))
  for (const [path, document] of Object.entries(site.documents)) {
    results[path] = await memoize(
      cache,
      { content: document.content, path, pipeline: Object.keys(site.plugins).join(","), ...pluginParts },
      (context) => {
        for (const partial of document.partials ?? []) context.dependOn(join(root, partial))
        return `<main>${document.content}</main>`.repeat(path.includes("big") ? 200 : 1)
      },
      { stats, files, document: path },
    )
  }
  await finishBuild(cache, stats, site.tool ?? "blog")
  return results
}

export interface PopulatedSite {
  /** Entry keys (hex) of the last build, by document. */
  readonly keys: Record<string, string>
  /** Entries under the old key prefix (orphans). */
  readonly orphans: number
}

/**
 * Three builds of a small blog on `config`'s cache:
 * 1. under key prefix `blog@1` (its entries become orphans);
 * 2. under `blog@2`, every document misses (new prefix);
 * 3. `posts/hello.md`'s content changed, `_includes/footer.md` (a partial of
 *    `posts/partial.md`) changed, `posts/new.md` is new, `about.md` hits.
 */
export async function populateBlog(config: CacheConfig, root: string): Promise<PopulatedSite> {
  await writeFiles(root, { "_includes/footer.md": "footer v1", "_includes/header.md": "header" })
  const plugins = { "remark-parse": "11.0.0", "remark-rehype": "11.1.0" }
  const first = {
    "about.md": { content: "# About" },
    "posts/hello.md": { content: "# Hello" },
    "posts/partial.md": { content: "# Partial", partials: ["_includes/footer.md", "_includes/header.md"] },
    "posts/big.md": { content: "# Big" },
  }
  const cache = await createCache(config, { resolveFrom: import.meta.url })
  try {
    await build(cache, root, { documents: first, plugins, keyPrefix: "blog@1" })
    await build(cache, root, { documents: first, plugins, keyPrefix: "blog@2" })
    await writeFiles(root, { "_includes/footer.md": "footer v2" })
    const last = await build(cache, root, {
      documents: { ...first, "posts/hello.md": { content: "# Hello, world" }, "posts/new.md": { content: "# New" } },
      plugins,
      keyPrefix: "blog@2",
    })
    await cache.close()
    return { keys: Object.fromEntries(Object.entries(last).map(([path, result]) => [path, result.key.hex])), orphans: 4 }
  } catch (error) {
    await cache.close()
    throw error
  }
}
