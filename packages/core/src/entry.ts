/**
 * The entry format: how one value is stored, by every backend.
 *
 * ```
 * offset  size  field
 *  0      4     magic "SCE\0" (0x53 0x43 0x45 0x00)
 *  4      1     format version (FORMAT_VERSION)
 *  5      1     codec id (see codec.ts)
 *  6      1     flags: bit 0 the payload is gzip-compressed; bit 1 the trailer is an HMAC
 *  7      1     reserved, 0
 *  8      8     created, ms since the epoch, float64 little-endian
 * 16      8     expires, ms since the epoch, float64 little-endian; 0 = never
 * 24      4     payload length n, uint32 little-endian
 * 28      n     payload (the codec's bytes, compressed when flag 0 is set)
 * 28+n    8|32  trailer over bytes [0, 28+n): xxh64 (seed 0, big-endian) or,
 *               when flag 1 is set, HMAC-SHA256 with the cache's secret
 * ```
 *
 * A compressed payload is one gzip member (RFC 1952), whose last four bytes
 * (ISIZE, little-endian) declare the length of the codec's bytes. A reader
 * checks that length against its size cap and inflates at most that many
 * bytes: a few hundred kilobytes of crafted gzip cannot make it allocate
 * hundreds of megabytes before the entry is refused.
 *
 * A reader checks magic, version, codec, length, size cap and trailer before
 * it decodes anything; any mismatch is a `CorruptEntryError`, which the cache
 * turns into a miss. The header is covered by the trailer too, so a flipped
 * expiry time is caught like a flipped payload byte.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { gunzipSync, gzipSync } from "node:zlib"
import { CorruptEntryError } from "./errors.js"
import { xxh64 } from "./key.js"

export const FORMAT_VERSION = 2

/**
 * Where each field of an entry lives, in bytes from its start. Code outside
 * this module that reads or damages stored bytes (the Redis put-if-absent
 * script, the conformance damage helpers) is built from these.
 */
export const ENTRY_OFFSETS = Object.freeze({
  magic: 0,
  version: 4,
  codec: 5,
  flags: 6,
  reserved: 7,
  /** float64 little-endian, ms since the epoch. */
  created: 8,
  /** float64 little-endian, ms since the epoch; 0 = never. */
  expires: 16,
  /** uint32 little-endian. */
  payloadLength: 24,
  payload: 28,
} as const)
export const HEADER_SIZE = ENTRY_OFFSETS.payload
/** The four magic bytes as a binary string (as a Lua script compares them). */
export const ENTRY_MAGIC = "SCE\0"
/** Flag bits of the byte at `ENTRY_OFFSETS.flags`. */
export const ENTRY_FLAGS = Object.freeze({ gzip: 1, signed: 2 } as const)
/** Trailer size of an unsigned entry (xxh64) and of a signed one (HMAC-SHA256). */
export const CHECKSUM_SIZE = 8
export const HMAC_SIZE = 32
const MAGIC = 0x53_43_45_00
const FLAG_GZIP = ENTRY_FLAGS.gzip
const FLAG_SIGNED = ENTRY_FLAGS.signed
const GZIP_TRAILER_SIZE = 8
const MAX_ISIZE = 0xff_ff_ff_ff

export interface EntryHeader {
  readonly codecId: number
  readonly created: number
  /** 0 when the entry never expires. */
  readonly expires: number
}

export interface EncodeEntryOptions extends EntryHeader {
  /** Compress the payload when it is at least this many bytes. */
  readonly compressAbove?: number
  /** Sign with HMAC-SHA256 instead of the xxh64 checksum. */
  readonly secret?: Uint8Array | undefined
}

export interface DecodeEntryOptions {
  /** Refuse payloads larger than this many bytes. */
  readonly maxPayload: number
  /** When set, only entries signed with this secret are accepted. */
  readonly secret?: Uint8Array | undefined
}

export interface DecodedEntry extends EntryHeader {
  /** The codec's bytes, decompressed. */
  readonly payload: Uint8Array
}

