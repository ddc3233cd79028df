/**
 * The index file, `<dir>/fs-v1/index`: a snapshot of the view (see view.ts)
 * written by `persist()`, so that a new process knows entry counts, bytes,
 * hits and last access without listing every directory, and so that
 * least-recently-used eviction has access times to go by.
 *
 * ```
 * offset  size   field
 *  0      4      magic "SCFI"
 *  4      1      index version (1)
 *  5      3      reserved, 0
 *  8      4      shard count s, uint32 LE
 * 12      4      entry count n, uint32 LE
 * 16      26·s   shards: prefix (16 bytes), first key byte (1), settled (1), directory mtime in ns (uint64 LE)
 *  …      61·n   entries: prefix (16), key (16), kind (1: 0 value, 1 stream),
 *                size, last access, expires (float64 LE each), hits (uint32 LE)
 *  end-8  8      xxh64 (seed 0, big-endian) of every byte before
 * ```
 *
 * The index is only ever an accelerator: it is written to a temporary file
 * and renamed over the old one (never visible half-written), and a missing,
 * unreadable or damaged index (bad magic, version, length or checksum) is
 * ignored and rebuilt by listing the directories. Two processes persisting at
 * the same moment may lose each other's access times (last writer wins);
 * entries are never lost by that, only their recency ranking.
 */
import { xxh64 } from "@sitecache/core"
import { isStreamPath, STREAM_SUFFIX, shardOf } from "./layout.js"
import { type EntryRecord, View } from "./view.js"

const MAGIC = 0x53_43_46_49 // "SCFI"
const VERSION = 1
const HEAD = 16
const SHARD_SIZE = 26
/** Bytes of one entry record (in the index and in the journal). */
export const ENTRY_SIZE = 61
const TRAILER = 8

export function encodeIndex(view: View): Buffer {
  const shards = [...view.shards].filter(([, shard]) => shard.mtimeNs >= 0n)
  const bytes = Buffer.alloc(HEAD + shards.length * SHARD_SIZE + view.entries.size * ENTRY_SIZE + TRAILER)
  bytes.writeUInt32BE(MAGIC, 0)
  bytes[4] = VERSION
  bytes.writeUInt32LE(shards.length, 8)
  bytes.writeUInt32LE(view.entries.size, 12)
  let at = HEAD
  for (const [rel, shard] of shards) {
    bytes.write(rel.slice(0, 32), at, "hex")
    bytes.write(rel.slice(33, 35), at + 16, "hex")
    bytes[at + 17] = shard.settled ? 1 : 0
    bytes.writeBigUInt64LE(shard.mtimeNs, at + 18)
    at += SHARD_SIZE
  }
  for (const [rel, record] of view.entries) {
    writeEntryRecord(bytes, at, rel, record)
    at += ENTRY_SIZE
  }
  bytes.writeBigUInt64BE(xxh64(bytes.subarray(0, at)), at)
  return bytes
}

/** The view an index describes, or `undefined` when it is damaged in any way. */
export function decodeIndex(bytes: Buffer): View | undefined {
  if (bytes.length < HEAD + TRAILER || bytes.readUInt32BE(0) !== MAGIC || bytes[4] !== VERSION) return undefined
  const shardCount = bytes.readUInt32LE(8)
  const entryCount = bytes.readUInt32LE(12)
  const end = HEAD + shardCount * SHARD_SIZE + entryCount * ENTRY_SIZE
  if (bytes.length !== end + TRAILER || bytes.readBigUInt64BE(end) !== xxh64(bytes.subarray(0, end))) return undefined
  const view = new View()
  let at = HEAD
  for (let i = 0; i < shardCount; i++) {
    const shardRel = `${bytes.toString("hex", at, at + 16)}/${bytes.toString("hex", at + 16, at + 17)}`
    const shard = view.shard(shardRel)
    shard.settled = bytes[at + 17] === 1
    shard.mtimeNs = bytes.readBigUInt64LE(at + 18)
    at += SHARD_SIZE
  }
  for (let i = 0; i < entryCount; i++) {
    const rel = readEntryPath(bytes, at)
    const record = readEntryRecord(bytes, at)
    if (!(record.size >= 0)) return undefined
    // An entry of a shard the index does not describe is listed again anyway.
    if (view.shards.has(shardOf(rel))) view.set(rel, record)
    at += ENTRY_SIZE
  }
  return view
}

/** Bit of an entry record's kind byte: a streamed entry. */
const STREAM_BIT = 1

/**
 * Write one entry record at `at`: prefix (16), key (16), kind (1: bit 0 a
 * streamed entry; `flags` adds bits of the journal's), size, last access,
 * expires (float64 LE each), hits (uint32 LE).
 */
export function writeEntryRecord(bytes: Buffer, at: number, rel: string, record: EntryRecord, flags = 0): void {
  bytes.write(rel.slice(0, 32), at, "hex")
  bytes.write(rel.slice(33, 35), at + 16, "hex")
  bytes.write(rel.slice(36, 66), at + 17, "hex")
  bytes[at + 32] = (isStreamPath(rel) ? STREAM_BIT : 0) | flags
  bytes.writeDoubleLE(record.size, at + 33)
  bytes.writeDoubleLE(record.accessed, at + 41)
  bytes.writeDoubleLE(record.expires, at + 49)
  bytes.writeUInt32LE(Math.min(record.hits, 0xffff_ffff), at + 57)
}

/** The relative entry path of the record at `at`. */
export function readEntryPath(bytes: Buffer, at: number): string {
  return (
    `${bytes.toString("hex", at, at + 16)}/${bytes.toString("hex", at + 16, at + 17)}/${bytes.toString("hex", at + 17, at + 32)}` +
    ((bytes[at + 32] as number) & STREAM_BIT ? STREAM_SUFFIX : "")
  )
}

/** The kind byte of the record at `at` (see `writeEntryRecord`). */
export function readEntryKind(bytes: Buffer, at: number): number {
  return bytes[at + 32] as number
}

export function readEntryRecord(bytes: Buffer, at: number): EntryRecord {
  return {
    size: bytes.readDoubleLE(at + 33),
    accessed: bytes.readDoubleLE(at + 41),
    expires: bytes.readDoubleLE(at + 49),
    hits: bytes.readUInt32LE(at + 57),
  }
}
