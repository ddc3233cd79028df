/**
 * Finding the cache the build uses, by an explicit, documented lookup.
 *
 * Precedence, per setting: flags (`--cache-backend`, `--cache-dir`,
 * `--redis-url`), then `SITECACHE_*` environment variables (both applied by
 * core's `resolveCacheConfig`, as every adapter does), then the first
 * configuration found in the project root (`--root`, default the current
 * directory):
 *
 * 1. `--config <file>` (`.json`, `.js` or `.mjs`): its `cache` key when it has
 *    one, else the whole file;
 * 2. `sitecache.config.js`, `.mjs` or `.json`: the whole file (default export);
 * 3. `package.json`: its `sitecache` key;
 * 4. a project config `<name>.config.json` with a `cache` key (the blog
 *    example's `blog.config.json`), by name.
 *
 * Only the files of 1 and 2 are ever imported: they exist for this command.
 * A project's other configuration modules (`vite.config.js`, `eleventy.config.js`,
 * ...) are never run, since running them may set up a build and open, or
 * create, a cache; `--config` names one when that is wanted.
 *
 * A relative `dir` in a file or in `SITECACHE_DIR` is relative to the project
 * root (the config file's directory), as in a build; from `--cache-dir`, to the
 * current directory, as shell paths are.
 */
import { readdir, readFile } from "node:fs/promises"
import { dirname, isAbsolute, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import {
  BackendMissingError,
  BadOptionError,
  type CacheConfig,
  type CacheMode,
  createCache,
  normalizeCacheConfig,
  type ResolvedCacheConfig,
  resolveBackends,
  resolveCacheConfig,
  type StoreCache,
} from "@sitecache/core"
import { UsageError } from "./args.js"

export interface ConfigSource {
  /** The file read, absolute. */
  readonly file: string
  /** The key of the file that holds the configuration (`cache`, or `sitecache` in package.json). */
  readonly key?: "cache" | "sitecache"
}

export interface CliConfig {
  /** Checked configuration, with the CLI's overrides (strict). */
  readonly resolved: ResolvedCacheConfig
  /** The configuration to open each tier with. */
  readonly config: CacheConfig
  /** Where the configuration file came from, if any. */
  readonly source?: ConfigSource
  /** The persistent tiers this command works on (one, unless `clear`/`prune` on tiers), as `backend` names them. */
  readonly backends: readonly string[]
  /** The backend's own name of each of `backends` given as a module (`./my-backend.js` → `jsonfile`). */
  readonly names: Readonly<Record<string, string>>
  /** The secret a build of the whole configuration signs every tier with (`secret`, or a tier's own, as Redis' `redis.secret`). */
  readonly secret?: string | Uint8Array
  /** Whether a flag, the environment or a file named the backend (else it is the default, `fs`). */
  readonly backendGiven: boolean
  /** What was looked at, for people: the flags and variables set, and the files tried. */
  readonly lookup: ConfigLookup
}

export interface ConfigLookup {
  /** The project root searched. */
  readonly root: string
  /** Flags that set where the cache is (`--cache-backend`, ...). */
  readonly flags: readonly string[]
  /** Environment variables that did (`SITECACHE_BACKEND`, ...). */
  readonly env: readonly string[]
}

/** The backends a command can look at (`memory` lives inside a build, `null` stores nothing). */
const COMMAND_BACKENDS = ["fs", "sqlite", "redis"] as const

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length] ?? 0
}

/** The backends a build knows without a package of its own: core's. */
const CORE_BACKENDS: readonly unknown[] = ["memory", "null"]

/**
 * Refuse a backend name no build knows, listing the ones this command looks
 * at (`memory` and `null` get their own message). Any other installed backend
 * package (a name or a module) is found the way a build finds it.
 */