/** Build the stored bytes of one entry around a codec payload. */
export function encodeEntry(payload: Uint8Array, options: EncodeEntryOptions): Uint8Array {
  let flags = 0
  let body = payload
  // ISIZE holds the length modulo 2^32: a longer payload is stored as it is.
  if (options.compressAbove !== undefined && payload.length >= options.compressAbove && payload.length <= MAX_ISIZE) {
    body = gzipSync(payload, { level: 1 })
    flags |= FLAG_GZIP
  }
  const signed = options.secret !== undefined
  if (signed) flags |= FLAG_SIGNED
  const trailer = signed ? HMAC_SIZE : CHECKSUM_SIZE
  const bytes = Buffer.allocUnsafe(HEADER_SIZE + body.length + trailer)
  bytes.writeUInt32BE(MAGIC, ENTRY_OFFSETS.magic)
  bytes[ENTRY_OFFSETS.version] = FORMAT_VERSION
  bytes[ENTRY_OFFSETS.codec] = options.codecId
  bytes[ENTRY_OFFSETS.flags] = flags
  bytes[ENTRY_OFFSETS.reserved] = 0
  bytes.writeDoubleLE(options.created, ENTRY_OFFSETS.created)
  bytes.writeDoubleLE(options.expires, ENTRY_OFFSETS.expires)
  bytes.writeUInt32LE(body.length, ENTRY_OFFSETS.payloadLength)
  bytes.set(body, HEADER_SIZE)
  const end = HEADER_SIZE + body.length
  if (options.secret !== undefined) {
    createHmac("sha256", options.secret).update(bytes.subarray(0, end)).digest().copy(bytes, end)
  } else {
    bytes.writeBigUInt64BE(xxh64(bytes.subarray(0, end)), end)
  }
  return bytes
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Read only the header (for expiry checks and tools); throws `CorruptEntryError` when it is malformed. */
export function readEntryHeader(stored: Uint8Array): EntryHeader & { readonly payloadLength: number; readonly flags: number } {
  const bytes = asBuffer(stored)
  if (bytes.length < HEADER_SIZE + CHECKSUM_SIZE) throw new CorruptEntryError(`${bytes.length} bytes is shorter than a header`)
  if (bytes.readUInt32BE(ENTRY_OFFSETS.magic) !== MAGIC) throw new CorruptEntryError("bad magic")
  const version = bytes[ENTRY_OFFSETS.version]
  if (version !== FORMAT_VERSION) throw new CorruptEntryError(`format version ${version}, expected ${FORMAT_VERSION}`)
  return {
    codecId: bytes[ENTRY_OFFSETS.codec] ?? 0,
    flags: bytes[ENTRY_OFFSETS.flags] ?? 0,
    created: bytes.readDoubleLE(ENTRY_OFFSETS.created),
    expires: bytes.readDoubleLE(ENTRY_OFFSETS.expires),
    payloadLength: bytes.readUInt32LE(ENTRY_OFFSETS.payloadLength),
  }
}

/** Check an entry's header, length, size cap and trailer; return its payload. */
export function decodeEntry(stored: Uint8Array, options: DecodeEntryOptions): DecodedEntry {
  const bytes = asBuffer(stored)
  const header = readEntryHeader(bytes)
  const signed = (header.flags & FLAG_SIGNED) !== 0
  if (options.secret !== undefined && !signed)
    throw new CorruptEntryError("unsigned entry in a signed cache", { removable: false })
  if (options.secret === undefined && signed)
    throw new CorruptEntryError("signed entry in a cache without a secret", { removable: false })
  if (header.payloadLength > options.maxPayload) {
    throw new CorruptEntryError(`payload of ${header.payloadLength} bytes is over the cap of ${options.maxPayload}`)
  }
  const end = HEADER_SIZE + header.payloadLength
  const trailer = signed ? HMAC_SIZE : CHECKSUM_SIZE
  if (bytes.length !== end + trailer) {
    throw new CorruptEntryError(`length ${bytes.length}, expected ${end + trailer} (truncated or padded)`)
  }
  if (options.secret !== undefined) {
    const expected = createHmac("sha256", options.secret).update(bytes.subarray(0, end)).digest()
    if (!timingSafeEqual(expected, bytes.subarray(end, end + HMAC_SIZE)))
      throw new CorruptEntryError("bad signature", { removable: false })
  } else if (bytes.readBigUInt64BE(end) !== xxh64(bytes.subarray(0, end))) {
    throw new CorruptEntryError("checksum mismatch")
  }
  let payload: Uint8Array = bytes.subarray(HEADER_SIZE, end)
  if ((header.flags & FLAG_GZIP) !== 0) payload = inflate(bytes.subarray(HEADER_SIZE, end), options.maxPayload)
  return { codecId: header.codecId, created: header.created, expires: header.expires, payload }
}

/** The bytes of a compressed payload, never more than it declares (ISIZE) nor than `maxPayload`. */
function inflate(compressed: Buffer, maxPayload: number): Buffer {
  if (compressed.length < GZIP_TRAILER_SIZE) throw new CorruptEntryError("compressed payload shorter than a gzip trailer")
  const declared = compressed.readUInt32LE(compressed.length - 4)
  if (declared > maxPayload) {
    throw new CorruptEntryError(`compressed payload declares ${declared} bytes, over the cap of ${maxPayload}`)
  }
  let payload: Buffer
  try {
    // One byte more than declared, so that a stream that goes on past its declaration is caught, not cut short.
    payload = gunzipSync(compressed, { maxOutputLength: declared + 1 })
  } catch (error) {
    throw new CorruptEntryError(`bad compressed payload: ${(error as Error).message}`)
  }
  if (payload.length !== declared) {
    throw new CorruptEntryError(`compressed payload inflates to ${payload.length} bytes, not the ${declared} it declares`)
  }
  return payload
}
