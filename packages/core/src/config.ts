/**
 * `createCache(config)`: one configuration object picks and opens a backend,
 * or several as tiers. Core checks its own keys; each backend's options sit
 * under its name (`sqlite: { busyTimeout }`) and are checked by that backend's
 * schema (see backend.ts), so core enumerates no backend.
 */
import { resolve } from "node:path"
import {
  type Backend,
  type BackendContext,
  backendContext,
  type CommonOptions,
  defaultCacheDir,
  openPrepared,
  type PreparedBackend,
  signingSecret,
} from "./backend.js"
import { loadBackend } from "./backend-loader.js"
import type { StoreCache, StoreCacheOptions } from "./cache.js"
import { CACHE_OPTIONS } from "./cache-options.js"
import { BackendMissingError, BadOptionError } from "./errors.js"
import { nullBackend } from "./memory.js"
import {
  booleanOption,
  checkOptions,
  closestName,
  durationOption,
  type OptionSchema,
  oneOfOption,
  sizeOption,
  stringOption,
} from "./options.js"
import type { Store } from "./store.js"
import { DEFAULT_MAX_IDLE } from "./sweep.js"
import type { CacheMode } from "./types.js"

export type ConfigMode = CacheMode | "off"

export interface CacheConfig {
  /**
   * A backend, or several as tiers (fastest first): a name (`"sqlite"`, the
   * package `@sitecache/backend-sqlite`; core's own `"memory"` and `"null"`)
   * or a module specifier (`"./my-backend.js"`, `"my-backend"`). Default `fs`.
   */
  readonly backend?: string | readonly string[]
  /** Default `read-write`; `off` gives the null cache. */
  readonly mode?: ConfigMode
  /** Cache directory. Default `<root>/node_modules/.cache/sitecache`. */
  readonly dir?: string
  /** Project root, for the default `dir` and project-relative paths. Default `process.cwd()`. */
  readonly root?: string
  /**
   * Size bound, `"500 MB"` or bytes: least recently used entries are evicted
   * past it. Default each backend's own (`DEFAULT_MAX_SIZE`, 1 GiB, for fs
   * and SQLite; 256 MiB for memory); Redis goes by the server's `maxmemory`.
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
  /** Sign entries (every tier) with HMAC-SHA256; at least 32 bytes. */
  readonly secret?: string | Uint8Array
  readonly keyPrefix?: string
  readonly name?: string
  /** A backend's own options, an object under its name (`sqlite: { path }`, `redis: { url }`), checked by that backend. */
  readonly [backendOptions: string]: unknown
}

/** A configuration with core's defaults applied and core's keys checked. */
export interface ResolvedCacheConfig {
  readonly backend: string | readonly string[]
  readonly mode: ConfigMode
  readonly dir: string
  readonly root: string
  /** As set; each backend applies its own default. */
  readonly maxSize?: number
  readonly ttl?: number
  readonly maxIdle: number | false
  readonly strict: boolean
  readonly secret?: string | Uint8Array
  readonly keyPrefix?: string
  readonly name?: string
  /** Each backend's own options by backend name, as given: `resolveBackends` has each checked by its backend. */
  readonly backendOptions: Readonly<Record<string, Readonly<Record<string, unknown>>>>
}

export interface CreateCacheOptions extends Pick<StoreCacheOptions, "clock" | "onWarning" | "codec"> {
  /**
   * `false`: open only a cache that exists. A backend whose cache is missing
   * (no directory, no database file) throws `CacheNotFoundError` and creates
   * nothing. A backend with nothing to create (Redis) ignores it. Default `true`.
   */
  readonly create?: boolean
  /** Extra places to resolve backend packages from (a file URL or path), e.g. `import.meta.url`. */
  readonly resolveFrom?: string | URL | readonly (string | URL)[]
  /** Open tiers: given the stores of `backend` (fastest first), return one store. Default `createTieredStore`. */
  readonly tiers?: (stores: Store[], config: ResolvedCacheConfig) => Store | Promise<Store>
}

const MODES: readonly ConfigMode[] = ["read-write", "read-only", "write-only", "off"]

