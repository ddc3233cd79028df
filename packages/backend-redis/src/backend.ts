/**
 * The Redis backend's descriptor, what `createCache({ backend: "redis" })`
 * opens (see core's `Backend`), and `createRedisCache(options)`, which opens
 * it from typed options.
 */
import { type Backend, type BackendContext, openBackend, type StoreCache, type StoreCacheOptions } from "@sitecache/core"
import { DEFAULT_URL, REDIS_OPTIONS, type RedisStoreOptions, resolveRedisOptions } from "./options.js"
import { RedisStore } from "./store.js"

/** The URL without its password, for people. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = "***"
    return parsed.toString()
  } catch {
    return url
  }
}

/**
 * A namespace on a Redis server or cluster. It has no size bound of its own
 * (the server's `maxmemory` is), creates nothing, and its `secret` signs
 * every entry of the cache, on every tier (entries move between tiers as
 * stored bytes). In `read-only` mode it sends no write command.
 */
export const backend: Backend<RedisStore> = {
  name: "redis",
  options: REDIS_OPTIONS,
  persistent: true,
  // A build gives Redis 1 s a command and fails open; the CLI scans the whole namespace and fails on a fault.
  commandOptions: { commandTimeout: 10_000, connectTimeout: 5_000 },
  location(context: BackendContext): string {
    const options = resolveRedisOptions(context.options, context.scope)
    const where =
      options.client !== undefined
        ? "an existing client"
        : options.nodes !== undefined
          ? `cluster ${options.nodes.map((node) => `${node.host}:${node.port}`).join(", ")}`
          : shownUrl(options.url ?? DEFAULT_URL)
    return `${where} (namespace ${options.namespace})`
  },
  open(context: BackendContext): Promise<RedisStore> {
    const options = resolveRedisOptions(context.options, context.scope)
    return RedisStore.open({ ...options, readOnly: options.readOnly || context.mode === "read-only" })
  },
  cacheOptions(context: BackendContext) {
    const secret = context.options.secret as string | Uint8Array | undefined
    return secret === undefined ? {} : { secret }
  },
}

export interface RedisCacheOptions extends RedisStoreOptions, Omit<StoreCacheOptions, "secret" | "name"> {
  /**
   * Sign every entry with HMAC-SHA256 (at least 32 bytes): unsigned, tampered
   * or foreign-signed entries read as misses and are counted. Set it on any
   * server that someone else can write to.
   */
  readonly secret?: string | Uint8Array
}

/**
 * A cache on Redis or Redis Cluster. Every option, the cache's included, is
 * checked before connecting.
 *
 * @example
 * const cache = await createRedisCache({ url: process.env.REDIS_URL, secret: process.env.SITECACHE_SECRET })
 */
export function createRedisCache(options: RedisCacheOptions = {}): Promise<StoreCache> {
  return openBackend(backend, options)
}
