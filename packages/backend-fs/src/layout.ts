/**
 * The on-disk layout of a filesystem cache.
 *
 * ```
 * <dir>/
 *   CACHEDIR.TAG                      marks the directory as a cache (backup tools skip it)
 *   fs-v1/                            the layout version: a future layout lives beside it
 *     index                           entry count, bytes, hits and last access (see index-file.ts)
 *     journal                         what builds did since the index was written (see journal.ts)
 *     .tmp-journal-<uuid>             a journal being compacted into the index (or left by a killed compaction)
 *     <prefix: 32 hex>/               one directory per key prefix (format, codec, user prefix)
 *       <ab>/                         the first byte of the key, as two hex characters
 *         <rest of the key: 30 hex>   one entry: exactly the bytes of core's entry format
 *         <rest>.stream               one streamed entry (see stream.ts)
 *         .tmp-<uuid>                 a write in progress (or left by a killed writer)
 * ```
 *
 * Paths are made only from hex (key and prefix), never from user text.
 * Directories are created `0700` and files `0600`: a cache may hold rendered
 * drafts and is nobody else's business.
 *
 * A value entry file holds exactly the stored bytes of core's entry format
 * (header, payload, xxh64 or HMAC trailer), so a read is one `readFileSync`
 * and every check (magic, version, length, checksum) happens in `StoreCache`.
 * An entry becomes visible only complete: it is written to a temporary file in
 * its own directory and then linked (put-if-absent) or renamed (replace) to its
 * name, both atomic on POSIX filesystems.
 */
import { constants } from "node:fs"
import type { EntryId } from "@sitecache/core"

export const LAYOUT_VERSION = 1
/** The versioned root below the cache directory. */
export const ROOT_NAME = `fs-v${LAYOUT_VERSION}`
export const INDEX_NAME = "index"
export const JOURNAL_NAME = "journal"
export const TEMP_PREFIX = ".tmp-"
export const STREAM_SUFFIX = ".stream"
/** Left by `clear()` while it removes the old root (renamed away first, so clearing is atomic). */
export const TRASH_PREFIX = `${ROOT_NAME}.trash-`
export const CACHEDIR_TAG = "CACHEDIR.TAG"
export const CACHEDIR_TAG_TEXT =
  "Signature: 8a477f597d28d172789f06886806bc55\n" +
  "# This file is a cache directory tag created by sitecache (@sitecache/backend-fs).\n" +
  "# For information about cache directory tags, see https://bford.info/cachedir/\n"

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600

/** Open flags of a new temporary file: exclusive, never through a symlink. */
export const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)
/** Open flags of a read: never through a symlink, and never waiting on a FIFO (see guard.ts). */
export const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

export const PREFIX_DIR = /^[0-9a-f]{32}$/
const SHARD_DIR = /^[0-9a-f]{2}$/
export const ENTRY_FILE = /^[0-9a-f]{30}(?:\.stream)?$/

/**
 * The path of an entry relative to the root, `<prefix>/<ab>/<rest>`: also the
 * entry's name in the index and in memory.
 */
export function entryPath(id: EntryId): string {
  const hex = id.key.hex
  return `${id.prefix.hex}/${hex.slice(0, 2)}/${hex.slice(2)}`
}

/** The shard directory (`<prefix>/<ab>`) of a relative entry path. */
export function shardOf(rel: string): string {
  return rel.slice(0, 35)
}

/** The prefix (32 hex) of a relative entry or shard path. */
export function prefixOf(rel: string): string {
  return rel.slice(0, 32)
}

/** The key (32 hex) of a relative entry path. */
export function keyHexOf(rel: string): string {
  return rel.slice(33, 35) + rel.slice(36, 66)
}

export function isStreamPath(rel: string): boolean {
  return rel.endsWith(STREAM_SUFFIX)
}

/**
 * Every shard directory below the root, as `<prefix>/<ab>`: the one walk of
 * the layout (listings, `entries()`, `clean()`, removal of empty directories).
 * `list(rel)` gives the names in a directory of the cache (`""`: the root),
 * nothing for one that is not a real directory (see guard.ts).
 */
export function* shardDirectories(list: (rel: string) => readonly string[]): Generator<string> {
  for (const prefix of list("")) {
    if (!PREFIX_DIR.test(prefix)) continue
    for (const shard of list(prefix)) if (SHARD_DIR.test(shard)) yield `${prefix}/${shard}`
  }
}
