/**
 * A processed file's text output, stored as UTF-8 bytes and restored as a
 * string only when something reads it.
 *
 * What most builds do with a restored page is write it to disk. Kept as a
 * string, the page is read back from the cache as UTF-16 (v8 stores any text
 * with one character past Latin-1 as two bytes a character: half the pages of
 * real README files), decoded into a string, then encoded again as UTF-8 by
 * the write. Kept as UTF-8, it is half the bytes to read, and a deserialized
 * `Uint8Array` is a view of the entry's bytes, not a copy: measured on 1,198
 * real README pages, deserialize + encode took 45.7 µs a page against 2.9 µs
 * for the bytes (28.8 µs when the string is wanted after all).
 *
 * So a restored file's `value` is an accessor that decodes the bytes on first
 * read and then becomes a plain property again (an assignment replaces it at
 * once), and `valueBytes(file)` hands the bytes to a caller that only writes
 * them. Only well-formed strings are stored this way: UTF-8 cannot carry a
 * lone surrogate, which must come back exactly as it was. Nor is text whose
 * UTF-8 is longer than its UTF-16 (CJK: 3 bytes a character against 2): the
 * codec stores that string in UTF-16.
 */
import type { VFile } from "vfile"

/** Strings shorter than this stay strings: the bytes are worth it for pages, not for snippets. */
export const TEXT_AS_BYTES_MIN_LENGTH = 512

const BYTES = Symbol.for("@sitecache/unified:value-bytes")

interface RestoredText {
  readonly bytes: Uint8Array
  /** The string once decoded: `valueBytes` still answers while `file.value` is this very string. */
  text?: string
}

type Carrier = { [BYTES]?: RestoredText }

/** The UTF-8 bytes to store for `value`, or `undefined` when it is stored as it is. */
export function textAsBytes(value: unknown): Uint8Array | undefined {
  if (typeof value !== "string" || value.length < TEXT_AS_BYTES_MIN_LENGTH || !isWellFormed(value)) return undefined
  const encoded = Buffer.from(value, "utf8")
  // Text whose UTF-8 is longer than its UTF-16 (CJK) is stored as a string: the codec keeps it as UTF-16.
  if (encoded.byteLength > value.length * 2) return undefined
  // A copy the size of the text: a small Buffer is a view of Node's shared 8 KiB pool.
  return encoded.byteOffset === 0 && encoded.byteLength === encoded.buffer.byteLength ? encoded : new Uint8Array(encoded)
}

/** `value` back to a plain property. */
function settle(file: object, value: unknown): void {
  Object.defineProperty(file, "value", { value, writable: true, enumerable: true, configurable: true })
}

/**
 * The accessor of a restored `value`, one pair of functions for every file:
 * a closure per file would give each file a hidden class of its own, holding
 * the closure (and through it the file and its bytes) until a full garbage
 * collection, so every restored page would outlive the young generation.
 */
const LAZY_VALUE: PropertyDescriptor = {
  get(this: Carrier) {
    const restored = this[BYTES] as RestoredText
    restored.text ??= Buffer.from(restored.bytes.buffer, restored.bytes.byteOffset, restored.bytes.byteLength).toString("utf8")
    settle(this, restored.text)
    return restored.text
  },
  set(this: Carrier, value: unknown) {
    settle(this, value)
  },
  enumerable: true,
  configurable: true,
}

/** Give `file` the text whose UTF-8 encoding is `bytes` as its `value`, decoded on first read. */
export function restoreText(file: VFile, bytes: Uint8Array): void {
  const restored: RestoredText = { bytes }
  Object.defineProperty(file, BYTES, { value: restored, enumerable: false, configurable: true, writable: true })
  Object.defineProperty(file, "value", LAZY_VALUE)
}

/**
 * The UTF-8 bytes of `file.value` as the cache restored them, when the value
 * is text restored from the cache and has not been replaced since; else
 * `undefined`. For a build that writes pages: `writeFile(out, valueBytes(file) ?? String(file))`
 * skips decoding the page into a string and encoding it back. The bytes are
 * this file's (a view of the entry read for it, never of bytes a cache
 * keeps): changing them before `file.value` is read changes what it decodes to.
 */
export function valueBytes(file: VFile): Uint8Array | undefined {
  const restored = (file as unknown as Carrier)[BYTES]
  if (restored === undefined) return undefined
  const descriptor = Object.getOwnPropertyDescriptor(file, "value")
  if (descriptor?.get !== undefined) return descriptor.get === LAZY_VALUE.get ? restored.bytes : undefined
  return restored.text !== undefined && descriptor?.value === restored.text ? restored.bytes : undefined
}

/** `String.prototype.isWellFormed` (Node.js 20), or the same test by hand. */
function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed
  if (typeof native === "function") return native.call(text)
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)
}