async function checkBackendNames(value: unknown, option: string, root: string): Promise<void> {
  const names = typeof value === "string" ? value.split(",").map((name) => name.trim()) : Array.isArray(value) ? value : [value]
  for (const name of names) {
    if (CORE_BACKENDS.includes(name) || (COMMAND_BACKENDS as readonly unknown[]).includes(name)) continue
    if (typeof name === "string" && name !== "") {
      try {
        await resolveBackends({ backend: name, root }, { resolveFrom: import.meta.url })
        continue
      } catch (error) {
        if (!(error instanceof BackendMissingError || (error instanceof BadOptionError && error.option === "backend")))
          throw error
      }
    }
    const meant = typeof name === "string" ? COMMAND_BACKENDS.find((known) => editDistance(known, name) <= 2) : undefined
    throw new BadOptionError(
      option,
      `unknown backend ${JSON.stringify(name)}${meant === undefined ? "" : ` (did you mean \`${meant}\`?)`}; expected fs, sqlite or redis`,
    )
  }
}

/** A configuration mistake in a file's values names the file (flags and variables are named by the option itself). */
export function namingFile<T>(error: T, source: ConfigSource | undefined): T {
  if (!(error instanceof BadOptionError) || source === undefined || /^(--|SITECACHE_)/.test(error.option)) return error
  if (!error.message.includes(source.file)) error.message = `${error.message} (from ${source.file})`
  return error
}

const SITECACHE_CONFIGS = ["sitecache.config.js", "sitecache.config.mjs", "sitecache.config.json"]
const PROJECT_CONFIG = /^[\w.-]+\.config\.json$/

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8")
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
}

async function readConfigFile(file: string): Promise<unknown> {
  if (file.endsWith(".json")) return readJson(file)
  let module: { default?: unknown }
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (error) {
    throw new UsageError(`cannot load ${file}: ${(error as Error).message}`)
  }
  return module.default
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

/** The cache configuration in a file's value: `cache: false` means caching is off. */
function cacheConfigOf(value: unknown, file: string, key: ConfigSource["key"]): CacheConfig {
  const config = key === undefined ? value : (value as Record<string, unknown>)[key]
  if (config === false) return { backend: "null" }
  if (!isPlainObject(config)) {
    throw new UsageError(`${file}: expected ${key === undefined ? "an object" : `\`${key}\` to be an object`}`)
  }
  return config as CacheConfig
}

async function exists(file: string): Promise<boolean> {
  try {
    await readFile(file)
    return true
  } catch {
    return false
  }
}

/** Find and read the configuration file of a project (see the top); `undefined` when there is none. */
export async function findConfigFile(
  root: string,
  explicit?: string,
): Promise<{ config: CacheConfig; source: ConfigSource } | undefined> {
  if (explicit !== undefined) {
    const file = resolve(explicit)
    if (!(await exists(file))) throw new UsageError(`bad value for \`--config\`: ${file} does not exist`)
    const value = await readConfigFile(file)
    const key = isPlainObject(value) && "cache" in value ? "cache" : undefined
    return { config: cacheConfigOf(value, file, key), source: { file, ...(key ? { key } : {}) } }
  }
  for (const name of SITECACHE_CONFIGS) {
    const file = join(root, name)
    if (await exists(file)) return { config: cacheConfigOf(await readConfigFile(file), file, undefined), source: { file } }
  }
  const pkg = join(root, "package.json")
  if (await exists(pkg)) {
    const value = await readJson(pkg)
    if (isPlainObject(value) && "sitecache" in value) {
      return { config: cacheConfigOf(value, pkg, "sitecache"), source: { file: pkg, key: "sitecache" } }
    }
  }
  let names: string[]
  try {
    names = (await readdir(root)).filter((name) => PROJECT_CONFIG.test(name)).sort()
  } catch {
    return undefined
  }
  for (const name of names) {
    const file = join(root, name)
    let value: unknown
    try {
      value = JSON.parse(await readFile(file, "utf8"))
    } catch {
      // Another tool's file (JSON with comments, say): not a configuration of this cache.
      continue
    }
    if (isPlainObject(value) && "cache" in value) {
      return { config: cacheConfigOf(value, file, "cache"), source: { file, key: "cache" } }
    }
  }
  return undefined
}

export interface LoadConfigInput {
  readonly values: Readonly<Record<string, string | boolean | undefined>>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** `clear` and `prune` work on every persistent tier unless `--tier` picks one. */
  readonly allTiers: boolean
}

function flag(values: LoadConfigInput["values"], name: string): string | undefined {
  const value = values[name]
  if (value === undefined) return undefined
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`bad value for \`--${name}\`: expected a value`)
  return value
}

