/**
 * Opening the cache a command works on, without ever creating one.
 *
 * Every command opens with `create: false`: a backend whose cache does not
 * exist says so (`CacheNotFoundError`) and creates nothing, not even its
 * directory. Commands that only read (`inspect`, `explain`, `verify
 * --dry-run`) open read-only, so they write nothing to a cache that exists
 * either. When no flag, variable or file names the backend, the command looks
 * for each local backend's cache in the cache directory (fs first, the
 * default), so a cache configured in a build's code is found where it
 * usually is. When none is there, the message says where it looked and how
 * to point the command at the cache.
 */
import { BackendMissingError, type CacheMode, CacheNotFoundError, type StoreCache } from "@sitecache/core"
import type { CommandName } from "./args.js"
import type { Target } from "./commands/target.js"
import { type CliConfig, openCache } from "./config.js"

export interface OpenedTarget {
  readonly cache: StoreCache
  readonly target: Target
}

export interface OpenedTargets {
  readonly opened: OpenedTarget[]
  /** Caches looked for and not there (nothing was created). */
  readonly missing: readonly CacheNotFoundError[]
  /** Backends that could not be looked for: their package is not installed. */
  readonly unavailable: readonly BackendMissingError[]
}

/** The local backends looked for, in order, when no configuration names one. */
const LOCAL_BACKENDS: readonly string[] = ["fs", "sqlite"]

/** The mode a command opens the cache in: read-only unless it removes entries. */
export function commandMode(command: CommandName, values: Readonly<Record<string, unknown>>): CacheMode {
  if (command === "clear" || command === "prune") return "read-write"
  if (command === "verify" && values["dry-run"] !== true) return "read-write"
  return "read-only"
}

/** Open the tiers `cli` names that exist (or, with no backend configured, the local cache found). */
export async function openTargets(cli: CliConfig, mode: CacheMode, onWarning: (message: string) => void): Promise<OpenedTargets> {
  const opened: OpenedTarget[] = []
  const missing: CacheNotFoundError[] = []
  const unavailable: BackendMissingError[] = []
  const attempt = async (backend: string, probing: boolean): Promise<void> => {
    try {
      const cache = await openCache(cli, backend, mode, onWarning)
      const target = { backend: cli.names[backend] ?? backend, location: cache.location }
      opened.push({ cache, target: { ...target, ...(cli.source ? { source: cli.source } : {}) } })
    } catch (error) {
      if (error instanceof CacheNotFoundError) missing.push(error)
      else if (probing && error instanceof BackendMissingError) unavailable.push(error)
      else throw error
    }
  }
  try {
    for (const backend of cli.backends) await attempt(backend, false)
    if (opened.length === 0 && !cli.backendGiven) {
      for (const backend of LOCAL_BACKENDS) {
        if (cli.backends.includes(backend)) continue
        await attempt(backend, true)
        if (opened.length > 0) break
      }
    }
  } catch (error) {
    await Promise.allSettled(opened.map(({ cache }) => cache.close()))
    throw error
  }
  return { opened, missing, unavailable }
}

function article(backend: string): string {
  return backend === "fs" ? "an" : "a"
}

/** What to tell people when no cache was found: where the command looked, and how to point it at the cache. */
export function notFoundMessage(command: CommandName, cli: CliConfig, found: OpenedTargets): string {
  const where = found.missing.map((error) => `${article(error.backend)} ${error.backend} cache at ${error.location}`)
  for (const error of found.unavailable) where.push(`(not looked for: ${error.message.replace(/^sitecache: /, "")})`)
  const { lookup, source } = cli
  if (source !== undefined || lookup.flags.length > 0 || lookup.env.length > 0) {
    const from = [
      ...(source === undefined ? [] : [`${source.file}${source.key ? ` (its \`${source.key}\` key)` : ""}`]),
      ...lookup.flags,
      ...lookup.env,
    ]
    return [
      `sitecache ${command}: no cache found, and nothing was created: looked for ${where.join(", ")}, as configured by ${from.join(", ")}.`,
      "A cache appears there once a build has run with this configuration. If the build writes",
      "elsewhere, point this command at it with --cache-backend and --cache-dir (or --redis-url).",
    ].join("\n")
  }
  return [
    `sitecache ${command}: no cache found, and nothing was created. Looked for:`,
    ...where.map((line) => `  ${line}`),
    "No configuration found: no --cache-backend, --cache-dir or --redis-url flag; no SITECACHE_BACKEND,",
    `SITECACHE_DIR or SITECACHE_REDIS_URL variable; in ${lookup.root}, no sitecache.config.{js,mjs,json},`,
    "no `sitecache` key in package.json and no *.config.json with a `cache` key.",
    "If your build configures its cache in code, tell this command where it is, with flags:",
    `  sitecache ${command === "explain" ? "explain <document>" : command} --cache-backend sqlite --cache-dir .cache/sitecache`,
    `or with the same variables, or in a sitecache.config.json in ${lookup.root}:`,
    `  { "backend": "sqlite", "dir": ".cache/sitecache" }`,
  ].join("\n")
}
