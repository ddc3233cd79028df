/**
 * Content-hash keys.
 *
 * A key is 128 bits: two runs of xxh64 (from `xxhash-wasm`) with two fixed,
 * different seeds over the same framed bytes, concatenated big-endian.
 *
 * Collision bound: for n distinct inputs the chance that any two share a key is
 * about n² / 2¹²⁹ (birthday bound), assuming the two seeded runs behave as
 * independent 64-bit hashes: 1.5 × 10⁻²¹ for a billion entries. xxh64 is not a
 * cryptographic hash: a shared cache that untrusted writers can reach must also
 * sign its entries (see the `secret` option), since a collision can be built
 * on purpose.
 *
 * Framing: the parts are written one after another into one buffer, each as a
 * one-byte type tag followed by a length (where the type has one) and the
 * content, preceded by the number of parts. So `key("ab", "c")` and
 * `key("a", "bc")` hash different bytes, and so do `key("1")` and `key(1)`.
 * Strings are written as UTF-16LE code units: one fast copy with no transcoding
 * (UTF-8 encoding of non-ASCII text costs several times the hash itself), and
 * the same on every platform. Plain objects are written with their properties
 * sorted by name, so property order does not change a key; properties whose
 * value is `undefined` are left out, as JSON does. Functions are written as
 * their source text (for plugin options). Class instances, `Map`, `Set` and
 * symbols are refused with a `BadKeyError`: they have no stable serialization.
 */
import xxhash from "xxhash-wasm"
import { BadKeyError } from "./errors.js"

const hasher = await xxhash()

/** Seeds of the two xxh64 runs that make a 128-bit key: high 8 bytes, then low 8 bytes. */
export const KEY_SEEDS = { high: 0x5349_5445_4341_4348n /* "SITECACH" */, low: 0x6b65_7973_2d31_3238n /* "keys-128" */ } as const
const SEED_HIGH = KEY_SEEDS.high
const SEED_LOW = KEY_SEEDS.low

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** A 128-bit content-hash key: 16 bytes, shown as 32 lowercase hex characters. */
export class Key {
  /** The 16 bytes of the key. Do not mutate. */
  readonly bytes: Uint8Array
  #hex: string | undefined

  /** @internal Use `key(...parts)` or `Key.fromHex(hex)`. */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 16) throw new BadKeyError(`a key has 16 bytes, got ${bytes.length}`)
    this.bytes = bytes
  }

  /** 32 lowercase hex characters. */
  get hex(): string {
    if (this.#hex === undefined) {
      let out = ""
      for (const byte of this.bytes) out += HEX[byte]
      this.#hex = out
    }
    return this.#hex
  }

  toString(): string {
    return this.hex
  }

  toJSON(): string {
    return this.hex
  }

  equals(other: Key): boolean {
    const a = this.bytes
    const b = other.bytes
    for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false
    return true
  }

  /** Parse 32 hex characters back into a key. */
  static fromHex(hex: string): Key {
    if (!/^[0-9a-f]{32}$/i.test(hex)) throw new BadKeyError(`\`${hex}\` is not 32 hex characters`)
    return new Key(Uint8Array.from(Buffer.from(hex, "hex")))
  }
}

/** What every cache method accepts as a key: a `Key`, or a string or bytes that it hashes into one. */
export type KeyLike = Key | string | Uint8Array

/** A value that can be a part of a key. */
export type KeyPart =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | Uint8Array
  | Key
  | BuildKey
  | Date
  | RegExp
  | ((...args: never[]) => unknown)
  | readonly KeyPart[]
  | { readonly [name: string]: KeyPart }

enum Tag {
  String = 1,
  Bytes = 2,
  Number = 3,
  BigInt = 4,
  True = 5,
  False = 6,
  Null = 7,
  Undefined = 8,
  Array = 9,
  Object = 10,
  Key = 11,
  Function = 12,
  Date = 13,
  RegExp = 14,
}

const MAX_DEPTH = 64

/** Reusable framing buffer: grows, never shrinks (keys are built on the hot path). */
let frame = Buffer.allocUnsafe(64 * 1024)
let length = 0

function reserve(bytes: number): void {
  if (length + bytes <= frame.length) return
  let size = frame.length * 2
  while (size < length + bytes) size *= 2
  const bigger = Buffer.allocUnsafe(size)
  frame.copy(bigger, 0, 0, length)
  frame = bigger
}

function writeTag(tag: Tag): void {
  reserve(1)
  frame[length++] = tag
}

function writeUint32(value: number): void {
  reserve(4)
  frame.writeUInt32LE(value, length)
  length += 4
}