/** Resolve the configuration of the cache to work on; throws `UsageError` or `BadOptionError`. */
export async function loadConfig(input: LoadConfigInput): Promise<CliConfig> {
  const { values, cwd } = input
  const rootFlag = flag(values, "root")
  const root = resolve(cwd, rootFlag ?? ".")
  const configFlag = flag(values, "config")
  const found = await findConfigFile(root, configFlag === undefined ? undefined : resolve(cwd, configFlag))
  const fileConfig: CacheConfig = found?.config ?? {}
  const fileRoot = found === undefined ? root : dirname(found.source.file)
  const base: CacheConfig = {
    ...fileConfig,
    root: fileConfig.root === undefined ? root : resolve(fileRoot, fileConfig.root),
    ...(fileConfig.dir === undefined || isAbsolute(fileConfig.dir) ? {} : { dir: resolve(fileRoot, fileConfig.dir) }),
  }
  // Flags and environment through core, as every adapter applies them.
  const argv: string[] = []
  const backendFlag = flag(values, "cache-backend")
  if (backendFlag !== undefined) {
    await checkBackendNames(backendFlag, "--cache-backend", root)
    argv.push("--cache-backend", backendFlag)
  }
  const dirFlag = flag(values, "cache-dir")
  if (dirFlag !== undefined) argv.push("--cache-dir", resolve(cwd, dirFlag))
  const redisFlag = flag(values, "redis-url")
  if (redisFlag !== undefined) argv.push("--redis-url", redisFlag)
  const env = { ...input.env }
  // The command looks at the configured backend even when builds run with the cache off.
  delete env.SITECACHE
  if (env.SITECACHE_BACKEND) await checkBackendNames(env.SITECACHE_BACKEND, "SITECACHE_BACKEND", root)
  if (fileConfig.backend !== undefined) {
    try {
      await checkBackendNames(fileConfig.backend, "backend", root)
    } catch (error) {
      throw namingFile(error, found?.source)
    }
  }
  let merged: CacheConfig
  try {
    merged = { ...resolveCacheConfig({ config: base, argv, env }), mode: "read-write", strict: true }
    normalizeCacheConfig(merged)
  } catch (error) {
    throw namingFile(error, found?.source)
  }
  const lookup: ConfigLookup = {
    root,
    flags: ["cache-backend", "cache-dir", "redis-url"].filter((name) => values[name] !== undefined).map((name) => `--${name}`),
    env: ["SITECACHE_BACKEND", "SITECACHE_DIR", "SITECACHE_REDIS_URL"].filter((name) => Boolean(env[name])),
  }

  const backendGiven = merged.backend !== undefined
  const where = found === undefined ? "" : ` (from ${found.source.file})`
  // With no backend configured, the command looks for each local cache (see open.ts): none need be installed.
  let resolvedBackends: Awaited<ReturnType<typeof resolveBackends>> | undefined
  try {
    resolvedBackends = backendGiven ? await resolveBackends(merged, { resolveFrom: import.meta.url }) : undefined
  } catch (error) {
    throw namingFile(error, found?.source)
  }
  // A build fails open and waits little (Redis: 1 s a command); this command scans the whole cache and fails on a
  // fault, so each backend's `commandOptions` (Redis: longer timeouts) apply unless the configuration sets them.
  const config: Record<string, unknown> = { ...merged }
  for (const { backend } of resolvedBackends?.tiers ?? []) {
    if (backend.commandOptions === undefined) continue
    const own = merged[backend.name as keyof CacheConfig]
    config[backend.name] = { ...backend.commandOptions, ...(own !== null && typeof own === "object" ? own : {}) }
  }
  let resolved: ResolvedCacheConfig
  try {
    resolved = normalizeCacheConfig(config as CacheConfig)
  } catch (error) {
    throw namingFile(error, found?.source)
  }
  const tiers = resolvedBackends?.tiers
  const secret = resolvedBackends === undefined ? resolved.secret : resolvedBackends.secret
  const listed = tiers ?? [{ spec: resolved.backend as string, backend: { name: resolved.backend as string, persistent: true } }]
  if (listed.some(({ backend }) => backend.name === "null")) {
    throw new BadOptionError("backend", `the configured cache is off (backend \`null\`)${where}: there is nothing to look at`)
  }
  const persistent = listed.filter(({ backend }) => backend.persistent)
  if (persistent.length === 0) {
    throw new BadOptionError(
      "backend",
      `the configured cache is \`${listed.map(({ backend }) => backend.name).join(", ")}\`${where}: it lives only inside a build process; configure fs, sqlite or redis`,
    )
  }
  const tier = flag(values, "tier")
  let backends: string[]
  if (tier !== undefined) {
    const chosen = persistent.find(({ spec, backend }) => backend.name === tier || spec === tier)
    if (chosen === undefined) {
      throw new UsageError(
        `bad value for \`--tier\`: expected one of ${persistent.map(({ backend }) => backend.name).join(", ")}, got ${JSON.stringify(tier)}`,
      )
    }
    backends = [chosen.spec]
  } else {
    // Every entry lands in the last tier; `clear` and `prune` work on all of them.
    const specs = persistent.map(({ spec }) => spec)
    backends = input.allTiers ? specs : [specs[specs.length - 1] as string]
  }
  return {
    resolved,
    config,
    backends,
    names: Object.fromEntries(persistent.map(({ spec, backend }) => [spec, backend.name])),
    backendGiven,
    lookup,
    ...(secret === undefined ? {} : { secret }),
    ...(found === undefined ? {} : { source: found.source }),
  }
}

/**
 * Open one tier of the configured cache, strict (faults throw), in `mode`,
 * and only if it exists: a missing cache is `CacheNotFoundError`, and nothing
 * is created. It signs and checks with the secret a build of the whole
 * configuration signs every tier with.
 */
export function openCache(
  cli: CliConfig,
  backend: string,
  mode: CacheMode,
  onWarning: (message: string) => void,
): Promise<StoreCache> {
  // A store evicts past its `maxSize` when it writes. This command removes only what it is asked to: without a
  // `maxSize` in its configuration it does not know the build's (which may be set in code), so it enforces none.
  const unbounded = mode !== "read-only" && cli.config.maxSize === undefined ? { maxSize: Number.MAX_SAFE_INTEGER } : {}
  return createCache(
    { ...cli.config, ...unbounded, backend, mode, ...(cli.secret === undefined ? {} : { secret: cli.secret }) },
    { resolveFrom: import.meta.url, onWarning, create: false },
  )
}
