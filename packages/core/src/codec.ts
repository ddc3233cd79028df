/**
 * Codecs turn values into payload bytes and back. Decoding is a trust
 * boundary: a codec never `require`s, `eval`s or revives classes, and the
 * cache feeds it only bytes that passed the entry checksum (and, on a shared
 * store, the HMAC), since `v8.deserialize` can crash the process on crafted
 * bytes.
 */
import { deserialize, serialize } from "node:v8"
import { MAX_DEPTH } from "./bounds.js"
import { UnserializableError } from "./errors.js"

export interface Codec {
  /** One byte, written in every entry header; a reader refuses an entry of another codec. */
  readonly id: number
  /** Name and version, part of every key prefix: changing either hides older entries. */
  readonly name: string
  readonly version: string
  /** Throws `UnserializableError` for a value it cannot store. */
  encode(value: unknown): Uint8Array
  decode(payload: Uint8Array): unknown
}

const nodeMajor = process.versions.node.split(".")[0] ?? "0"

/**
 * The default codec: a JSON head with the value's byte arrays and long
 * strings after it, or Node's structured serialization (`node:v8`) for what
 * JSON cannot hold. Together they round-trip strings, numbers, booleans,
 * null, plain objects and arrays, `Uint8Array` and `Buffer`, `Map`, `Set`,
 * `Date`, `bigint` and any nesting of them; they reject functions and symbols
 * and never revive classes (an instance comes back as a plain object).
 *
 * Plain values (see `scanPlain`: plain objects, arrays, strings, finite
 * numbers, booleans, null and bytes) take the JSON way, for the garbage
 * collector more than for speed: every `v8.deserialize` makes a deserializer
 * object that Node.js frees only in a full collection, and it holds every
 * object it decoded, so each decoded value outlives the young generation:
 * measured on the warm build of 1,198 real pages, 1–2 MB copied by every
 * scavenge and 3–7 ms pauses, against 50 KB and under 1 ms with `JSON.parse`.
 * Long strings (a page's HTML) are not parsed as JSON but stored apart, each
 * in its smallest exact encoding: ASCII as one byte a character, other
 * well-formed text as UTF-8 or UTF-16, whichever is smaller (UTF-8 for Latin
 * text with typographic quotes, UTF-16 for CJK). v8 stores a string with one
 * character past U+00FF as UTF-16 throughout: a 20,000-character page with
 * one curly quote took 40,042 bytes, and takes 20,051 here.
 *
 * Everything else (a `Map`, a `Date`, a shared reference, too much short
 * text) is v8's, whose wire format follows V8, so the Node.js major is part
 * of the codec's version (and so of the key prefix).
 */
export const jsonOrV8Codec: Codec = {
  id: 2,
  name: "json+v8",
  version: `node${nodeMajor}+text1`,
  encode(value) {
    if (value === undefined) throw new UnserializableError("`undefined` reads back as a miss; store `null` instead")
    const plain = encodePlain(value)
    if (plain !== undefined) return plain
    try {
      return serialize(value)
    } catch (error) {
      throw new UnserializableError(
        `${(error as Error).message} (only data can be cached: no functions, symbols or class instances holding them)`,
        { cause: error },
      )
    }
  },
  decode(payload) {
    return payload[0] === PLAIN || payload[0] === PLAIN_UTF16_HEAD ? decodePlain(payload) : deserialize(payload)
  },
}

/**
 * First byte of a payload in the plain format. A v8 payload starts with its
 * version tag, 0xFF.
 *
 * Layout: `PLAIN`, the byte length of the head (u32 LE), the head (UTF-8
 * JSON `{ v, b }`: the value with each byte array and long string written as
 * `null`, and for each of them `[path, kind, length]`), then the bytes of each
 * in the order of `b`. `kind` is one of `BlobKind`. A head whose UTF-16 is
 * smaller than its UTF-8 (short CJK strings) is written in UTF-16 and the
 * payload starts with `PLAIN_UTF16_HEAD` instead.
 */
const PLAIN = 0x01
const PLAIN_UTF16_HEAD = 0x02

/** How a blob after the head is read back. */
const BlobKind = {
  Uint8Array: 0,
  Buffer: 1,
  /** A string of ASCII characters, one byte each. */
  Ascii: 2,
  Utf8: 3,
  Utf16: 4,
} as const
type BlobKind = (typeof BlobKind)[keyof typeof BlobKind]

/** Strings at least this long are stored after the head, in their smallest encoding, instead of as JSON. */
const TEXT_BLOB_CHARS = 512

/**
 * A value whose strings that stay in the head (shorter than
 * `TEXT_BLOB_CHARS`) hold more characters than this is left to v8: many short
 * strings (a syntax tree's text nodes) parse slower as JSON than v8 copies them.
 */
const PLAIN_MAX_CHARS = 4 * 1024

type Path = (string | number)[]
type BlobMeta = [path: Path, kind: BlobKind, length: number]

