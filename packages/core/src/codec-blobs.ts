/**
 * The blobs of the default codec's payloads: byte arrays and long strings
 * written after the part of a value that is JSON or v8, each string in its
 * smallest exact encoding, and put back in their places on reading.
 */

/** How a blob after the head is read back. */
export const BlobKind = {
  Uint8Array: 0,
  Buffer: 1,
  /** A string of ASCII characters, one byte each. */
  Ascii: 2,
  Utf8: 3,
  Utf16: 4,
} as const
export type BlobKind = (typeof BlobKind)[keyof typeof BlobKind]

/** Strings at least this long are stored after the head, in their smallest encoding, instead of as JSON. */
export const TEXT_BLOB_CHARS = 512

export type Path = (string | number)[]
export type BlobMeta = [path: Path, kind: BlobKind, length: number]

export interface Blob {
  readonly path: Path
  readonly kind: BlobKind
  /** The bytes (byte arrays) or the text (strings). */
  readonly bytes?: Uint8Array
  readonly text?: string
  readonly length: number
}

/** How `text` is stored after the head: the smallest encoding that reads back exactly. */
export function textBlob(path: Path, text: string): Blob {
  const utf8 = Buffer.byteLength(text, "utf8")
  if (utf8 === text.length) return { path: [...path], kind: BlobKind.Ascii, text, length: utf8 }
  // A lone surrogate has no UTF-8 form (it would come back as U+FFFD): UTF-16 keeps it.
  if (utf8 < text.length * 2 && (text as unknown as { isWellFormed(): boolean }).isWellFormed())
    return { path: [...path], kind: BlobKind.Utf8, text, length: utf8 }
  return { path: [...path], kind: BlobKind.Utf16, text, length: text.length * 2 }
}

export const TEXT_ENCODINGS = { [BlobKind.Ascii]: "latin1", [BlobKind.Utf8]: "utf8", [BlobKind.Utf16]: "utf16le" } as const

/** Write the blobs one after another from `offset`; returns the offset after the last. */
export function writeBlobs(out: Buffer, offset: number, blobs: readonly Blob[]): number {
  for (const blob of blobs) {
    if (blob.bytes !== undefined) out.set(blob.bytes, offset)
    else out.write(blob.text as string, offset, blob.length, TEXT_ENCODINGS[blob.kind as keyof typeof TEXT_ENCODINGS])
    offset += blob.length
  }
  return offset
}

/** `value` with null in place of each of its blobs, copying only the arrays and objects on their paths. */
export function withoutBlobs(value: unknown, blobs: readonly Blob[]): unknown {
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
export function readBlob(bytes: Buffer, kind: unknown, offset: number, length: number): unknown {
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

/**
 * `root` with each blob of `meta`, read from `bytes` at `offset` on, in its
 * place. Only a null the encoder left in an own property of an object or
 * array is replaced; the blobs must end exactly at the end of `bytes`.
 */
export function placeBlobs(root: unknown, meta: unknown, bytes: Buffer, offset: number): unknown {
  if (!Array.isArray(meta)) throw new Error("plain payload: bad head")
  for (const item of meta) {
    const [path, kind, length] = Array.isArray(item) ? (item as unknown[]) : []
    if (!Array.isArray(path) || !Number.isInteger(length) || (length as number) < 0 || offset + (length as number) > bytes.length)
      throw new Error("plain payload: bad blob")
    const view = readBlob(bytes, kind, offset, length as number)
    offset += length as number
    if (path.length === 0) {
      root = view
      continue
    }
    let holder = root as Record<string | number, unknown>
    for (let i = 0; i < path.length; i++) {
      const name = path[i] as string | number
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
