/**
 * Options of the Redis store, checked at creation (a mistake throws a
 * `BadOptionError` naming the option, e.g. `redis.commandTimeout`), and the
 * lazy loading of `ioredis`.
 */
import { BackendMissingError, BadOptionError, checkOptions, type OptionSchema, optionChecks } from "@sitecache/core"
import type { ClusterOptions, RedisOptions } from "ioredis"
import { checkNamespace } from "./layout.js"

/** A cluster seed: `"host:port"` or `{ host, port }`. */
export type RedisNode = string | { readonly host: string; readonly port: number }

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host:port[/db]`, `rediss://…` for TLS. Default `redis://127.0.0.1:6379`. */
  readonly url?: string
  /** Seed nodes of a Redis Cluster (instead of `url`). */
  readonly nodes?: readonly RedisNode[]
  /**
   * An existing ioredis `Redis` or `Cluster` client to use instead of `url`
   * or `nodes`. The cache never closes it; its own options (offline queue,
   * timeouts, retries) apply, so give it the fail-open ones of the README.
   */
  readonly client?: unknown
  /** Prefix of every Redis key of this cache. Default `sitecache`. */
  readonly namespace?: string
  /** Milliseconds to establish a connection. Default 1000. */
  readonly connectTimeout?: number
  /** Milliseconds a command may wait for its reply. Default 1000. */
  readonly commandTimeout?: number
  /** Consecutive failures that open the circuit breaker. Default 3. */
  readonly breakerThreshold?: number
  /** Milliseconds the open circuit skips Redis before one probe. Default 5000. */
  readonly breakerCooldown?: number
  /** Keys per `MGET` (and entries per pipeline of writes). Default 100. */
  readonly batchSize?: number
  /** Never send a write command (the cache's `read-only` mode). */
  readonly readOnly?: boolean
  /** More ioredis options (`tls`, `username`, `password`, `db`, `retryStrategy`, cluster options, ...), applied last. */
  readonly ioredis?: RedisOptions & ClusterOptions
  /** Overrides the store's name in messages. */
  readonly name?: string
}

export interface ResolvedRedisOptions {
  readonly url?: string
  readonly nodes?: readonly { readonly host: string; readonly port: number }[]
  readonly client?: unknown
  readonly namespace: string
  readonly connectTimeout: number
  readonly commandTimeout: number
  readonly breakerThreshold: number
  readonly breakerCooldown: number
  readonly batchSize: number
  readonly readOnly: boolean
  readonly ioredis: RedisOptions & ClusterOptions
  readonly name?: string
}

export const DEFAULT_URL = "redis://127.0.0.1:6379"

function positiveInteger(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new BadOptionError(option, `expected an integer > 0, got ${JSON.stringify(value)}`)
  }
  return value
}

function checkUrl(value: unknown, option: string): string {
  if (typeof value !== "string" || value === "")
    throw new BadOptionError(option, `expected a URL string, got ${JSON.stringify(value)}`)
  if (value.startsWith("/")) return value // a Unix socket path
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new BadOptionError(option, `expected redis://host:port or rediss://host:port, got ${JSON.stringify(redactUrl(value))}`)
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new BadOptionError(option, `expected the redis: or rediss: scheme, got ${JSON.stringify(url.protocol)}`)
  }
  return value
}

function checkNode(value: unknown, option: string): { host: string; port: number } {
  if (typeof value === "string") {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value)
    if (match) return { host: match[1] as string, port: Number(match[2]) }
  } else if (typeof value === "object" && value !== null) {
    const { host, port } = value as { host?: unknown; port?: unknown }
    if (
      typeof host === "string" &&
      host !== "" &&
      typeof port === "number" &&
      Number.isInteger(port) &&
      port > 0 &&
      port < 65536
    ) {
      return { host, port }
    }
  }
  throw new BadOptionError(option, `expected "host:port" or { host, port }, got ${JSON.stringify(value)}`)
}

function looksLikeClient(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false
  const client = value as Record<string, unknown>
  return typeof client.status === "string" && typeof client.on === "function" && typeof client.mgetBuffer === "function"
}

function checkNodes(value: unknown, option: string): { host: string; port: number }[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BadOptionError(option, "expected a non-empty list of cluster seed nodes")
  return value.map((node, i) => checkNode(node, `${option}[${i}]`))
}

