/**
 * The two ways in: `createStore(config)` for `createCache({ backend: "redis" })`
 * (and tiers), and `createRedisCache(options)` for direct use.
 */
import {
  BadOptionError,
  CACHE_OPTIONS,
  checkOptions,
  NullStore,
  type OptionSchema,
  type ResolvedCacheConfig,
  StoreCache,
  type StoreCacheOptions,
} from "@sitecache/core"
import { checkSecret, REDIS_OPTIONS, type RedisStoreOptions, resolveRedisOptions } from "./options.js"
import { RedisStore } from "./store.js"

/**
 * Open the Redis store a resolved cache configuration describes (`config.redis`).
 * `redis.secret` is checked here (at least 32 bytes); `createCache` signs
 * every entry with it. In `read-only` mode the store sends no write command.
 */
export async function createStore(config: ResolvedCacheConfig): Promise<RedisStore> {
  const redis = (config.redis ?? {}) as Record<string, unknown>
  const secret = checkSecret(redis.secret, "redis.secret")
  if (secret !== undefined && config.secret !== undefined && config.secret !== secret) {
    throw new BadOptionError("redis.secret", "differs from `secret`: give the secret once")
  }
  const options = resolveRedisOptions(redis, "redis.")
  return RedisStore.open({ ...options, readOnly: options.readOnly || config.mode === "read-only" })
}

export interface RedisCacheOptions extends RedisStoreOptions, Omit<StoreCacheOptions, "secret" | "name"> {
  /**
   * Sign every entry with HMAC-SHA256 (at least 32 bytes): unsigned, tampered
   * or foreign-signed entries read as misses and are counted. Set it on any
   * server that someone else can write to.
   */
  readonly secret?: string | Uint8Array
}

/** The options of `createRedisCache`: the cache's, and the store's own (`name` and `secret` are the store's). */
const REDIS_CACHE_OPTIONS: OptionSchema = { ...CACHE_OPTIONS, ...REDIS_OPTIONS }

/** The cache's options that go to `StoreCache`, not to the store. */
const CACHE_OPTION_NAMES = Object.keys(CACHE_OPTIONS).filter((name) => name !== "name" && name !== "secret")

/**
 * A cache on Redis or Redis Cluster.
 *
 * @example
 * const cache = await createRedisCache({ url: process.env.REDIS_URL, secret: process.env.SITECACHE_SECRET })
 */
export async function createRedisCache(options: RedisCacheOptions = {}): Promise<StoreCache> {
  // Every option, the cache's included, is checked before connecting.
  checkOptions(options, REDIS_CACHE_OPTIONS)
  const { secret, ...rest } = options
  const storeOptions: Record<string, unknown> = { ...rest }
  const cacheOptions: Record<string, unknown> = {}
  for (const name of CACHE_OPTION_NAMES) {
    if (name in storeOptions) {
      cacheOptions[name] = storeOptions[name]
      delete storeOptions[name]
    }
  }
  const checkedSecret = checkSecret(secret, "secret")
  const resolved = resolveRedisOptions(storeOptions, "")
  // Check the cache options before connecting, so a mistake does not leave a connection open.
  const probe = new StoreCache(new NullStore(), {
    ...(cacheOptions as StoreCacheOptions),
    ...(checkedSecret === undefined ? {} : { secret: checkedSecret }),
  })
  const store = await RedisStore.open({ ...resolved, readOnly: resolved.readOnly || probe.mode === "read-only" })
  return new StoreCache(store, {
    ...(cacheOptions as StoreCacheOptions),
    ...(checkedSecret === undefined ? {} : { secret: checkedSecret }),
    ...(resolved.name === undefined ? {} : { name: resolved.name }),
  })
}
