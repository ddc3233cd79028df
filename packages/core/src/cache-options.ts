/**
 * The options every cache takes (`StoreCacheOptions`), as a schema for
 * `checkOptions`: each backend merges its own with it.
 */
import type { Codec } from "./codec.js"
import { BadOptionError } from "./errors.js"
import { booleanOption, functionOption, nonNegativeOption, type OptionSchema, oneOfOption, stringOption } from "./options.js"
import type { CacheMode } from "./types.js"

export interface StoreCacheOptions {
  /** Overrides the store's name in messages and `inspect()`. */
  readonly name?: string
  /**
   * Where the store keeps its entries, for people (`Cache.location`). Set by
   * whoever opens the store from a backend (see `Backend.location`). Default
   * the store's name.
   */
  readonly location?: string
  /** `read-only` never writes; `write-only` never serves a hit. Default `read-write`. */
  readonly mode?: CacheMode
  /** Default time to live of every entry, in ms. Default: none. */
  readonly ttl?: number
  /** Throw operational faults instead of failing open (for tests and tooling). */
  readonly strict?: boolean
  readonly codec?: Codec
  /** Sign entries with HMAC-SHA256; at least 32 bytes. Unsigned or foreign-signed entries read as misses. */
  readonly secret?: string | Uint8Array
  /** Refuse to read payloads above this many bytes. Default 512 MiB. */
  readonly maxEntrySize?: number
  /** Gzip payloads of at least this many bytes. Default: never. */
  readonly compressAbove?: number
  /** Initial key prefix (see `setKeyPrefix`). */
  readonly keyPrefix?: string | Uint8Array
  /**
   * Entries nobody read or wrote for this many ms are removed at the end of a
   * build (`finishBuild`, at most once a day; see sweep.ts); `false` never.
   * Default a week.
   */
  readonly maxIdle?: number | false
  /** Clock in ms since the epoch; injectable for TTL tests. */
  readonly clock?: () => number
  /** Where warnings go. Default: `process.emitWarning`. */
  readonly onWarning?: (message: string, cause: unknown) => void
}

function checkSecret(secret: unknown, option: string): Uint8Array {
  let bytes: Uint8Array
  if (typeof secret === "string") bytes = Buffer.from(secret, "utf8")
  else if (secret instanceof Uint8Array) bytes = secret
  else throw new BadOptionError(option, "expected a string or bytes")
  if (bytes.length < 32) throw new BadOptionError(option, `a secret needs at least 32 bytes, got ${bytes.length}`)
  return bytes
}

export function checkPrefix(prefix: unknown, option: string): string | Uint8Array {
  if (typeof prefix === "string" || prefix instanceof Uint8Array) return prefix
  throw new BadOptionError(option, "expected a string or bytes")
}

function checkCodec(codec: unknown, option: string): Codec {
  const candidate = codec as Partial<Codec> | null
  if (
    candidate === null ||
    typeof candidate !== "object" ||
    typeof candidate.id !== "number" ||
    typeof candidate.name !== "string" ||
    typeof candidate.version !== "string" ||
    typeof candidate.encode !== "function" ||
    typeof candidate.decode !== "function"
  ) {
    throw new BadOptionError(option, "expected a codec: `{ id, name, version, encode, decode }`")
  }
  return candidate as Codec
}

/** The schema of `StoreCacheOptions` (see `checkOptions`): what every cache takes besides its backend's options. */
export const CACHE_OPTIONS: OptionSchema = {
  name: stringOption,
  location: stringOption,
  mode: oneOfOption<CacheMode>(["read-write", "read-only", "write-only"]),
  ttl: nonNegativeOption,
  strict: booleanOption,
  codec: checkCodec,
  secret: checkSecret,
  maxEntrySize: nonNegativeOption,
  compressAbove: nonNegativeOption,
  keyPrefix: checkPrefix,
  maxIdle: (value, option) => (value === false ? false : nonNegativeOption(value, option)),
  clock: functionOption,
  onWarning: functionOption,
}
