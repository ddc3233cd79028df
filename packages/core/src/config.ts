/**
 * `createCache(config)`: one configuration object picks and opens a backend;
 * `resolveCacheConfig` maps command-line flags and environment variables onto
 * it, so every adapter and example handles `--no-cache` the same way.
 */
import { createRequire } from "node:module"
import { isAbsolute, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { StoreCache, type StoreCacheOptions } from "./cache.js"
import { BackendMissingError, BadOptionError } from "./errors.js"
import { MEMORY_OPTIONS, MemoryStore, NullStore } from "./memory.js"
import {
  booleanOption,
  checkOptions,
  durationOption,
  type OptionSchema,
  objectOption,
  oneOfOption,
  sizeOption,
  stringOption,
} from "./options.js"
import type { Store } from "./store.js"
import { DEFAULT_MAX_IDLE } from "./sweep.js"
import type { CacheMode } from "./types.js"

export type BackendName = "memory" | "fs" | "sqlite" | "redis" | "null"
export type ConfigMode = CacheMode | "off"

export const BACKENDS: readonly BackendName[] = ["memory", "fs", "sqlite", "redis", "null"]

/** The package that provides each backend. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  memory: "@sitecache/core",
  null: "@sitecache/core",
  fs: "@sitecache/backend-fs",
  sqlite: "@sitecache/backend-sqlite",
  redis: "@sitecache/backend-redis",
}

export interface RedisConfig {
  /** `redis://[:password@]host:port/db`; or `nodes` for a cluster. */
  readonly url?: string
  readonly nodes?: readonly (string | { readonly host: string; readonly port: number })[]
  /** HMAC secret of at least 32 bytes: entries are signed and checked. */
  readonly secret?: string
  /** Prefix of every Redis key of this cache. Default `sitecache`. */
  readonly namespace?: string
  /** An existing ioredis client or cluster to use (not closed by the cache). */
  readonly client?: unknown
  readonly [option: string]: unknown
}

export interface CacheConfig {
  /** A backend, or several as tiers (fastest first). Default `fs`. */
  readonly backend?: BackendName | readonly BackendName[]
  /** Default `read-write`; `off` gives the null cache. */
  readonly mode?: ConfigMode
  /** Cache directory. Default `<root>/node_modules/.cache/sitecache`. */
  readonly dir?: string
  /** Project root, for the default `dir` and project-relative paths. Default `process.cwd()`. */
  readonly root?: string
  /**
   * Size bound, `"500 MB"` or bytes: least recently used entries are evicted
   * past it. Default `DEFAULT_MAX_SIZE` (1 GiB) for the fs and SQLite
   * backends, 256 MiB for memory; Redis goes by the server's `maxmemory`.
   */
  readonly maxSize?: string | number
  /** Default time to live, `"30d"` or ms. */
  readonly ttl?: string | number
  /**
   * Entries nobody read or wrote for this long (`"7d"` or ms) are removed at
   * the end of a build, at most once a day; `false` never. Default a week.
   */
  readonly maxIdle?: string | number | false
  readonly strict?: boolean
  readonly redis?: RedisConfig
  readonly sqlite?: Readonly<Record<string, unknown>>
  readonly fs?: Readonly<Record<string, unknown>>
  readonly memory?: { readonly maxSize?: string | number }
  /** Sign entries (every tier) with HMAC-SHA256; at least 32 bytes. */
  readonly secret?: string
  readonly keyPrefix?: string
  readonly name?: string
}

/** A configuration with every default applied and every value checked; what backends receive. */
export interface ResolvedCacheConfig {
  readonly backend: BackendName | readonly BackendName[]
  readonly mode: ConfigMode
  readonly dir: string
  readonly root: string
  /** As set; each backend applies its own default (`DEFAULT_MAX_SIZE` for fs and SQLite). */
  readonly maxSize?: number
  readonly ttl?: number
  /** For the cache, not the store (see `StoreCacheOptions.maxIdle`); `normalizeCacheConfig` always sets it. */
  readonly maxIdle?: number | false
  readonly strict: boolean
  readonly redis?: RedisConfig
  readonly sqlite?: Readonly<Record<string, unknown>>
  readonly fs?: Readonly<Record<string, unknown>>
  readonly memory?: { readonly maxSize?: number }
  readonly secret?: string
  readonly keyPrefix?: string
  readonly name?: string
}