function checkClient(value: unknown, option: string): unknown {
  if (!looksLikeClient(value)) throw new BadOptionError(option, "expected an ioredis `Redis` or `Cluster` instance")
  return value
}

const positive = (value: unknown, option: string) => positiveInteger(value, option, 0)

/** The schema of `RedisStoreOptions` and `secret` (see core's `checkOptions`): the `redis` object of `createCache`, and part of `createRedisCache`'s. */
export const REDIS_OPTIONS: OptionSchema = {
  url: checkUrl,
  nodes: checkNodes,
  client: checkClient,
  namespace: checkNamespace,
  connectTimeout: positive,
  commandTimeout: positive,
  breakerThreshold: positive,
  breakerCooldown: positive,
  batchSize: positive,
  readOnly: optionChecks.boolean,
  ioredis: (value, option) => {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new BadOptionError(option, "expected an object of ioredis options")
    return value
  },
  name: optionChecks.string,
  secret: (value, option) => checkSecret(value, option),
}

/**
 * Check store options. `path` is how the options are named in messages:
 * `"redis."` for `createCache({ redis })`, `""` for `createRedisCache(options)`.
 */
export function resolveRedisOptions(raw: unknown, path = "redis."): ResolvedRedisOptions {
  const options = checkOptions(raw ?? {}, REDIS_OPTIONS, path)
  const given = ["url", "nodes", "client"].filter((name) => options[name] !== undefined)
  if (given.length > 1)
    throw new BadOptionError(`${path}${given[1]}`, `give one of \`url\`, \`nodes\` or \`client\`, not ${given.join(" and ")}`)
  const number = (name: string, fallback: number) => (options[name] as number | undefined) ?? fallback
  return {
    ...(options.url === undefined ? {} : { url: options.url as string }),
    ...(options.nodes === undefined ? {} : { nodes: options.nodes as { host: string; port: number }[] }),
    ...(options.client === undefined ? {} : { client: options.client }),
    namespace: checkNamespace(options.namespace, `${path}namespace`),
    connectTimeout: number("connectTimeout", 1000),
    commandTimeout: number("commandTimeout", 1000),
    breakerThreshold: number("breakerThreshold", 3),
    breakerCooldown: number("breakerCooldown", 5000),
    batchSize: number("batchSize", 100),
    readOnly: options.readOnly === true,
    ioredis: (options.ioredis ?? {}) as RedisOptions & ClusterOptions,
    ...(options.name === undefined ? {} : { name: options.name as string }),
  }
}

/** Check an HMAC secret: a string or bytes of at least 32 bytes. */
export function checkSecret(value: unknown, option: string): string | Uint8Array | undefined {
  if (value === undefined) return undefined
  const length =
    typeof value === "string" ? Buffer.byteLength(value, "utf8") : value instanceof Uint8Array ? value.length : undefined
  if (length === undefined) throw new BadOptionError(option, "expected a string or bytes")
  if (length < 32) {
    throw new BadOptionError(option, `a secret needs at least 32 bytes, got ${length} (e.g. \`openssl rand -hex 32\`)`)
  }
  return value as string | Uint8Array
}

/** A URL without its password, for messages and names. */
export function redactUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/, (_, scheme: string, auth: string) => {
    const user = auth.split(":")[0]
    return `${scheme}${user ? `${user}:` : ""}***@`
  })
}

/** `host:port` (and `/db`) of a URL, or the socket path. */
export function describeUrl(url: string): string {
  if (url.startsWith("/")) return url
  const parsed = new URL(url)
  const db = parsed.pathname.length > 1 ? parsed.pathname : ""
  return `${parsed.protocol === "rediss:" ? "tls " : ""}${parsed.hostname}:${parsed.port || "6379"}${db}`
}

/** The part of the `ioredis` module the store uses. */
export interface IoredisModule {
  readonly Redis: typeof import("ioredis").Redis
  readonly Cluster: typeof import("ioredis").Cluster
}

/** `import("ioredis")`, or a `BackendMissingError` naming `ioredis` when it is not installed. */
export async function loadIoredis(importer: () => Promise<IoredisModule> = () => import("ioredis")): Promise<IoredisModule> {
  try {
    return await importer()
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new BackendMissingError("redis", "ioredis", { cause: error })
    }
    throw error
  }
}
