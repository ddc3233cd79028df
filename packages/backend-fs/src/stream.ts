/**
 * Streamed entries: large values (images, archives) written and read without
 * ever holding the whole value in memory. They live beside value entries as
 * `<rest>.stream` and hold raw bytes (no codec), in blocks that each carry
 * their own checksum, so a reader hands out only bytes that passed their check:
 *
 * ```
 * offset  size   field
 *  0      4      magic "SCS\0"
 *  4      1      stream format version (1)
 *  5      3      reserved, 0
 *  8      8      created, ms since the epoch, float64 LE
 * 16      8      expires, ms since the epoch, float64 LE; 0 = never
 * 24      …      blocks: up to 256 KiB of data, then xxh64 (seed 0, big-endian) of that data;
 *                every block is full but the last (an empty stream has no block)
 * end-16  8      data length n, uint64 LE
 * end-8   8      xxh64 (seed 0, big-endian) of the header (bytes 0–23), every block checksum
 *                in order, and the length field
 * ```
 *
 * A reader checks magic, version, expiry and that the file size is exactly
 * what the length field implies before it hands out anything (so a truncated
 * or padded file is refused up front), then checks each block before handing
 * it out, and the trailer checksum at the end (a mismatch there, which only
 * reordered blocks could cause, errors the stream). Only the trailing
 * checksum would need a streaming hash; checksumming the list of block
 * checksums instead keeps to core's one-shot `xxh64` and lets every block be
 * checked on its own.
 */
import { CorruptEntryError, xxh64 } from "@sitecache/core"

export const STREAM_BLOCK = 256 * 1024
export const STREAM_HEADER = 24
export const STREAM_TRAILER = 16
const MAGIC = 0x53_43_53_00 // "SCS\0"
const VERSION = 1

export interface StreamHeader {
  readonly created: number
  readonly expires: number
}

export function encodeStreamHeader(header: StreamHeader): Buffer {
  const bytes = Buffer.alloc(STREAM_HEADER)
  bytes.writeUInt32BE(MAGIC, 0)
  bytes[4] = VERSION
  bytes.writeDoubleLE(header.created, 8)
  bytes.writeDoubleLE(header.expires, 16)
  return bytes
}

export function decodeStreamHeader(bytes: Uint8Array): StreamHeader {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.length < STREAM_HEADER) throw new CorruptEntryError(`stream of ${buffer.length} bytes is shorter than its header`)
  if (buffer.readUInt32BE(0) !== MAGIC) throw new CorruptEntryError("bad stream magic")
  if (buffer[4] !== VERSION) throw new CorruptEntryError(`stream format version ${buffer[4]}, expected ${VERSION}`)
  return { created: buffer.readDoubleLE(8), expires: buffer.readDoubleLE(16) }
}

/** The file size a stream of `length` data bytes has. */
export function streamFileSize(length: number): number {
  return STREAM_HEADER + length + 8 * Math.ceil(length / STREAM_BLOCK) + STREAM_TRAILER
}

/**
 * Running checksum of a stream: the header, each block's checksum, then the
 * length. Keeps 8 bytes per 256 KiB block (32 KiB per GiB streamed).
 */
export class StreamDigest {
  readonly #parts: Buffer[]

  constructor(header: Buffer) {
    this.#parts = [header]
  }

  /** The checksum of one block (also recorded for the trailer). */
  block(data: Uint8Array): Buffer {
    const sum = Buffer.allocUnsafe(8)
    sum.writeBigUInt64BE(xxh64(data))
    this.#parts.push(sum)
    return sum
  }

  trailer(length: number): Buffer {
    const bytes = Buffer.alloc(STREAM_TRAILER)
    bytes.writeBigUInt64LE(BigInt(length), 0)
    bytes.writeBigUInt64BE(xxh64(Buffer.concat([...this.#parts, bytes.subarray(0, 8)])), 8)
    return bytes
  }
}