/** Below this length a string is copied code unit by code unit: cheaper than a call into `Buffer#write`. */
const SHORT_STRING = 64

function writeString(tag: Tag, value: string): void {
  const units = value.length
  reserve(5 + units * 2)
  const out = frame
  let at = length
  out[at++] = tag
  out[at++] = units & 0xff
  out[at++] = (units >>> 8) & 0xff
  out[at++] = (units >>> 16) & 0xff
  out[at++] = units >>> 24
  if (units < SHORT_STRING) {
    for (let i = 0; i < units; i++) {
      const unit = value.charCodeAt(i)
      out[at++] = unit & 0xff
      out[at++] = unit >>> 8
    }
    length = at
  } else {
    length = at + out.write(value, at, "utf16le")
  }
}

function writeBytes(tag: Tag, value: Uint8Array): void {
  reserve(5 + value.length)
  frame[length++] = tag
  frame.writeUInt32LE(value.length, length)
  length += 4
  frame.set(value, length)
  length += value.length
}

function writeFloat(tag: Tag, value: number): void {
  reserve(9)
  frame[length++] = tag
  // One representation for NaN and for 0/-0, so equal-looking options give one key.
  frame.writeDoubleLE(Number.isNaN(value) ? Number.NaN : value === 0 ? 0 : value, length)
  length += 8
}

function writePart(part: unknown, depth: number): void {
  switch (typeof part) {
    case "string":
      writeString(Tag.String, part)
      return
    case "number":
      writeFloat(Tag.Number, part)
      return
    case "bigint":
      writeString(Tag.BigInt, part.toString())
      return
    case "boolean":
      writeTag(part ? Tag.True : Tag.False)
      return
    case "undefined":
      writeTag(Tag.Undefined)
      return
    case "function":
      writeString(Tag.Function, Function.prototype.toString.call(part))
      return
    case "symbol":
      throw new BadKeyError("a symbol has no stable serialization")
  }
  if (part === null) {
    writeTag(Tag.Null)
    return
  }
  if (depth > MAX_DEPTH) throw new BadKeyError(`parts nest deeper than ${MAX_DEPTH} levels (a cycle?)`)
  if (part instanceof Uint8Array) {
    writeBytes(Tag.Bytes, part)
  } else if (part instanceof Key) {
    writeBytes(Tag.Key, part.bytes)
  } else if (part instanceof BuildKey) {
    writeBytes(Tag.Key, part.key.bytes)
  } else if (Array.isArray(part)) {
    writeTag(Tag.Array)
    writeUint32(part.length)
    for (const item of part) writePart(item, depth + 1)
  } else if (part instanceof Date) {
    writeFloat(Tag.Date, part.getTime())
  } else if (part instanceof RegExp) {
    writeString(Tag.RegExp, `/${part.source}/${part.flags}`)
  } else {
    const proto = Object.getPrototypeOf(part)
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor as { name?: string } | undefined)?.name ?? "unknown"
      throw new BadKeyError(`a \`${name}\` instance has no stable serialization; pass plain objects, arrays and primitives`)
    }
    const record = part as Record<string, unknown>
    const names = Object.keys(record).sort()
    let count = 0
    for (const name of names) if (record[name] !== undefined) count++
    writeTag(Tag.Object)
    writeUint32(count)
    for (const name of names) {
      const value = record[name]
      if (value === undefined) continue
      writeString(Tag.String, name)
      writePart(value, depth + 1)
    }
  }
}

/**
 * Key bytes are carved out of a shared pool: allocating a fresh 16-byte
 * ArrayBuffer and a DataView per key measured 840 ns, a view on the pool 60 ns.
 * So `Key.bytes` is a view: use its `byteOffset` when wrapping its `buffer`.
 */
const POOL_SIZE = 64 * 1024
let pool = new ArrayBuffer(POOL_SIZE)
let poolView = new DataView(pool)
let poolOffset = 0

function digest(bytes: Uint8Array): Key {
  if (poolOffset + 16 > POOL_SIZE) {
    pool = new ArrayBuffer(POOL_SIZE)
    poolView = new DataView(pool)
    poolOffset = 0
  }
  poolView.setBigUint64(poolOffset, hasher.h64Raw(bytes, SEED_HIGH))
  poolView.setBigUint64(poolOffset + 8, hasher.h64Raw(bytes, SEED_LOW))
  const out = new Uint8Array(pool, poolOffset, 16)
  poolOffset += 16
  return new Key(out)
}

/**
 * Hash an ordered list of parts into a 128-bit key.
 *
 * @example
 * key("posts/hello.md", source, { gfm: true }) // Key 32 hex characters
 */
