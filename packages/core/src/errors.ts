/**
 * Errors thrown by sitecache. Every error has a stable `code` that scripts can
 * test, names the package (and option or backend) in its message, and keeps
 * the original error as `cause`.
 */
import { describeCause } from "./causes.js"

/** Stable error codes. */
export type ErrorCode =
  | "SITECACHE_BAD_OPTION"
  | "SITECACHE_BACKEND_MISSING"
  | "SITECACHE_UNSERIALIZABLE"
  | "SITECACHE_BAD_KEY"
  | "SITECACHE_CORRUPT"
  | "SITECACHE_FAULT"
  | "SITECACHE_CLOSED"
  | "SITECACHE_UNSUPPORTED"
  | "SITECACHE_NOT_FOUND"

/** Base class of every error sitecache throws. */
export class SitecacheError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A configuration value is missing, of the wrong type or out of range. */
export class BadOptionError extends SitecacheError {
  /** Dotted path of the offending option, e.g. `redis.secret`. */
  readonly option: string
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super("SITECACHE_BAD_OPTION", `sitecache: bad option \`${option}\`: ${message}`, options)
    this.option = option
  }
}

/** A backend's package (or its host library) is not installed. */
export class BackendMissingError extends SitecacheError {
  readonly packageName: string
  constructor(backend: string, packageName: string, options?: { cause?: unknown; message?: string }) {
    super(
      "SITECACHE_BACKEND_MISSING",
      options?.message ??
        `sitecache: backend \`${backend}\` needs the package \`${packageName}\`, which is not installed: run \`pnpm add ${packageName}\` (or npm/yarn)`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    )
    this.packageName = packageName
  }
}

/** A value given to `put` cannot be stored (a function, a symbol, ...). */
export class UnserializableError extends SitecacheError {
  /** What cannot be stored, without the package prefix (e.g. for a build summary's count of uncacheable results). */
  readonly reason: string
  constructor(reason: string, options?: { cause?: unknown }) {
    super("SITECACHE_UNSERIALIZABLE", `sitecache: cannot \`put\` this value: ${reason}`, options)
    this.reason = reason
  }
}

/** A part given to `key()` has no stable serialization. */
export class BadKeyError extends SitecacheError {
  constructor(message: string) {
    super("SITECACHE_BAD_KEY", `sitecache: cannot build a \`key\`: ${message}`)
  }
}

/** Stored bytes failed a check (magic, version, length, checksum, signature). */
export class CorruptEntryError extends SitecacheError {
  /**
   * `false` for an entry that may be sound for someone else: signed with
   * another secret, or (un)signed where this cache expects the opposite. Such
   * an entry reads as a miss; a cache with a secret removes it (the secret
   * decides over its namespace), a cache without one leaves it in place, so a
   * build that forgot its secret cannot wipe a signed cache.
   */
  readonly removable: boolean
  constructor(message: string, options: { removable?: boolean } = {}) {
    super("SITECACHE_CORRUPT", `sitecache: ${options.removable === false ? "unverifiable" : "corrupt"} entry: ${message}`)
    this.removable = options.removable ?? true
  }
}

/**
 * An operational fault of a backend (disk full, permission lost, server down,
 * timeout). Surfaced only in `strict` mode; otherwise it becomes a miss, a
 * dropped write, an `errors` count and one warning per cause.
 */
export class CacheFaultError extends SitecacheError {
  readonly backend: string
  readonly operation: string
  constructor(backend: string, operation: string, cause: unknown) {
    super("SITECACHE_FAULT", `sitecache: ${backend}: \`${operation}\` failed: ${describeCause(cause)}`, { cause })
    this.backend = backend
    this.operation = operation
  }
}

/**
 * No cache exists where a backend was asked to open one without creating it
 * (`createCache(config, { create: false })`: what `sitecache inspect` does).
 * Nothing was created.
 */
export class CacheNotFoundError extends SitecacheError {
  readonly backend: string
  /** Where the cache was looked for: a directory or a file. */
  readonly location: string
  constructor(backend: string, location: string) {
    super("SITECACHE_NOT_FOUND", `sitecache: no ${backend} cache at ${location}`)
    this.backend = backend
    this.location = location
  }
}

/** The cache was used after `close()`. */
export class ClosedError extends SitecacheError {
  constructor(name: string, operation: string) {
    super("SITECACHE_CLOSED", `sitecache: cannot \`${operation}\` on ${name}: the cache is closed`)
  }
}
