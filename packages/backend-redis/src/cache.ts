/**
 * The two ways in: `createStore(config)` for `createCache({ backend: "redis" })`
 * (and tiers), and `createRedisCache(options)` for direct use.
 */
import { BadOptionError, NullStore, type ResolvedCacheConfig, StoreCache, type StoreCacheOptions } from "@sitecache/core"
import { checkSecret, type RedisStoreOptions, resolveRedisOptions } from "./options.js"
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

const CACHE_OPTIONS = [
  "mode",
  "ttl",
  "strict",
  "codec",
  "maxEntrySize",
  "compressAbove",
  "keyPrefix",
  "clock",
  "onWarning",
] as const satisfies readonly (keyof StoreCacheOptions)[]

/**
 * A cache on Redis or Redis Cluster.
 *
 * @example
 * const cache = await createRedisCache({ url: process.env.REDIS_URL, secret: process.env.SITECACHE_SECRET })
 */
export async function createRedisCache(options: RedisCacheOptions = {}): Promise<StoreCache> {
  const { secret, ...rest } = options
  const storeOptions: Record<string, unknown> = { ...rest }
  const cacheOptions: Record<string, unknown> = {}
  for (const name of CACHE_OPTIONS) {
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
