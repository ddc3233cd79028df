/**
 * Codecs turn values into payload bytes and back. Decoding is a trust
 * boundary: a codec never `require`s, `eval`s or revives classes, and the
 * cache feeds it only bytes that passed the entry checksum (and, on a shared
 * store, the HMAC), since `v8.deserialize` can crash the process on crafted
 * bytes.
 */
import { deserialize, serialize } from "node:v8"
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
 */
export const v8Codec: Codec = {
  id: 1,
  name: "v8",
  version: `node${nodeMajor}`,
  encode(value) {
    if (value === undefined) throw new UnserializableError("`undefined` reads back as a miss; store `null` instead")
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
    return deserialize(payload)
  },
}