interface Blob {
  readonly path: Path
  readonly kind: BlobKind
  /** The bytes (byte arrays) or the text (strings). */
  readonly bytes?: Uint8Array
  readonly text?: string
  readonly length: number
}

/** What a walk of a value found: its blobs, and the characters of its short strings so far. */
interface PlainScan {
  readonly blobs: Blob[]
  readonly seen: Set<object>
  chars: number
}

/** How `text` is stored after the head: the smallest encoding that reads back exactly. */
function textBlob(path: Path, text: string): Blob {
  const utf8 = Buffer.byteLength(text, "utf8")
  if (utf8 === text.length) return { path: [...path], kind: BlobKind.Ascii, text, length: utf8 }
  // A lone surrogate has no UTF-8 form (it would come back as U+FFFD): UTF-16 keeps it.
  if (utf8 < text.length * 2 && (text as unknown as { isWellFormed(): boolean }).isWellFormed())
    return { path: [...path], kind: BlobKind.Utf8, text, length: utf8 }
  return { path: [...path], kind: BlobKind.Utf16, text, length: text.length * 2 }
}

/**
 * Whether `value` reads back from the plain format exactly as v8 would
 * restore it: plain objects (no `__proto__` key, no `undefined` property),
 * dense arrays with no other properties and no `undefined` item, strings,
 * finite numbers other than -0, booleans, null, and `Uint8Array`s and
 * `Buffer`s; no object reached twice (v8 keeps shared references and cycles,
 * JSON would copy or fail). A value nested deeper than `MAX_DEPTH` is left to
 * v8 too, which refuses it without overflowing the stack (and a cache refuses
 * it anyway).
 */
function scanPlain(value: unknown, path: Path, scan: PlainScan): boolean {
  switch (typeof value) {
    case "string":
      if (value.length >= TEXT_BLOB_CHARS) {
        scan.blobs.push(textBlob(path, value))
        return true
      }
      scan.chars += value.length
      return scan.chars <= PLAIN_MAX_CHARS
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0)
    case "boolean":
      return true
    case "object":
      break
    default:
      return false
  }
  if (value === null) return true
  if (scan.seen.has(value) || path.length >= MAX_DEPTH) return false
  scan.seen.add(value)
  const proto = Object.getPrototypeOf(value)
  if (proto === Uint8Array.prototype || proto === Buffer.prototype) {
    const bytes = value as Uint8Array
    const kind = proto === Buffer.prototype ? BlobKind.Buffer : BlobKind.Uint8Array
    scan.blobs.push({ path: [...path], kind, bytes, length: bytes.byteLength })
    return true
  }
  if (proto === Array.prototype) {
    const array = value as unknown[]
    if (Object.keys(array).length !== array.length) return false
    for (let i = 0; i < array.length; i++) {
      const item = array[i]
      if (item === undefined) return false
      path.push(i)
      const ok = scanPlain(item, path, scan)
      path.pop()
      if (!ok) return false
    }
    return true
  }
  if (proto !== Object.prototype) return false
  const record = value as Record<string, unknown>
  for (const name of Object.keys(record)) {
    const item = record[name]
    if (item === undefined || name === "__proto__") return false
    path.push(name)
    const ok = scanPlain(item, path, scan)
    path.pop()
    if (!ok) return false
  }
  return true
}

const TEXT_ENCODINGS = { [BlobKind.Ascii]: "latin1", [BlobKind.Utf8]: "utf8", [BlobKind.Utf16]: "utf16le" } as const

/** `value` in the plain format, or `undefined` when it is not plain (see `scanPlain`). */
function encodePlain(value: unknown): Uint8Array | undefined {
  const scan: PlainScan = { blobs: [], seen: new Set(), chars: 0 }
  if (!scanPlain(value, [], scan)) return undefined
  const meta: BlobMeta[] = scan.blobs.map((blob) => [blob.path, blob.kind, blob.length])
  // Blobs are written as null, and never reach JSON.stringify: it would call `Buffer#toJSON` (an
  // array of every byte, 89 ms for 1,200 pages) before any replacer could drop it.
  const json = JSON.stringify({ v: withoutBlobs(value, scan.blobs), b: meta })
  const utf8 = Buffer.byteLength(json, "utf8")
  const headEncoding = utf8 > json.length * 2 ? "utf16le" : "utf8"
  const headLength = headEncoding === "utf8" ? utf8 : json.length * 2
  let size = 5 + headLength
  for (const blob of scan.blobs) size += blob.length
  const out = Buffer.allocUnsafe(size)
  out[0] = headEncoding === "utf8" ? PLAIN : PLAIN_UTF16_HEAD
  out.writeUInt32LE(headLength, 1)
  out.write(json, 5, headLength, headEncoding)
  let offset = 5 + headLength
  for (const blob of scan.blobs) {
    if (blob.bytes !== undefined) out.set(blob.bytes, offset)
    else out.write(blob.text as string, offset, blob.length, TEXT_ENCODINGS[blob.kind as keyof typeof TEXT_ENCODINGS])
    offset += blob.length
  }
  return out
}

