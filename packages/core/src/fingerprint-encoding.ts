/**
 * The bytes of a fingerprint (see `fingerprint.ts` for what is written) and
 * the paths that name a part of the fingerprinted value.
 *
 * Every value is a one-byte tag, then a length where it has one, then its
 * content: a string is its length in UTF-16 code units and the code units (one
 * copy, no transcoding), a number eight bytes, raw bytes their length and the
 * bytes. So no two values share an encoding.
 */

export enum Tag {
  Undefined = 1,
  Null = 2,
  True = 3,
  False = 4,
  Number = 5,
  BigInt = 6,
  String = 7,
  Symbol = 8,
  /** An object met before: the number of its first visit. */
  Reference = 9,
  /** A built-in, by its path. */
  Builtin = 10,
  /** A part that cannot be seen, by its `UnsoundCode`. */
  Unsound = 11,
  Object = 12,
  Array = 13,
  Function = 14,
  Map = 15,
  Set = 16,
  Date = 17,
  RegExp = 18,
  Bytes = 19,
  Boxed = 20,
  WeakCollection = 21,
  Key = 22,
  Url = 23,
  Hole = 24,
  Data = 25,
  Accessor = 26,
  Budget = 27,
}

/** Kept between fingerprints up to this size: most are a few KiB, a markdown-it instance about 1 MiB. */
const KEPT_BUFFER = 2 * 1024 * 1024
let spare: Buffer | undefined

/** A growable byte buffer with the encoding's primitives. */
export class Output {
  #buffer: Buffer
  length = 0

  constructor() {
    this.#buffer = spare ?? Buffer.allocUnsafe(64 * 1024)
    spare = undefined
  }

  /** Give the buffer back for the next fingerprint (after the bytes were hashed). */
  release(): void {
    if (this.#buffer.length <= KEPT_BUFFER) spare = this.#buffer
  }

  #reserve(bytes: number): void {
    if (this.length + bytes <= this.#buffer.length) return
    let size = this.#buffer.length * 2
    while (size < this.length + bytes) size *= 2
    const bigger = Buffer.allocUnsafe(size)
    this.#buffer.copy(bigger, 0, 0, this.length)
    this.#buffer = bigger
  }

  tag(tag: Tag | number): void {
    this.#reserve(1)
    this.#buffer[this.length++] = tag
  }

  uint32(value: number): void {
    this.#reserve(4)
    this.#buffer.writeUInt32LE(value >>> 0, this.length)
    this.length += 4
  }

  /** One NaN, and -0 as 0: equal-looking options give one fingerprint. */
  number(value: number): void {
    this.#reserve(8)
    this.#buffer.writeDoubleLE(Number.isNaN(value) ? Number.NaN : value === 0 ? 0 : value, this.length)
    this.length += 8
  }

  string(value: string): void {
    const units = value.length
    this.uint32(units)
    this.#reserve(units * 2)
    if (units < 64) {
      const out = this.#buffer
      let at = this.length
      for (let i = 0; i < units; i++) {
        const unit = value.charCodeAt(i)
        out[at++] = unit & 0xff
        out[at++] = unit >>> 8
      }
      this.length = at
    } else {
      this.length += this.#buffer.write(value, this.length, "utf16le")
    }
  }

  raw(bytes: Uint8Array): void {
    this.uint32(bytes.byteLength)
    this.#reserve(bytes.byteLength)
    this.#buffer.set(bytes, this.length)
    this.length += bytes.byteLength
  }

  /** The bytes written so far (a view: valid until `release`). */
  bytes(): Uint8Array {
    return new Uint8Array(this.#buffer.buffer, this.#buffer.byteOffset, this.length)
  }
}

/** A segment of a path that is not a property: a prototype, an entry of a `Map` or `Set`, an accessor's function. */
export interface SpecialSegment {
  readonly text: string
}

/**
 * Where a part of the value is: a linked list from the part up to the value.
 * Made into text only when a part is unsound.
 */
export interface Path {
  readonly parent: Path | null
  readonly segment: string | symbol | number | SpecialSegment
}

export const PROTOTYPE: SpecialSegment = { text: ".<prototype>" }
export const GETTER: SpecialSegment = { text: " (getter)" }
export const SETTER: SpecialSegment = { text: " (setter)" }

/** The path as JavaScript would reach the part (`plugins[2].render`), `""` for the value itself. */
export function pathText(path: Path | null): string {
  const segments: string[] = []
  for (let at = path; at !== null; at = at.parent) {
    const segment = at.segment
    if (typeof segment === "number") segments.push(`[${segment}]`)
    else if (typeof segment === "symbol") segments.push(`[${symbolText(segment)}]`)
    else if (typeof segment === "string")
      segments.push(/^[A-Za-z_$][\w$]*$/.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`)
    else segments.push(segment.text)
  }
  segments.reverse()
  // A path through a long chain (a linked list) stays readable: its start and its end.
  if (segments.length > MAX_SHOWN_SEGMENTS) {
    const hidden = segments.length - MAX_SHOWN_SEGMENTS
    segments.splice(MAX_SHOWN_SEGMENTS / 2, hidden, `…(${hidden} more)…`)
  }
  return segments.join("").replace(/^\./, "")
}

const MAX_SHOWN_SEGMENTS = 16

/** A symbol as text: `Symbol(description)`, or `Symbol.for("key")` for a registered one. */
export function symbolText(symbol: symbol): string {
  const registered = Symbol.keyFor(symbol)
  return registered === undefined ? `Symbol(${symbol.description ?? ""})` : `Symbol.for(${JSON.stringify(registered)})`
}