function checkBackend(value: unknown, option: string): string {
  if (typeof value === "string" && value.trim() !== "") return value
  throw new BadOptionError(
    option,
    `expected a backend name ("fs", "sqlite", ...) or a module specifier, got ${JSON.stringify(value)}`,
  )
}

/** A backend, or a list of distinct backends (tiers, fastest first). */
export function checkBackends(value: unknown, option: string): string | readonly string[] {
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

/** The schema of core's keys of `CacheConfig` (see `checkOptions`). */
const CONFIG_OPTIONS: OptionSchema = {
  backend: checkBackends,
  mode: oneOfOption(MODES),
  dir: stringOption,
  root: stringOption,
  maxSize: sizeOption,
  ttl: durationOption,
  maxIdle: (value, option) => (value === false ? false : durationOption(value, option)),
  strict: booleanOption,
  secret: (value, option) => {
    CACHE_OPTIONS.secret?.(value, option)
    return value
  },
  keyPrefix: stringOption,
  name: stringOption,
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
}

function unknownKey(name: string, known: readonly string[], why: string): BadOptionError {
  const closest = closestName(name, known)
  return new BadOptionError(
    name,
    `unknown option${closest === undefined ? "" : ` (did you mean \`${closest}\`?)`}; ${why}; known options are ${known
      .map((k) => `\`${k}\``)
      .join(", ")}, and a backend's own options under its name`,
  )
}

/**
 * Apply core's defaults and check core's keys; throws `BadOptionError` naming
 * the option. A key core does not know must hold an object: a backend's own
 * options, checked by that backend when the cache opens (`resolveBackends`).
 */
export function normalizeCacheConfig(config: CacheConfig = {}): ResolvedCacheConfig {
  if (!isPlainObject(config)) throw new BadOptionError("config", "expected an object")
  const core: Record<string, unknown> = {}
  const backendOptions: Record<string, Readonly<Record<string, unknown>>> = {}
  for (const [name, value] of Object.entries(config)) {
    if (Object.hasOwn(CONFIG_OPTIONS, name)) core[name] = value
    else if (isPlainObject(value)) backendOptions[name] = value
    else if (value !== undefined)
      throw unknownKey(name, Object.keys(CONFIG_OPTIONS), "not an object of a backend's options either")
  }
  const checked = checkOptions(core, CONFIG_OPTIONS) as Partial<ResolvedCacheConfig>
  const root = resolve(checked.root ?? process.cwd())
  return {
    ...checked,
    backend: checked.backend ?? "fs",
    mode: checked.mode ?? "read-write",
    dir: checked.dir === undefined ? defaultCacheDir(root) : resolve(root, checked.dir),
    root,
    strict: checked.strict ?? false,
    maxIdle: checked.maxIdle ?? DEFAULT_MAX_IDLE,
    backendOptions,
  }
}

/** A tier: its backend, the context it opens with, and how the configuration named it. */
export interface ResolvedTier extends PreparedBackend {
  /** As written in `backend` (a name or a module specifier). */
  readonly spec: string
}

/** What a configuration opens: its tiers, each backend loaded and its options checked, and the secret that signs every tier. */
export interface ResolvedBackends {
  readonly config: ResolvedCacheConfig
  readonly tiers: readonly ResolvedTier[]
  readonly secret?: string | Uint8Array
}

/**
 * Load the backends of a configuration and check each one's options with its
 * schema: the tiers', and every other installed backend's options object in
 * it (a `redis` object kept for CI while building on SQLite), so a typo is
 * refused, naming the key. An object under a name close to a core option, a
 * tier or an installed backend is a typo; the options of a backend that is
 * neither used nor installed here are left for the builds that use it. What `createCache` opens, and what the `sitecache`
 * command reads its tiers from.
 */
export function resolveBackends(config: CacheConfig = {}, options: ResolveBackendsOptions = {}): Promise<ResolvedBackends> {
  try {
    return resolveTiers(normalizeCacheConfig(config), options)
  } catch (error) {
    return Promise.reject(error)
  }
}

type ResolveBackendsOptions = Pick<CreateCacheOptions, "resolveFrom" | "create" | "clock" | "onWarning">

async function resolveTiers(resolved: ResolvedCacheConfig, options: ResolveBackendsOptions): Promise<ResolvedBackends> {
  const specs = [resolved.backend].flat()
  const load = (spec: string, option: string) =>
    loadBackend(spec, {
      root: resolved.root,
      option,
      ...(options.resolveFrom === undefined ? {} : { resolveFrom: options.resolveFrom }),
    })
  const backends: Backend[] = []
  for (const [i, spec] of specs.entries()) backends.push(await load(spec, specs.length > 1 ? `backend[${i}]` : "backend"))
  backends.forEach((backend, i) => {
    const first = backends.findIndex((other) => other.name === backend.name)
    if (first !== i)
      throw new BadOptionError(
        `backend[${i}]`,
        `"${specs[i]}" is the backend "${backend.name}", already tier ${first}: each backend is one tier at most`,
      )
  })
  for (const [name, section] of Object.entries(resolved.backendOptions)) {
    if (backends.some((backend) => backend.name === name)) continue
    let other: Backend
    try {
      other = await load(name, name)
    } catch (error) {
      if (!(error instanceof BackendMissingError || error instanceof BadOptionError)) throw error
      const known = [...Object.keys(CONFIG_OPTIONS), ...backends.map((backend) => backend.name)]
      // A typo: of a core option, a tier's name, or an installed backend's (the loader's `BadOptionError`).
      if (error instanceof BadOptionError || closestName(name, known) !== undefined)
        throw unknownKey(name, known, `no backend named "${name}" is installed`)
      // The options of a backend not installed here and not used (a `redis` object kept for CI): left for it.
      continue
    }
    checkOptions(section, other.options, `${name}.`)
  }
  const common: CommonOptions = {
    root: resolved.root,
    dir: resolved.dir,
    mode: resolved.mode === "off" ? "read-write" : resolved.mode,
    tier: backends.length > 1,
    ...(resolved.maxSize === undefined ? {} : { maxSize: resolved.maxSize }),
    ...(options.create === undefined ? {} : { create: options.create }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  }
  const tiers = backends.map((backend, i): ResolvedTier => {
    const own = checkOptions(resolved.backendOptions[backend.name] ?? {}, backend.options, `${backend.name}.`)
    const context: BackendContext = backendContext(backend, own, `${backend.name}.`, common)
    return { backend, context, spec: specs[i] as string }
  })
  const secret = signingSecret(tiers, resolved.secret)
  return { config: resolved, tiers, ...(secret === undefined ? {} : { secret }) }
}

/**
 * Open the cache a configuration describes.
 *
 * @example
 * const cache = await createCache({ backend: "sqlite", maxSize: "1 GB" })
 */
export async function createCache(config: CacheConfig = {}, options: CreateCacheOptions = {}): Promise<StoreCache> {
  const resolved = normalizeCacheConfig(config)
  const off = resolved.mode === "off"
  const { tiers, secret } = off
    ? {
        tiers: [
          { backend: nullBackend, context: backendContext(nullBackend, {}, "", { root: resolved.root, dir: resolved.dir }) },
        ],
        secret: resolved.secret,
      }
    : await resolveTiers(resolved, options)
  const cacheOptions: StoreCacheOptions = {
    mode: off ? "read-write" : (resolved.mode as CacheMode),
    strict: resolved.strict,
    maxIdle: resolved.maxIdle,
    ...(resolved.ttl === undefined ? {} : { ttl: resolved.ttl }),
    ...(secret === undefined ? {} : { secret }),
    ...(resolved.keyPrefix === undefined ? {} : { keyPrefix: resolved.keyPrefix }),
    ...(resolved.name === undefined ? {} : { name: resolved.name }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    ...(options.codec === undefined ? {} : { codec: options.codec }),
  }
  const combine = async (stores: Store[]) => {
    if (options.tiers !== undefined) return options.tiers(stores, resolved)
    const { createTieredStore } = await import("./tiered.js")
    return createTieredStore(stores, { mode: resolved.mode })
  }
  return openPrepared(tiers, cacheOptions, combine)
}