/** `value` with null in place of each of its blobs, copying only the arrays and objects on their paths. */
function withoutBlobs(value: unknown, blobs: readonly Blob[]): unknown {
  if (blobs.length === 0) return value
  const top: Record<string | number, unknown> = { v: value }
  const copies = new Set<unknown>()
  for (const { path } of blobs) {
    let holder = top
    let name: string | number = "v"
    for (const step of path) {
      let container = holder[name] as Record<string | number, unknown>
      if (!copies.has(container)) {
        container = (Array.isArray(container) ? [...container] : { ...container }) as Record<string | number, unknown>
        copies.add(container)
        holder[name] = container
      }
      holder = container
      name = step
    }
    holder[name] = null
  }
  return top.v
}

/** What the blob of `kind` at `offset` reads back as. */
function readBlob(bytes: Buffer, kind: unknown, offset: number, length: number): unknown {
  switch (kind) {
    case BlobKind.Buffer:
      return Buffer.from(bytes.buffer, bytes.byteOffset + offset, length)
    case BlobKind.Uint8Array:
      return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length)
    case BlobKind.Ascii:
      return bytes.toString("latin1", offset, offset + length)
    case BlobKind.Utf8:
      return bytes.toString("utf8", offset, offset + length)
    case BlobKind.Utf16:
      if (length % 2 !== 0) throw new Error("plain payload: UTF-16 text of an odd length")
      return bytes.toString("utf16le", offset, offset + length)
    default:
      throw new Error("plain payload: unknown kind of blob")
  }
}

/** The value of a payload in the plain format; its byte arrays are views of `payload`. Throws on any inconsistency. */
function decodePlain(payload: Uint8Array): unknown {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (bytes.length < 5) throw new Error("plain payload: no head")
  const headEnd = 5 + bytes.readUInt32LE(1)
  if (headEnd > bytes.length) throw new Error("plain payload: head past the end")
  let text: string
  if (bytes[0] === PLAIN) {
    checkNesting(bytes, 5, headEnd)
    text = bytes.toString("utf8", 5, headEnd)
  } else {
    if ((headEnd - 5) % 2 !== 0) throw new Error("plain payload: UTF-16 head of an odd length")
    text = bytes.toString("utf16le", 5, headEnd)
    checkTextNesting(text)
  }
  const head = JSON.parse(text) as { v: unknown; b: BlobMeta[] }
  if (head === null || typeof head !== "object" || !Array.isArray(head.b)) throw new Error("plain payload: bad head")
  let root = head.v
  let offset = headEnd
  for (const [path, kind, length] of head.b) {
    if (!Array.isArray(path) || !Number.isInteger(length) || length < 0 || offset + length > bytes.length)
      throw new Error("plain payload: bad blob")
    const view = readBlob(bytes, kind, offset, length)
    offset += length
    if (path.length === 0) {
      root = view
      continue
    }
    let holder = root as Record<string | number, unknown>
    for (let i = 0; i < path.length; i++) {
      const name = path[i] as string | number
      // Only a null the encoder left in an own property of a plain object or array is replaced.
      if (holder === null || typeof holder !== "object" || name === "__proto__" || !Object.hasOwn(holder, name))
        throw new Error("plain payload: blob path does not exist")
      if (i === path.length - 1) {
        if (holder[name] !== null) throw new Error("plain payload: blob path is taken")
        holder[name] = view
      } else holder = holder[name] as Record<string | number, unknown>
    }
  }
  if (offset !== bytes.length) throw new Error("plain payload: trailing bytes")
  return root
}

const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * Refuse JSON nested deeper than a cache would accept, before parsing it:
 * `JSON.parse` reads a million levels, slowly (seconds for a 2 MB head), and
 * the value would be refused after. The head wraps the value in one object.
 */
function checkNesting(bytes: Uint8Array, start: number, end: number): void {
  let depth = 0
  let inString = false
  for (let i = start; i < end; i++) {
    const byte = bytes[i]
    if (inString) {
      if (byte === BACKSLASH) i++
      else if (byte === QUOTE) inString = false
    } else if (byte === QUOTE) inString = true
    else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > MAX_DEPTH + 1) throw new Error(`plain payload: nested more than ${MAX_DEPTH} levels deep`)
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) depth--
  }
}

/** `checkNesting` of a head decoded from UTF-16. */
function checkTextNesting(text: string): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (inString) {
      if (unit === BACKSLASH) i++
      else if (unit === QUOTE) inString = false
    } else if (unit === QUOTE) inString = true
    else if (unit === OPEN_BRACKET || unit === OPEN_BRACE) {
      if (++depth > MAX_DEPTH + 1) throw new Error(`plain payload: nested more than ${MAX_DEPTH} levels deep`)
    } else if (unit === CLOSE_BRACKET || unit === CLOSE_BRACE) depth--
  }
}
