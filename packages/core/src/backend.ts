/**
 * Backends are plugins. A backend package exports one descriptor, a
 * `Backend`: its name, the schema of its own options, where its cache lives
 * for a given configuration, and how to open its store. Core knows no backend
 * but its own two (`memory`, `null`): `createCache` finds the others by name
 * (`backend: "sqlite"` is the package `@sitecache/backend-sqlite`, or
 * `sitecache-backend-sqlite`) or by module specifier (`backend:
 * "./my-backend.js"`, `"my-backend"`), and every way to open a backend (
 * `createCache`, and each backend's direct constructor through `openBackend`)
 * checks options with one validator (`checkOptions`) over the same schemas.
 *
 * Adding a backend is a new package: implement `Store` (src/store.ts), export
 * a `Backend` as `backend` (or as the default export), and run
 * `@sitecache/conformance` on it.
 */
import { join, resolve } from "node:path"
import { StoreCache, type StoreCacheOptions } from "./cache.js"
import { CACHE_OPTIONS } from "./cache-options.js"
import { BadOptionError } from "./errors.js"
import { checkOptions, durationOption, type OptionSchema, sizeOption, stringOption } from "./options.js"
import type { Store } from "./store.js"
import type { CacheMode } from "./types.js"

/**
 * The size bound of a local cache (fs, SQLite) when `maxSize` is not set:
 * 1 GiB. Rendered pages are 5 to 50 KiB, so it holds a 10,000-page site's
 * entries a few times over (a few generations of keys between sweeps), and a
 * CI cache of that size restores in seconds and leaves room for several
 * branches in GitHub's 10 GB per repository.
 */
export const DEFAULT_MAX_SIZE = 1024 ** 3

/** Where local backends keep their files when `dir` is not set: the ecosystem's convention, under the project root. */
export function defaultCacheDir(root: string): string {
  return join(resolve(root), "node_modules", ".cache", "sitecache")
}

/** What a backend is opened with: its own options, checked, and what every backend shares. */
export interface BackendContext {
  /** Its own options (the `<name>` object of a configuration, or its part of a direct constructor's), checked by `Backend.options`. */
  readonly options: Readonly<Record<string, unknown>>
  /** How the user reached those options, for messages: `"sqlite."` through `createCache`, `""` through a direct constructor. */
  readonly scope: string
  /** The project root, absolute: relative paths in its options are relative to it. */
  readonly root: string
  /** Where local backends keep their files, absolute: `dir`, by default `defaultCacheDir(root)`. */
  readonly dir: string
  /** The size bound in bytes: `maxSize`, else the backend's `defaultMaxSize`. */
  readonly maxSize: number | undefined
  readonly mode: CacheMode
  /** `false`: open only a cache that exists; a missing one is `CacheNotFoundError`, and nothing is created. */
  readonly create: boolean
  /** One tier among several: a front tier (memory) keeps its own bound rather than the whole cache's. */
  readonly tier: boolean
  /** The cache's clock (access times, sweeps), ms since the epoch. */
  readonly clock?: () => number
  /** Where the store's own warnings go (a damaged database moved aside). */
  readonly onWarning?: (message: string, cause: unknown) => void
}

/** A backend: what its package exports for `createCache` and its direct constructor. */
export interface Backend<S extends Store = Store, C extends StoreCache = StoreCache> {
  /** What `backend: "<name>"` selects, and the key of its options in a configuration (`sqlite: { … }`). */
  readonly name: string
  /** Its own options, as a schema for `checkOptions`. */
  readonly options: OptionSchema
  /** Its size bound when `maxSize` is not set; none when the engine bounds itself (Redis' `maxmemory`). */
  readonly defaultMaxSize?: number
  /** Whether its entries outlive the process: what the `sitecache` command can work on. */
  readonly persistent: boolean
  /** Where its cache lives for these options, for people: a path, a URL and namespace. Never opens anything. */
  location(context: BackendContext): string
  /** Open its store. With `context.create` false, throw `CacheNotFoundError` where no cache exists, creating nothing. */
  open(context: BackendContext): S | Promise<S>
  /**
   * Its own options for a one-off command (the `sitecache` CLI's inspect, verify, prune…), unless the
   * configuration sets them: a command scans the whole cache and fails on a fault, where a build fails
   * open and must not wait (Redis: longer timeouts).
   */
  readonly commandOptions?: Readonly<Record<string, unknown>>
  /** Options of the whole cache that its own options set (Redis: `redis.secret` signs every entry, every tier). */
  cacheOptions?(context: BackendContext): { readonly secret?: string | Uint8Array }
  /** The cache over its store when it offers more than the contract (fs: streams). Default `new StoreCache(store, options)`. */
  cache?(store: S, options: StoreCacheOptions): C
}

/** A backend with the context it opens with. */
export interface PreparedBackend {
  readonly backend: Backend
  readonly context: BackendContext
}

/** The options every backend shares, besides the cache's (`CACHE_OPTIONS`) and its own. */
export const BACKEND_COMMON_OPTIONS: OptionSchema = {
  root: stringOption,
  dir: stringOption,
  maxSize: sizeOption,
}

/** What the context needs of a configuration, checked. */
export interface CommonOptions {
  readonly root?: string
  readonly dir?: string
  readonly maxSize?: number
  readonly mode?: CacheMode
  readonly create?: boolean
  readonly tier?: boolean
  readonly clock?: () => number
  readonly onWarning?: (message: string, cause: unknown) => void
}

