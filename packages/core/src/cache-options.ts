/**
 * The options every cache takes (`StoreCacheOptions`), as a schema for
 * `checkOptions`: each backend merges its own with it.
 */
import type { Codec } from "./codec.js"
import { BadOptionError } from "./errors.js"
import { booleanOption, functionOption, nonNegativeOption, type OptionSchema, oneOfOption, stringOption } from "./options.js"
import type { CacheMode } from "./types.js"

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
