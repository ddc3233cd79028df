/**
 * The journal, `<dir>/fs-v1/journal`: what builds did to entries since the
 * index was last written, so that a build's `persist()` costs what the build
 * did (one append of its own reads and writes), not the size of the cache.
 * Each `persist()` appends one batch, in one `write` to a file opened
 * `O_APPEND`:
 *
 * ```
 * offset  size   field
 *  0      4      magic "SCFJ"
 *  4      1      journal version (1)
 *  5      3      reserved, 0
 *  8      4      record count n, uint32 LE
 * 12      61·n   records, as the index's entry records (see index-file.ts), whose
 *                kind byte also has bit 1 set when the entry was written (its size
 *                and expiry are then the written file's); hits are this batch's reads
 *  end-8  8      xxh64 (seed 0, big-endian) of every byte of the batch before
 * ```
 *
 * A reader applies the index, then the batches in order, and stops at the
 * first batch that is damaged or incomplete (a writer killed mid-append, or
 * still appending). When the journal outgrows the index, a `persist()`
 * compacts: it renames the journal aside, applies it, writes a new index and
 * removes the old journal. Like the index, the journal is only an
 * accelerator: losing it loses recency, never entries.
 */
import { xxh64 } from "@sitecache/core"
import { ENTRY_SIZE, readEntryKind, readEntryPath, readEntryRecord, writeEntryRecord } from "./index-file.js"
import type { View } from "./view.js"

const MAGIC = 0x53_43_46_4a // "SCFJ"
const VERSION = 1
const HEAD = 12
const TRAILER = 8
/** Kind bit of a record whose entry was written (size and expiry known). */
const WRITTEN_BIT = 2

/** What one process did to one entry since its last `persist()`. */
export interface Change {
  /** Last read or write, by the cache's clock. */
  accessed: number
  /** Reads. */
  hits: number
  /** Set when the process wrote the entry: its file's size. */
  size?: number
  /** Set when the process wrote the entry: its expiry (0 never). */
  expires?: number
}

/** One batch of changes, ready to append. */
export function encodeBatch(changes: ReadonlyMap<string, Change>): Buffer {
  const bytes = Buffer.alloc(HEAD + changes.size * ENTRY_SIZE + TRAILER)
  bytes.writeUInt32BE(MAGIC, 0)
  bytes[4] = VERSION
  bytes.writeUInt32LE(changes.size, 8)
  let at = HEAD
  for (const [rel, change] of changes) {
    const written = change.size !== undefined
    const record = { size: change.size ?? 0, accessed: change.accessed, expires: change.expires ?? -1, hits: change.hits }
    writeEntryRecord(bytes, at, rel, record, written ? WRITTEN_BIT : 0)
    at += ENTRY_SIZE
  }
  bytes.writeBigUInt64BE(xxh64(bytes.subarray(0, at)), at)
  return bytes
}

/**
 * Apply the batches of `bytes` from `offset` to `view`; returns the offset
 * after the last whole, sound batch (where a later replay starts).
 */
export function replayJournal(bytes: Buffer, view: View, offset = 0): number {
  let at = offset
  while (at + HEAD + TRAILER <= bytes.length) {
    if (bytes.readUInt32BE(at) !== MAGIC || bytes[at + 4] !== VERSION) break
    const end = at + HEAD + bytes.readUInt32LE(at + 8) * ENTRY_SIZE
    if (end + TRAILER > bytes.length || bytes.readBigUInt64BE(end) !== xxh64(bytes.subarray(at, end))) break
    for (let record = at + HEAD; record < end; record += ENTRY_SIZE) apply(view, bytes, record)
    at = end + TRAILER
  }
  return at
}

function apply(view: View, bytes: Buffer, at: number): void {
  const rel = readEntryPath(bytes, at)
  const change = readEntryRecord(bytes, at)
  const written = (readEntryKind(bytes, at) & WRITTEN_BIT) !== 0
  if (!(change.size >= 0) || !Number.isFinite(change.accessed)) return
  const known = view.get(rel)
  if (known === undefined) {
    // An entry nobody listed yet: known from its writer; its shard is listed before counts are trusted.
    if (written) view.set(rel, change)
    return
  }
  known.accessed = Math.max(known.accessed, change.accessed)
  known.hits += change.hits
  if (written) {
    view.resize(known, change.size)
    known.expires = change.expires
  }
}