/** The context of `backend` for checked `own` options and the shared ones. */
export function backendContext(
  backend: Backend,
  own: Readonly<Record<string, unknown>>,
  scope: string,
  common: CommonOptions,
): BackendContext {
  const root = resolve(common.root ?? process.cwd())
  const maxSize = common.maxSize ?? backend.defaultMaxSize
  return {
    options: own,
    scope,
    root,
    dir: common.dir === undefined ? defaultCacheDir(root) : resolve(root, common.dir),
    maxSize,
    mode: common.mode ?? "read-write",
    create: common.create ?? true,
    tier: common.tier ?? false,
    ...(common.clock === undefined ? {} : { clock: common.clock }),
    ...(common.onWarning === undefined ? {} : { onWarning: common.onWarning }),
  }
}

/**
 * The secret that signs every entry of a cache over `prepared` (every tier:
 * entries move between tiers as stored bytes): `secret`, or the one a
 * backend's own options set. Two different ones are refused.
 */
export function signingSecret(
  prepared: readonly PreparedBackend[],
  secret: string | Uint8Array | undefined,
): string | Uint8Array | undefined {
  let chosen = secret
  let from = "secret"
  for (const { backend, context } of prepared) {
    const own = backend.cacheOptions?.(context).secret
    if (own === undefined) continue
    if (chosen !== undefined && !sameSecret(chosen, own))
      throw new BadOptionError(`${context.scope}secret`, `differs from \`${from}\`: give the secret once`)
    chosen = own
    from = `${context.scope}secret`
  }
  return chosen
}

function sameSecret(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b))
}

/** The location of a cache over `prepared`, for people: each tier's, fastest first. */
export function locationOf(prepared: readonly PreparedBackend[]): string {
  return prepared.map(({ backend, context }) => backend.location(context)).join(", ")
}

/**
 * Open the stores of `prepared` (closing those already open when one fails)
 * and, for one, the backend's own cache over it; for several, `combine`
 * makes one store of them (tiers).
 */
export async function openPrepared(
  prepared: readonly PreparedBackend[],
  cacheOptions: StoreCacheOptions,
  combine?: (stores: Store[]) => Store | Promise<Store>,
): Promise<StoreCache> {
  const stores: Store[] = []
  try {
    for (const { backend, context } of prepared) stores.push(await backend.open(context))
    const options = { ...cacheOptions, location: locationOf(prepared) }
    const single = prepared.length === 1 ? (prepared[0] as PreparedBackend) : undefined
    if (single !== undefined) {
      const store = stores[0] as Store
      return single.backend.cache ? single.backend.cache(store, options) : new StoreCache(store, options)
    }
    if (combine === undefined) throw new BadOptionError("backend", "several tiers need a way to combine them")
    return new StoreCache(await combine(stores), options)
  } catch (error) {
    await Promise.allSettled(stores.map((store) => store.close()))
    throw error
  }
}

/** Split `options` checked by a direct constructor into the cache's, the shared ones and the backend's own. */
function splitDirect(
  backend: Backend,
  options: object,
): { own: Record<string, unknown>; cache: StoreCacheOptions; common: CommonOptions } {
  // `ttl` is a duration for a direct constructor, as in a configuration.
  const schema: OptionSchema = { ...CACHE_OPTIONS, ttl: durationOption, ...BACKEND_COMMON_OPTIONS, ...backend.options }
  const checked = checkOptions(options, schema)
  const given = options as Record<string, unknown>
  const own: Record<string, unknown> = {}
  const cache: Record<string, unknown> = {}
  for (const name of Object.keys(checked)) {
    // A name both the cache and the backend know (`name`, Redis' `secret`) goes to both.
    if (Object.hasOwn(backend.options, name)) own[name] = checked[name]
    if (Object.hasOwn(CACHE_OPTIONS, name)) cache[name] = name === "ttl" ? checked[name] : given[name]
  }
  const common = checked as CommonOptions
  return { own, cache: cache as StoreCacheOptions, common }
}

/**
 * The backend and context a direct constructor (`createSqliteCache(options)`)
 * opens with, and the cache's options: every option checked first, by one
 * schema made of the cache's, the shared and the backend's own.
 */
export function prepareDirect(backend: Backend, options: object): { prepared: PreparedBackend; cacheOptions: StoreCacheOptions } {
  const { own, cache, common } = splitDirect(backend, options)
  const context = backendContext(backend, own, "", {
    ...common,
    ...(cache.mode === undefined ? {} : { mode: cache.mode }),
    ...(cache.clock === undefined ? {} : { clock: cache.clock }),
    ...(cache.onWarning === undefined ? {} : { onWarning: cache.onWarning }),
  })
  const prepared = { backend, context }
  const secret = signingSecret([prepared], cache.secret)
  return { prepared, cacheOptions: { ...cache, ...(secret === undefined ? {} : { secret }) } }
}

/**
 * Open a cache on `backend` from a direct constructor's options: the cache's
 * (`mode`, `ttl`, `secret`, ...), the shared `dir`, `root` and `maxSize`, and
 * the backend's own, all checked before anything is opened.
 *
 * @example
 * export const createSqliteCache = (options = {}) => openBackend(backend, options)
 */
export function openBackend<S extends Store, C extends StoreCache>(backend: Backend<S, C>, options: object = {}): Promise<C> {
  try {
    const { prepared, cacheOptions } = prepareDirect(backend, options)
    return openPrepared([prepared], cacheOptions) as Promise<C>
  } catch (error) {
    return Promise.reject(error)
  }
}
