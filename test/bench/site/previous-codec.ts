/**
 * The codec sitecache shipped before its long strings were stored apart in
 * their smallest encoding (issue 22), kept unchanged as the baseline the
 * `strings` suite measures the current one against, in the same run.
 *
 * Codecs turn values into payload bytes and back. Decoding is a trust
 * boundary: a codec never `require`s, `eval`s or revives classes, and the
 * cache feeds it only bytes that passed the entry checksum (and, on a shared
 * store, the HMAC), since `v8.deserialize` can crash the process on crafted
 * bytes.
 */
import { deserialize, serialize } from "node:v8"
import { type Codec, UnserializableError } from "@sitecache/core"

const MAX_DEPTH = 1000

const nodeMajor = process.versions.node.split(".")[0] ?? "0"

/**
 * The default codec: Node's structured serialization (`node:v8`). It
 * round-trips strings, numbers, booleans, null, plain objects and arrays,
 * `Uint8Array` and `Buffer`, `Map`, `Set`, `Date`, `bigint` and any nesting of
 * them, rejects functions and symbols, and never revives classes (an instance
 * comes back as a plain object). Its wire format follows V8, so the Node.js
 * major is part of its version (and so of the key prefix).
 *
 * Chosen by measurement against msgpackr with its structured-clone extension
 * (see `test/bench/codec.ts`): v8 was faster to decode rendered pages and
 * needs no dependency.
 *
 * Plain values take a shorter way (see `encodePlain`): a value made only of
 * plain objects, arrays, short strings, finite numbers, booleans, null and
 * bytes is written as JSON with the bytes after it, and read back with
 * `JSON.parse` and views of those bytes. The reason is the garbage collector,
 * not speed: every `v8.deserialize` makes a deserializer object that Node.js
 * frees only in a full collection, and it holds every object it decoded, so
 * each decoded value outlives the young generation: measured on the warm
 * build of 1,198 real pages, 1–2 MB copied by every scavenge and 3–7 ms
 * pauses, against 50 KB and under 1 ms with `JSON.parse`. Everything else
 * (a `Map`, a `Date`, a shared reference, a long string) is v8's.
 */
export const previousCodec: Codec = {
  id: 1,
  name: "v8",
  // `+plain1`: payloads may be in the plain format; an older reader would take them for damage.
  version: `node${nodeMajor}+plain1`,
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
    return payload[0] === PLAIN ? decodePlain(payload) : deserialize(payload)
  },
}

/**
 * First byte of a payload in the plain format. A v8 payload starts with its
 * version tag, 0xFF.
 *
 * Layout: `PLAIN`, the byte length of the head (u32 LE), the head (UTF-8
 * JSON `{ v, b }`: the value with each byte array written as `null`, and for
 * each byte array `[path, kind, length]`), then the bytes of each array in
 * the order of `b`. `kind` is 1 for a `Buffer`, 0 for a `Uint8Array`.
 */
const PLAIN = 0x01

/**
 * A value with more characters of text than this is left to v8, which copies
 * a string where JSON must parse it: an 8 KiB page read 2.4× slower as JSON.
 * The plain format is for what surrounds the text (a page's data, messages,
 * dependency hashes), and for bytes, which it never copies.
 */
const PLAIN_MAX_CHARS = 4 * 1024

type Path = (string | number)[]
type BlobMeta = [path: Path, kind: 0 | 1, length: number]

/** What a walk of a value found: its byte arrays, and the characters of its strings so far. */
interface PlainScan {
  readonly blobs: { path: Path; bytes: Uint8Array; kind: 0 | 1 }[]
  readonly seen: Set<object>
  chars: number
}

/**
 * Whether `value` reads back from JSON exactly as v8 would restore it:
 * plain objects (no `__proto__` key, no `undefined` property), dense arrays
 * with no other properties and no `undefined` item, strings, finite numbers
 * other than -0, booleans, null, and `Uint8Array`s and `Buffer`s; no object
 * reached twice (v8 keeps shared references and cycles, JSON would copy or
 * fail). A value nested deeper than `MAX_DEPTH` is left to v8 too, which
 * refuses it without overflowing the stack (and a cache refuses it anyway).
 */
function scanPlain(value: unknown, path: Path, scan: PlainScan): boolean {
  switch (typeof value) {
    case "string":
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
    scan.blobs.push({ path: [...path], bytes: value as Uint8Array, kind: proto === Buffer.prototype ? 1 : 0 })
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
  const meta: BlobMeta[] = scan.blobs.map((blob) => [blob.path, blob.kind, blob.bytes.byteLength])
  // Byte arrays are written as null, and never reach JSON.stringify: it would call `Buffer#toJSON` (an
  // array of every byte, 89 ms for 1,200 pages) before any replacer could drop it.
  const head = Buffer.from(JSON.stringify({ v: withoutBytes(value, scan.blobs), b: meta }), "utf8")
  let size = 5 + head.length
  for (const blob of scan.blobs) size += blob.bytes.byteLength
  const out = Buffer.allocUnsafe(size)
  out[0] = PLAIN
  out.writeUInt32LE(head.length, 1)
  head.copy(out, 5)
  let offset = 5 + head.length
  for (const blob of scan.blobs) {
    out.set(blob.bytes, offset)
    offset += blob.bytes.byteLength
  }
  return out
}

/** `value` with null in place of each of its byte arrays, copying only the arrays and objects on their paths. */
function withoutBytes(value: unknown, blobs: PlainScan["blobs"]): unknown {
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

/** The value of a payload in the plain format; its byte arrays are views of `payload`. Throws on any inconsistency. */
function decodePlain(payload: Uint8Array): unknown {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (bytes.length < 5) throw new Error("plain payload: no head")
  const headEnd = 5 + bytes.readUInt32LE(1)
  if (headEnd > bytes.length) throw new Error("plain payload: head past the end")
  checkNesting(bytes, 5, headEnd)
  const head = JSON.parse(bytes.toString("utf8", 5, headEnd)) as { v: unknown; b: BlobMeta[] }
  if (head === null || typeof head !== "object" || !Array.isArray(head.b)) throw new Error("plain payload: bad head")
  let root = head.v
  let offset = headEnd
  for (const [path, kind, length] of head.b) {
    if (!Array.isArray(path) || !Number.isInteger(length) || length < 0 || offset + length > bytes.length)
      throw new Error("plain payload: bad byte array")
    const view =
      kind === 1
        ? Buffer.from(bytes.buffer, bytes.byteOffset + offset, length)
        : new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length)
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
        throw new Error("plain payload: byte array path does not exist")
      if (i === path.length - 1) {
        if (holder[name] !== null) throw new Error("plain payload: byte array path is taken")
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