/**
 * What `createCache` hands a backend's `createStore` besides the configuration:
 * its own `onWarning` (where a store's warnings go: a damaged database moved
 * aside, say) and `clock`, and `create`.
 */
export interface StoreContext extends Pick<StoreCacheOptions, "onWarning" | "clock"> {
  /**
   * `false`: open only a cache that exists. A backend whose cache is missing
   * (no directory, no database file) throws `CacheNotFoundError` and creates
   * nothing. A backend with nothing to create (Redis) ignores it. Default `true`.
   */
  readonly create?: boolean
}

/**
 * The size bound of a local cache (fs, SQLite) when `maxSize` is not set:
 * 1 GiB. Rendered pages are 5 to 50 KiB, so it holds a 10,000-page site's
 * entries a few times over (a few generations of keys between sweeps), and a
 * CI cache of that size restores in seconds and leaves room for several
 * branches in GitHub's 10 GB per repository.
 */
export const DEFAULT_MAX_SIZE = 1024 ** 3

/** What a backend package exports for `createCache`. */
export interface BackendModule {
  createStore(config: ResolvedCacheConfig, context?: StoreContext): Store | Promise<Store>
}

export interface CreateCacheOptions
  extends Pick<StoreCacheOptions, "clock" | "onWarning" | "codec">,
    Pick<StoreContext, "create"> {
  /** Extra places to resolve backend packages from (a file URL or path), e.g. `import.meta.url`. */
  readonly resolveFrom?: string | URL | readonly (string | URL)[]
  /** Open tiers: given the stores of `backend` (fastest first), return one store. */
  readonly tiers?: (stores: Store[], config: ResolvedCacheConfig) => Store | Promise<Store>
}

const MODES: readonly ConfigMode[] = ["read-write", "read-only", "write-only", "off"]

function checkBackend(name: unknown, option: string): BackendName {
  if (typeof name === "string" && (BACKENDS as readonly string[]).includes(name)) return name as BackendName
  throw new BadOptionError(
    option,
    `unknown backend ${JSON.stringify(name)}; expected one of ${BACKENDS.map((b) => `"${b}"`).join(", ")}`,
  )
}

/** A backend, or a list of distinct backends (tiers, fastest first). */
function checkBackends(value: unknown, option: string): BackendName | readonly BackendName[] {
  if (!Array.isArray(value)) return checkBackend(value, option)
  if (value.length === 0) throw new BadOptionError(option, "an empty list of tiers")
  const names = value.map((name, i) => checkBackend(name, `${option}[${i}]`))
  names.forEach((name, i) => {
    const first = names.indexOf(name)
    if (first !== i)
      throw new BadOptionError(`${option}[${i}]`, `"${name}" is already tier ${first}: each backend is one tier at most`)
  })
  return names
}

/** The schema of `CacheConfig` (see `checkOptions`); each backend checks its own object (`fs`, `sqlite`, `redis`) when it opens. */
const CONFIG_OPTIONS: OptionSchema = {
  backend: checkBackends,
  mode: oneOfOption(MODES),
  dir: stringOption,
  root: stringOption,
  maxSize: sizeOption,
  ttl: durationOption,
  maxIdle: (value, option) => (value === false ? false : durationOption(value, option)),
  strict: booleanOption,
  redis: objectOption,
  sqlite: objectOption,
  fs: objectOption,
  memory: (value, option) => checkOptions(value, MEMORY_OPTIONS, `${option}.`),
  secret: stringOption,
  keyPrefix: stringOption,
  name: stringOption,
}

