/**
 * What one process knows about the files of a cache: every entry's size, last
 * access, hits and expiry, grouped by shard directory, with the modification
 * time each shard directory had when it was last listed.
 *
 * The files are the truth; the view is rebuilt from them. A shard directory
 * whose modification time has not changed since it was listed, and was
 * already older than `SETTLE_MS` then, is not listed again: adding, renaming
 * or removing a file in a directory updates its modification time, so an
 * unchanged time means unchanged names. The settle window covers filesystems
 * whose timestamps are coarse (two changes within one tick). Sizes are taken
 * from the files, so a refresh gives exact counts and bytes even while other
 * processes write; a file edited in place by another tool (never by sitecache,
 * which only replaces whole files) keeps its old size until its directory
 * changes.
 */
import { prefixOf, shardOf } from "./layout.js"

/** A shard directory listed less than this long after its last change is listed again next time. */
export const SETTLE_MS = 2000

export interface EntryRecord {
  /** Bytes of the file. */
  size: number
  /** Last read or write, ms since the epoch (the file's mtime when nothing better is known). */
  accessed: number
  /** Reads recorded in the index (other processes' included, as of their last `persist`). */
  hits: number
  /** From the entry header; 0 never; -1 not known yet. */
  expires: number
}

export interface ShardRecord {
  /** The directory's mtime when it was listed, in ns; -1 forces a listing. */
  mtimeNs: bigint
  /** The directory was older than the settle window when listed: an unchanged mtime can be trusted. */
  settled: boolean
  /** Relative paths of the entries it held. */
  readonly entries: Set<string>
}

export class View {
  readonly entries = new Map<string, EntryRecord>()
  readonly shards = new Map<string, ShardRecord>()
  size = 0

  get(rel: string): EntryRecord | undefined {
    return this.entries.get(rel)
  }

  set(rel: string, record: EntryRecord): void {
    const old = this.entries.get(rel)
    if (old !== undefined) this.size -= old.size
    this.entries.set(rel, record)
    this.size += record.size
    this.shard(shardOf(rel)).entries.add(rel)
  }

  /** Update the size of a known entry (another process replaced it). */
  resize(record: EntryRecord, size: number): void {
    this.size += size - record.size
    record.size = size
  }

  remove(rel: string): EntryRecord | undefined {
    const old = this.entries.get(rel)
    if (old === undefined) return undefined
    this.entries.delete(rel)
    this.size -= old.size
    this.shards.get(shardOf(rel))?.entries.delete(rel)
    return old
  }

  /** The shard record, created unlisted (so the next refresh lists it). */
  shard(shardRel: string): ShardRecord {
    let shard = this.shards.get(shardRel)
    if (shard === undefined) this.shards.set(shardRel, (shard = { mtimeNs: -1n, settled: false, entries: new Set() }))
    return shard
  }

  dropShard(shardRel: string): void {
    const shard = this.shards.get(shardRel)
    if (shard === undefined) return
    for (const rel of shard.entries) {
      const old = this.entries.get(rel)
      if (old === undefined) continue
      this.entries.delete(rel)
      this.size -= old.size
    }
    this.shards.delete(shardRel)
  }

  /** Count and bytes of entries under every prefix but `prefixHex`. */
  orphaned(prefixHex: string): { count: number; size: number } {
    let count = 0
    let size = 0
    for (const [rel, record] of this.entries) {
      if (prefixOf(rel) !== prefixHex) {
        count++
        size += record.size
      }
    }
    return { count, size }
  }
}
