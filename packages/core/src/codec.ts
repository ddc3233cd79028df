/**
 * Codecs turn values into payload bytes and back. Decoding is a trust
 * boundary: a codec never `require`s, `eval`s or revives classes, and the
 * cache feeds it only bytes that passed the entry checksum (and, on a shared
 * store, the HMAC), since `v8.deserialize` can crash the process on crafted
 * bytes.
 */
import { deserialize, serialize } from "node:v8"
import { MAX_DEPTH } from "./bounds.js"
import {
  type Blob,
  BlobKind,
  type BlobMeta,
  type Path,
  placeBlobs,
  TEXT_BLOB_CHARS,
  textBlob,
  withoutBlobs,
  writeBlobs,
} from "./codec-blobs.js"
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
  /**
   * Optional: `decode`, and whether the value is known to be within the
   * bounds a cache checks every decoded value against (bounds.ts: depth,
   * weight, no own `__proto__` key), so that the cache need not walk it.
   * Say `true` only when the decoding itself proves it.
   */
  decodeBounded?(payload: Uint8Array): { readonly value: unknown; readonly bounded: boolean }
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
 * of the codec's version (and so of the key prefix). Its long strings held in
 * plain objects and arrays are taken out all the same and stored after the
 * v8 bytes in their smallest encodings (see `encodeV8`).
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
      return encodeV8(value)
    } catch (error) {
      throw new UnserializableError(
        `${(error as Error).message} (only data can be cached: no functions, symbols or class instances holding them)`,
        { cause: error },
      )
    }
  },
  decode: (payload) => decodeDefault(payload).value,
  decodeBounded: (payload) => decodeDefault(payload),
}

function decodeDefault(payload: Uint8Array): { value: unknown; bounded: boolean } {
  const format = payload[0]
  if (format === PLAIN || format === PLAIN_UTF16_HEAD) return decodePlain(payload)
  return { value: format === V8_WITH_TEXT ? decodeV8WithText(payload) : deserialize(payload), bounded: false }
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
/**
 * First byte of a v8 payload whose long strings were taken out (see
 * `encodeV8`): `V8_WITH_TEXT`, the v8 bytes' length (u32 LE), the v8 bytes,
 * the length of a UTF-8 JSON list of `[path, kind, length]` (u32 LE), the
 * list, then each string in its smallest encoding.
 */
const V8_WITH_TEXT = 0x03

/**
 * A value whose strings that stay in the head (shorter than
 * `TEXT_BLOB_CHARS`) hold more characters than this is left to v8: many short
 * strings (a syntax tree's text nodes) parse slower as JSON than v8 copies them.
 */
const PLAIN_MAX_CHARS = 4 * 1024

/** What a walk of a value found: its blobs, and the characters of its short strings so far. */
interface PlainScan {
  readonly blobs: Blob[]
  readonly seen: Set<object>
  chars: number
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
  writeBlobs(out, 5 + headLength, scan.blobs)
  return out
}

/**
 * The value of a payload in the plain format; its byte arrays are views of
 * `payload`. Throws on any inconsistency.
 *
 * `bounded`: the value is within the bounds a cache checks (bounds.ts), as
 * the decoding proves, so the cache need not walk it again (a tenth of a warm
 * hit's decode). Depth: `checkNesting` refused more than `MAX_DEPTH` levels
 * below the head's own object, as `valueFault` does. Weight: a JSON tree
 * weighs under twice its text (a property its name and one, an item two, a
 * string its length), and each blob its length, so under three times the
 * payload, against a budget of eight. `__proto__`: a JSON key can only spell
 * it literally or with a `\u` escape, and a blob is never placed under it
 * (`placeBlobs`); a head with either text is walked as any other value.
 */
function decodePlain(payload: Uint8Array): { value: unknown; bounded: boolean } {
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
  const value = placeBlobs(head.v, head.b, bytes, headEnd)
  return { value, bounded: !text.includes("__proto__") && !text.includes("\\u") }
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

/** A long string found in a value v8 must serialize, and the property that holds it. */
interface HeldText {
  readonly blob: Blob
  readonly holder: Record<string | number, unknown>
  readonly name: string | number
}

/**
 * The long strings of a value v8 must serialize that can be taken out: those
 * held in writable data properties of plain objects and dense arrays (not
 * inside a `Map`, a `Set` or any other object v8 writes whole). An object
 * reached twice is walked once: v8 writes it once, and keeps the reference.
 */
function textOutsideV8(value: unknown): HeldText[] {
  const found: HeldText[] = []
  const seen = new Set<object>()
  const path: Path = []
  const walk = (item: object): void => {
    if (seen.has(item) || path.length >= MAX_DEPTH) return
    seen.add(item)
    const proto = Object.getPrototypeOf(item)
    const array = proto === Array.prototype && Object.keys(item).length === (item as unknown[]).length
    if (!array && proto !== Object.prototype) return
    const holder = item as Record<string | number, unknown>
    for (const key of Object.keys(item)) {
      const name = array ? Number(key) : key
      const child = holder[name]
      path.push(name)
      if (typeof child === "string" && child.length >= TEXT_BLOB_CHARS && key !== "__proto__") {
        const descriptor = Object.getOwnPropertyDescriptor(item, key)
        if (descriptor?.writable === true) found.push({ blob: textBlob(path, child), holder, name })
      } else if (child !== null && typeof child === "object") walk(child)
      path.pop()
    }
  }
  if (value !== null && typeof value === "object") walk(value)
  return found
}

/**
 * `v8.serialize(value)`, with its long strings (see `textOutsideV8`) stored
 * after it in their smallest encodings: v8 writes a string with one
 * character past U+00FF at two bytes a character. The strings are set to
 * null for the serialization and put back before it returns, so no object
 * is copied and every shared reference stays one.
 */
function encodeV8(value: unknown): Uint8Array {
  const held = typeof value === "string" ? [] : textOutsideV8(value)
  if (held.length === 0) return serialize(value)
  let v8: Buffer
  try {
    for (const { holder, name } of held) holder[name] = null
    v8 = serialize(value)
  } finally {
    for (const { blob, holder, name } of held) holder[name] = blob.text
  }
  const blobs = held.map((item) => item.blob)
  const meta = Buffer.from(JSON.stringify(blobs.map((blob): BlobMeta => [blob.path, blob.kind, blob.length])), "utf8")
  let size = 9 + v8.length + meta.length
  for (const blob of blobs) size += blob.length
  const out = Buffer.allocUnsafe(size)
  out[0] = V8_WITH_TEXT
  out.writeUInt32LE(v8.length, 1)
  v8.copy(out, 5)
  out.writeUInt32LE(meta.length, 5 + v8.length)
  meta.copy(out, 9 + v8.length)
  writeBlobs(out, 9 + v8.length + meta.length, blobs)
  return out
}

/** The value of a `V8_WITH_TEXT` payload. Throws on any inconsistency. */
function decodeV8WithText(payload: Uint8Array): unknown {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (bytes.length < 9) throw new Error("v8 payload with text: no head")
  const v8End = 5 + bytes.readUInt32LE(1)
  if (v8End + 4 > bytes.length) throw new Error("v8 payload with text: v8 bytes past the end")
  const metaEnd = v8End + 4 + bytes.readUInt32LE(v8End)
  if (metaEnd > bytes.length) throw new Error("v8 payload with text: list of strings past the end")
  checkNesting(bytes, v8End + 4, metaEnd)
  const value = deserialize(bytes.subarray(5, v8End))
  return placeBlobs(value, JSON.parse(bytes.toString("utf8", v8End + 4, metaEnd)), bytes, metaEnd)
}
