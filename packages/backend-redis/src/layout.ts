/**
 * Where entries live in Redis.
 *
 * ```
 * <namespace>:{<tag>}:<prefix hex>:<key hex>
 * sitecache:{3f}:9b0e…(32 hex):3f0c…(32 hex)
 * ```
 *
 * - `namespace` (default `sitecache`) is the cache's own space on a shared
 *   server: `clear()` and `prune()` touch only keys of exactly this layout
 *   under it, so other data, and other namespaces (even `sitecache:other`),
 *   survive.
 * - `{<tag>}` is a Redis Cluster hash tag: the first two hex digits of the
 *   entry's key. Entries are spread over 256 slots (so over every master),
 *   and a batch of keys falls into at most 256 groups that each live in one
 *   slot, so one `MGET` or `UNLINK` serves a whole group. On a single server
 *   the tag changes nothing.
 * - `prefix hex` is the cache's key prefix (format, codec, the user's prefix):
 *   entries under another prefix are orphans, found by their name alone.
 * - The value is the entry's bytes exactly as the core encodes them (see
 *   `@sitecache/core` entry.ts): header, payload, checksum or HMAC. A Redis
 *   TTL (`PX`) mirrors the entry's expiry time.
 *
 * A namespace may not contain glob characters (`*?[]\`), braces (hash tags) or
 * white space, so a SCAN pattern built from it matches only its own entries.
 */
import { BadOptionError, type EntryId, Key } from "@sitecache/core"

const HEX_KEY = 32
const FORBIDDEN = /[*?[\]\\{}\s]/
const PRINTABLE = /^[\x21-\x7e]+$/

export const DEFAULT_NAMESPACE = "sitecache"

/** Check a namespace: printable ASCII, no glob characters, braces or spaces, at most 128 characters. */
export function checkNamespace(value: unknown, option: string): string {
  if (value === undefined) return DEFAULT_NAMESPACE
  if (typeof value !== "string" || value === "" || value.length > 128 || !PRINTABLE.test(value) || FORBIDDEN.test(value)) {
    throw new BadOptionError(
      option,
      `expected 1 to 128 printable ASCII characters without \`*?[]\\{}\` or spaces, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

/** Names of entry keys in one namespace. */
export class KeyLayout {
  readonly namespace: string
  /** SCAN pattern matching every entry of this namespace and nothing else. */
  readonly pattern: string
  readonly #start: string

  constructor(namespace: string) {
    this.namespace = namespace
    this.#start = `${namespace}:{`
    const any = "?".repeat(HEX_KEY)
    this.pattern = `${namespace}:{??}:${any}:${any}`
  }

  /** The Redis key of an entry. */
  name(id: EntryId): string {
    const key = id.key.hex
    return `${this.#start}${key[0]}${key[1]}}:${id.prefix.hex}:${key}`
  }

  /** SCAN pattern of the entries under one key prefix. */
  prefixPattern(prefix: Key): string {
    return `${this.namespace}:{??}:${prefix.hex}:${"?".repeat(HEX_KEY)}`
  }

  /** The hash tag of a key name (its slot group). */
  tag(name: string): string {
    return name.slice(this.#start.length, this.#start.length + 2)
  }

  /** The prefix hex of a key name of this layout. */
  prefixHex(name: string): string {
    const start = this.#start.length + 4
    return name.slice(start, start + HEX_KEY)
  }

  /** The entry a key name stands for, or `undefined` when it is not one of this layout. */
  parse(name: string): EntryId | undefined {
    const start = this.#start.length
    if (name.length !== start + 4 + HEX_KEY + 1 + HEX_KEY || !name.startsWith(this.#start)) return undefined
    const prefix = name.slice(start + 4, start + 4 + HEX_KEY)
    const key = name.slice(start + 5 + HEX_KEY)
    if (!/^[0-9a-f]{32}$/.test(prefix) || !/^[0-9a-f]{32}$/.test(key) || name.slice(start, start + 2) !== key.slice(0, 2)) {
      return undefined
    }
    return { prefix: Key.fromHex(prefix), key: Key.fromHex(key) }
  }
}

/** Split `names` into groups that each live in one cluster slot (by hash tag), keeping their positions. */
export function groupBySlot(layout: KeyLayout, names: readonly string[]): number[][] {
  const groups = new Map<string, number[]>()
  names.forEach((name, i) => {
    const tag = layout.tag(name)
    let group = groups.get(tag)
    if (group === undefined) groups.set(tag, (group = []))
    group.push(i)
  })
  return [...groups.values()]
}

/** Split `items` into consecutive chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