/** Apply defaults and check every value; throws `BadOptionError` naming the option. */
export function normalizeCacheConfig(config: CacheConfig = {}): ResolvedCacheConfig {
  if (typeof config !== "object" || config === null) throw new BadOptionError("config", "expected an object")
  const checked = checkOptions(config, CONFIG_OPTIONS) as Omit<
    ResolvedCacheConfig,
    "backend" | "mode" | "strict" | "dir" | "root"
  > &
    Partial<Pick<ResolvedCacheConfig, "backend" | "mode" | "strict" | "dir" | "root">>
  const root = resolve(checked.root ?? process.cwd())
  const dir =
    checked.dir === undefined
      ? join(root, "node_modules", ".cache", "sitecache")
      : isAbsolute(checked.dir)
        ? checked.dir
        : resolve(root, checked.dir)
  return {
    ...checked,
    backend: checked.backend ?? "fs",
    mode: checked.mode ?? "read-write",
    dir,
    root,
    strict: checked.strict ?? false,
    maxIdle: checked.maxIdle ?? DEFAULT_MAX_IDLE,
  }
}

async function loadBackend(name: BackendName, config: ResolvedCacheConfig, options: CreateCacheOptions): Promise<BackendModule> {
  const packageName = BACKEND_PACKAGES[name]
  const bases = [options.resolveFrom ?? [], pathToFileURL(join(config.root, "package.json")), import.meta.url].flat()
  let lastError: unknown
  for (const base of bases) {
    try {
      const resolved = createRequire(base).resolve(packageName)
      return (await import(pathToFileURL(resolved).href)) as BackendModule
    } catch (error) {
      lastError = error
      const code = (error as { code?: string }).code
      if (code !== "MODULE_NOT_FOUND" && code !== "ERR_MODULE_NOT_FOUND" && code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw error
    }
  }
  throw new BackendMissingError(name, packageName, { cause: lastError })
}

async function openStore(name: BackendName, config: ResolvedCacheConfig, options: CreateCacheOptions): Promise<Store> {
  switch (name) {
    case "null":
      return new NullStore()
    case "memory": {
      const maxSize = config.memory?.maxSize ?? (Array.isArray(config.backend) ? undefined : config.maxSize)
      return new MemoryStore({
        ...(maxSize === undefined ? {} : { maxSize }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      })
    }
    default:
      return (await loadBackend(name, config, options)).createStore(config, {
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.create === undefined ? {} : { create: options.create }),
      })
  }
}

/**
 * The secret that signs every entry of a configuration, in every tier:
 * `secret`, or else `redis.secret` when one of the tiers is Redis (entries
 * move between tiers as stored bytes). What `createCache` signs and checks
 * with, and so what any tool that checks entries must use, even on one tier.
 */
export function cacheSecret(config: ResolvedCacheConfig): string | undefined {
  const usesRedis = config.backend === "redis" || (Array.isArray(config.backend) && config.backend.includes("redis"))
  return config.secret ?? (usesRedis ? config.redis?.secret : undefined)
}

/**
 * Open the cache a configuration describes.
 *
 * @example
 * const cache = await createCache({ backend: "sqlite", maxSize: "1 GB" })
 */
export async function createCache(config: CacheConfig = {}, options: CreateCacheOptions = {}): Promise<StoreCache> {
  const resolved = normalizeCacheConfig(config)
  const secret = cacheSecret(resolved)
  const cacheOptions: StoreCacheOptions = {
    mode: resolved.mode === "off" ? "read-write" : resolved.mode,
    strict: resolved.strict,
    ...(resolved.ttl === undefined ? {} : { ttl: resolved.ttl }),
    ...(resolved.maxIdle === undefined ? {} : { maxIdle: resolved.maxIdle }),
    ...(secret === undefined ? {} : { secret }),
    ...(resolved.keyPrefix === undefined ? {} : { keyPrefix: resolved.keyPrefix }),
    ...(resolved.name === undefined ? {} : { name: resolved.name }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    ...(options.codec === undefined ? {} : { codec: options.codec }),
  }
  if (resolved.mode === "off" || resolved.backend === "null") return new StoreCache(new NullStore(), cacheOptions)
  if (!Array.isArray(resolved.backend)) {
    return new StoreCache(await openStore(resolved.backend as BackendName, resolved, options), cacheOptions)
  }
  if (options.tiers === undefined && resolved.backend.length > 1) {
    const { createTieredStore } = await import("./tiered.js")
    return new StoreCache(await openTiers(resolved, options, createTieredStore), cacheOptions)
  }
  return new StoreCache(await openTiers(resolved, options, options.tiers), cacheOptions)
}

async function openTiers(
  config: ResolvedCacheConfig,
  options: CreateCacheOptions,
  combine: ((stores: Store[], config: ResolvedCacheConfig) => Store | Promise<Store>) | undefined,
): Promise<Store> {
  const stores: Store[] = []
  try {
    for (const name of config.backend as readonly BackendName[]) stores.push(await openStore(name, config, options))
  } catch (error) {
    await Promise.allSettled(stores.map((store) => store.close()))
    throw error
  }
  if (stores.length === 1) return stores[0] as Store
  return combine === undefined ? (stores[0] as Store) : combine(stores, config)
}

export interface ResolveCacheConfigInput {
  readonly config?: CacheConfig
  /** Command-line arguments, e.g. `process.argv.slice(2)`. */
  readonly argv?: readonly string[]
  /** Environment, e.g. `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

const CACHE_FLAG_MODES: Readonly<Record<string, ConfigMode>> = {
  read: "read-only",
  "read-only": "read-only",
  write: "write-only",
  "write-only": "write-only",
  "read-write": "read-write",
  on: "read-write",
  off: "off",
}

function flagMode(value: string, option: string): ConfigMode {
  const mode = CACHE_FLAG_MODES[value]
  if (mode === undefined)
    throw new BadOptionError(option, `expected read, write, read-write or off, got ${JSON.stringify(value)}`)
  return mode
}

function backendList(value: string, option: string): BackendName | readonly BackendName[] {
  const names = value.split(",").map((name) => name.trim())
  return checkBackends(names.length === 1 ? names[0] : names, option)
}

/** Read `--flag value` or `--flag=value`; the last occurrence wins. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === flag) {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith("--")) throw new BadOptionError(flag, "expects a value")
      value = next
      i++
    } else if (arg.startsWith(`${flag}=`)) {
      value = arg.slice(flag.length + 1)
    }
  }
  return value
}

/**
 * Apply the command line and the environment to a cache configuration.
 * Precedence: flags, then environment, then `config`.
 *
 * | flag | environment | effect |
 * | --- | --- | --- |
 * | `--no-cache` | `SITECACHE=off` | the null cache |
 * | `--cache=read\|write\|read-write\|off` | `SITECACHE=read\|write\|…` | the mode |
 * | `--cache-backend <name[,name…]>` | `SITECACHE_BACKEND` | the backend (a list makes tiers) |
 * | `--cache-dir <dir>` | `SITECACHE_DIR` | the directory |
 * | `--redis-url <url>` | `SITECACHE_REDIS_URL` | `redis.url` |
 * | | `SITECACHE_SECRET` | `secret` |
 */
export function resolveCacheConfig(input: ResolveCacheConfigInput = {}): CacheConfig {
  const argv = input.argv ?? []
  const env = input.env ?? {}
  const config: { -readonly [K in keyof CacheConfig]: CacheConfig[K] } = { ...input.config }

  const envMode = env.SITECACHE
  if (envMode !== undefined && envMode !== "") config.mode = flagMode(envMode.toLowerCase(), "SITECACHE")
  if (env.SITECACHE_BACKEND) config.backend = backendList(env.SITECACHE_BACKEND, "SITECACHE_BACKEND")
  if (env.SITECACHE_DIR) config.dir = env.SITECACHE_DIR
  if (env.SITECACHE_REDIS_URL) config.redis = { ...config.redis, url: env.SITECACHE_REDIS_URL }
  if (env.SITECACHE_SECRET) config.secret = env.SITECACHE_SECRET

  const cacheFlag = flagValue(argv, "--cache")
  if (cacheFlag !== undefined) config.mode = flagMode(cacheFlag, "--cache")
  if (argv.includes("--no-cache")) config.mode = "off"
  const backend = flagValue(argv, "--cache-backend")
  if (backend !== undefined) config.backend = backendList(backend, "--cache-backend")
  const dir = flagValue(argv, "--cache-dir")
  if (dir !== undefined) config.dir = dir
  const redisUrl = flagValue(argv, "--redis-url")
  if (redisUrl !== undefined) config.redis = { ...config.redis, url: redisUrl }
  return config
}
