/**
 * `@sitecache/backend-redis`: a shared sitecache on Redis or Redis Cluster
 * (ioredis), failing open when Redis is slow or gone, with signed entries.
 */

export { backend, createRedisCache, type RedisCacheOptions } from "./backend.js"
export { type BreakerState, CircuitBreaker, type CircuitBreakerOptions } from "./breaker.js"
export { RedisFaultError } from "./errors.js"
export { checkNamespace, DEFAULT_NAMESPACE, KeyLayout } from "./layout.js"
export {
  type IoredisModule,
  loadIoredis,
  REDIS_OPTIONS,
  type RedisNode,
  type RedisStoreOptions,
  resolveRedisOptions,
} from "./options.js"
export { type RedisHealth, RedisStore } from "./store.js"