export function key(...parts: readonly KeyPart[]): Key {
  length = 0
  writeUint32(parts.length)
  for (const part of parts) writePart(part, 0)
  return digest(new Uint8Array(frame.buffer, frame.byteOffset, length))
}

/**
 * `key(record)` for a record of named keys (`{ content: Key, path: Key }`),
 * the same bytes without the general walk: what `memoize` hashes once per
 * document (see `memoKey`). `names` must be the record's names, sorted.
 */
export function keyOfKeys(names: readonly string[], keys: readonly Key[]): Key {
  length = 0
  writeUint32(1)
  writeTag(Tag.Object)
  writeUint32(names.length)
  for (let i = 0; i < names.length; i++) {
    writeString(Tag.String, names[i] as string)
    writeBytes(Tag.Key, (keys[i] as Key).bytes)
  }
  return digest(new Uint8Array(frame.buffer, frame.byteOffset, length))
}

/**
 * The named parts of a key that stay the same for a whole build (a
 * pipeline's fingerprint, one part per plugin, the adapter's stage, the
 * user's version), hashed once into one key. Passed as one named part to
 * `memoize`, it costs a document one 16-byte part instead of a hash per
 * part, and the document's record still lists each part's own hash, so
 * `sitecache explain` names the plugin whose change made a document miss.
 *
 * @example
 * const build = new BuildKey({ pipeline: fingerprintKey, stage: "process" }) // once per build
 * await memoize(cache, { content, path, build }, render, { document: path }) // per document
 */
export class BuildKey {
  /** The key of every part together: `key(hashes)`. */
  readonly key: Key
  /** Each part's hash (32 hex characters): a `Key` part is its own hash, any other part is `key(part)`. */
  readonly hashes: Readonly<Record<string, string>>
  readonly #plain: Record<string, string>

  constructor(parts: Readonly<Record<string, KeyPart>>) {
    const hashes: Record<string, string> = {}
    for (const name of Object.keys(parts)) {
      const part = parts[name]
      if (part !== undefined) hashes[name] = part instanceof Key ? part.hex : key(part).hex
    }
    this.#plain = { ...hashes }
    this.hashes = Object.freeze(hashes)
    this.key = key(hashes)
  }

  /**
   * Copy each part's hash into `record` (a document's record, once per
   * document on the warm path), from an unfrozen copy: `Object.assign` from
   * the frozen `hashes` costs ~9 µs, V8 copying a frozen object property by
   * property on its slow path; from this copy, ~0.3 µs.
   */
  copyHashesInto(record: Record<string, string>): void {
    Object.assign(record, this.#plain)
  }
}

/**
 * The key of raw bytes, hashed as they are, without `key()`'s framing: for
 * encodings that frame themselves and begin with a header of their own (a
 * fingerprint), so they never collide with a framed key.
 */
export function hashBytes(bytes: Uint8Array): Key {
  return digest(bytes)
}

/** A copy of the exact bytes `key(...parts)` hashes (for tests and benchmarks). */
export function framedBytes(...parts: readonly KeyPart[]): Uint8Array {
  length = 0
  writeUint32(parts.length)
  for (const part of parts) writePart(part, 0)
  return Uint8Array.from(frame.subarray(0, length))
}

/** Turn a `KeyLike` into a `Key`: a `Key` is kept, a string or bytes is hashed. */
export function toKey(value: KeyLike): Key {
  if (value instanceof Key) return value
  if (typeof value === "string" || value instanceof Uint8Array) return key(value)
  throw new BadKeyError(`expected a \`Key\`, a string or bytes, got ${describe(value)}`)
}

function describe(value: unknown): string {
  if (value === null) return "null"
  if (typeof value === "object") return (value as object).constructor?.name ?? "object"
  return typeof value
}

/** xxh64 of raw bytes (the entry checksum). */
export function xxh64(bytes: Uint8Array, seed = 0n): bigint {
  return hasher.h64Raw(bytes, seed)
}

/**
 * A portable content hash of a file's or a document's text: line endings are
 * normalized to `\n` so a checkout with CRLF gives the same hash. Bytes that
 * look binary (a NUL in the first 8 KiB) are hashed as they are.
 */
export function contentHash(content: string | Uint8Array): string {
  if (typeof content === "string") return key(normalizeLineEndings(content)).hex
  const head = content.subarray(0, 8192)
  if (head.includes(0)) return key(content).hex
  return key(normalizeLineEndings(Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString("utf8"))).hex
}

/** `\r\n` and lone `\r` become `\n`. */
export function normalizeLineEndings(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text
}
