/**
 * What a build leaves in the cache about itself, beside the entries:
 *
 * - the run history: one small summary per build (time, documents, hits,
 *   misses, bytes written, errors, time saved), the last `MAX_RUNS` kept, for
 *   `sitecache inspect`;
 * - the manifest of the last build: every document's key, part hashes and
 *   dependency hashes, for `prefetch` on the next build and `sitecache explain`.
 *   For the documents that missed, it also keeps what the build before
 *   recorded of them (`previous`), so `explain` can say which part changed.
 *   That costs one extra record per changed document, never a second full
 *   manifest (except after a cold build, where every document missed);
 * - the list of tools that recorded builds, so `sitecache` finds them;
 * - what the automatic sweep removed (sweep.ts), which `finishBuild` runs.
 *
 * Slightly over ~400 lines: the manifest's compact stored form (encode and
 * decode) sits beside the records that use it, so one format lives in one file.
 *
 * A build that missed nothing and saw the same documents under the same keys
 * and dependency hashes as the stored manifest (its digest says so) does not
 * write it again: its run summary names the manifest's digest, and
 * `readManifest` gives that manifest as this build's (every document a hit,
 * this build's start time). Rewriting it was most of a warm build's record
 * keeping (about 15 ms for 1,200 documents).
 *
 * Records live under their own key prefix, `RECORDS_KEY_PREFIX`, not the
 * cache's current one: a new adapter version or configuration changes the
 * cache's prefix (hiding every entry), and the history must survive it so
 * that `explain` can say so. They are written through
 * `Cache.withKeyPrefix`, which keeps the cache's codec and secret.
 * Each record is replaced on each build (delete, then put: entries are
 * put-if-absent); a reader racing a build may briefly see no record.
 */
import { key } from "./key.js"
import { type HitProfile, hitProfile } from "./profile.js"
import { manifestOf, runsOf, type StoredDocument, type StoredManifest, sweepRecordOf, toolsOf } from "./record-shapes.js"
import { type BuildStats, type DocumentRecord, documentId, type Uncacheable } from "./stats.js"
import { type SweepRecord, type SweepResult, sweepIfDue } from "./sweep.js"
import type { Cache } from "./types.js"

export const MAX_RUNS = 50

/** The user key prefix build records are stored under (see `Cache.withKeyPrefix`). */
export const RECORDS_KEY_PREFIX = "sitecache:records"

export interface RunSummary {
  readonly tool: string
  /** ISO time the build started. */
  readonly startedAt: string
  readonly durationMs: number
  readonly documents: number
  readonly hits: number
  readonly misses: number
  readonly uncacheable: number
  /** Time the hits saved: what their computations took when they ran, in ms. */
  readonly savedMs: number
  /** Bytes of the entries this build added. */
  readonly bytesWritten?: number
  /** Cache faults and corrupt entries met during this build. */
  readonly errors: number
  /** Hex of the cache's key prefix during the build: entries under other prefixes are orphans. */
  readonly keyPrefix?: string
  /** Digest of the documents this build recorded (paths, keys, dependency hashes), as its manifest carries. */
  readonly manifest?: string
  /** What the sweep at the end of this build removed (entries unused for `maxIdle`); absent when none ran. */
  readonly swept?: SweepResult
  /** Where a hit's time went, µs per hit (see `BuildStats.timing`); absent when the build had no timed hit. */
  readonly profile?: HitProfile
}

/** What the build before the last one recorded of the documents that missed in the last one. */
export interface PreviousBuild {
  readonly startedAt: string
  readonly keyPrefix?: string
  readonly documents: Readonly<Record<string, DocumentRecord>>
}

export interface BuildManifest {
  readonly tool: string
  readonly startedAt: string
  /** Hex of the cache's key prefix during the build. */
  readonly keyPrefix?: string
  readonly documents: Readonly<Record<string, DocumentRecord>>
  /** Absent on a tool's first recorded build. */
  readonly previous?: PreviousBuild
  /** Digest of the documents (see `RunSummary.manifest`). */
  readonly digest?: string
}

export function runsKey(tool: string) {
  return key("sitecache:runs", tool)
}

export function manifestKey(tool: string) {
  return key("sitecache:manifest", tool)
}

/** The digest of the stored manifest of `tool`, read alone (see `finishBuild`). */
export function manifestDigestKey(tool: string) {
  return key("sitecache:manifest-digest", tool)
}

/** Where the list of tools that recorded builds lives. */
export function toolsKey() {
  return key("sitecache:tools")
}

/** Where the record of the last sweep lives (see sweep.ts). */
export function sweepKey() {
  return key("sitecache:sweep")
}

const recordViews = new WeakMap<Cache, Cache>()

/**
 * The cache build records are read from and written to: `cache` under
 * `RECORDS_KEY_PREFIX` (read-write unless `cache` is read-only, so a
 * write-only build keeps the history).
 */
export function buildRecords(cache: Cache): Cache {
  let view = recordViews.get(cache)
  if (view === undefined) {
    view = cache.withKeyPrefix(RECORDS_KEY_PREFIX, { mode: cache.mode === "read-only" ? "read-only" : "read-write" })
    recordViews.set(cache, view)
  }
  return view
}

async function replace(cache: Cache, entryKey: ReturnType<typeof key>, value: unknown): Promise<void> {
  await cache.delete(entryKey)
  await cache.put(entryKey, value)
}

/** The run history of `tool`, oldest first. */
export async function readRuns(cache: Cache, tool: string): Promise<RunSummary[]> {
  return runsOf(await buildRecords(cache).get(runsKey(tool)))
}

/**
 * How a manifest is stored (`format: 3`). A site's documents share most of
 * their part names and hashes (one per plugin) and dependency paths (layouts,
 * partials), so every such string is stored once in `strings` and documents
 * refer to it by index: 10,000 documents of a 15-plugin pipeline take about
 * 1.5 MB instead of 15 MB as plain records.
 *
 * A document is `[path, step, variant, key, hit, parts, deps, uncacheable]`:
 * `step` and `variant` are string indexes (-1: none, see `DocumentRef`);
 * `parts` is the flat list of (name index, hash index) pairs and `deps` of
 * (path index, hash index), a hash index of -1 meaning `null` (the file did
 * not exist), each `null` when the record had none; `uncacheable` is
 * `[step index, reason index]` (a step index of -1: none) for a document whose
 * result could not be cached, else `null`. A stored manifest of another
 * format reads as no manifest: the next build writes one.
 */
function encodeManifest(manifest: BuildManifest): StoredManifest {
  const strings: string[] = []
  const indexes = new Map<string, number>()
  const intern = (text: string) => {
    let index = indexes.get(text)
    if (index === undefined) {
      index = strings.push(text) - 1
      indexes.set(text, index)
    }
    return index
  }
  const optional = (text: string | undefined) => (text === undefined ? -1 : intern(text))
  // for…in rather than Object.entries: this runs once per build, mostly before the JIT has looked at it,
  // and an array per property of ~20 per document was most of its time.
  const encode = (documents: Readonly<Record<string, DocumentRecord>>): StoredDocument[] => {
    const stored: StoredDocument[] = []
    for (const id in documents) {
      const record = documents[id] as DocumentRecord
      let parts: number[] | null = null
      const recordParts = record.parts
      if (recordParts !== undefined) {
        parts = []
        for (const name in recordParts) parts.push(intern(name), intern(recordParts[name] as string))
      }
      let deps: number[] | null = null
      const recordDeps = record.deps
      if (recordDeps !== undefined) {
        deps = []
        for (const file in recordDeps) {
          const hash = recordDeps[file]
          deps.push(intern(file), hash === null || hash === undefined ? -1 : intern(hash))
        }
      }
      const uncacheable = record.uncacheable
      stored.push([
        record.path,
        optional(record.step),
        optional(record.variant),
        record.key,
        record.hit,
        parts,
        deps,
        uncacheable === undefined ? null : [optional(uncacheable.step), intern(uncacheable.reason)],
      ])
    }
    return stored
  }
  const documents = encode(manifest.documents)
  const previous = manifest.previous
  return {
    format: 3,
    tool: manifest.tool,
    startedAt: manifest.startedAt,
    ...(manifest.keyPrefix === undefined ? {} : { keyPrefix: manifest.keyPrefix }),
    strings,
    documents,
    ...(manifest.digest === undefined ? {} : { digest: manifest.digest }),
    ...(previous === undefined
      ? {}
      : {
          previous: {
            startedAt: previous.startedAt,
            ...(previous.keyPrefix === undefined ? {} : { keyPrefix: previous.keyPrefix }),
            documents: encode(previous.documents),
          },
        }),
  }
}

/** Set an own property: names read from a record (paths, part names) are data, and not even `__proto__` is special. */
function own(record: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true })
}

function decodeDocument(strings: readonly string[], document: StoredDocument): DocumentRecord {
  const [path, step, variant, key, hit, parts, deps, uncacheable] = document
  const text = (index: number | undefined) => strings[index ?? -1] ?? ""
  const record: {
    path: string
    step?: string
    variant?: string
    key: string
    hit: boolean
    parts?: Record<string, string>
    deps?: Record<string, string | null>
    uncacheable?: Uncacheable
  } = { path, ...(step === -1 ? {} : { step: text(step) }), ...(variant === -1 ? {} : { variant: text(variant) }), key, hit }
  if (parts !== null) {
    record.parts = {}
    for (let i = 0; i < parts.length; i += 2) own(record.parts, text(parts[i]), text(parts[i + 1]))
  }
  if (deps !== null) {
    record.deps = {}
    for (let i = 0; i < deps.length; i += 2) own(record.deps, text(deps[i]), deps[i + 1] === -1 ? null : text(deps[i + 1]))
  }
  if (uncacheable !== null) {
    const [uncacheableStep, reason] = uncacheable
    record.uncacheable = uncacheableStep === -1 ? { reason: text(reason) } : { step: text(uncacheableStep), reason: text(reason) }
  }
  return record
}

function decodeDocuments(strings: readonly string[], documents: readonly StoredDocument[]): Record<string, DocumentRecord> {
  const records: Record<string, DocumentRecord> = {}
  for (const document of documents) {
    const record = decodeDocument(strings, document)
    own(records, documentId(record), record)
  }
  return records
}

function decodeManifest(stored: StoredManifest): BuildManifest {
  const { previous } = stored
  return {
    tool: stored.tool,
    startedAt: stored.startedAt,
    ...(stored.keyPrefix === undefined ? {} : { keyPrefix: stored.keyPrefix }),
    documents: decodeDocuments(stored.strings, stored.documents),
    ...(stored.digest === undefined ? {} : { digest: stored.digest }),
    ...(previous === undefined
      ? {}
      : {
          previous: {
            startedAt: previous.startedAt,
            ...(previous.keyPrefix === undefined ? {} : { keyPrefix: previous.keyPrefix }),
            documents: decodeDocuments(stored.strings, previous.documents),
          },
        }),
  }
}

/** The manifest of the last build of `tool`. */
export async function readManifest(cache: Cache, tool: string): Promise<BuildManifest | undefined> {
  const stored = manifestOf(await buildRecords(cache).get(manifestKey(tool)))
  if (stored === undefined) return undefined
  const manifest = decodeManifest(stored)
  // The last build kept this manifest (it missed nothing, and saw the same documents): it is that build's.
  const last = manifest.digest === undefined ? undefined : (await readRuns(cache, tool)).at(-1)
  if (last === undefined || last.manifest !== manifest.digest || last.misses > 0 || last.startedAt === manifest.startedAt)
    return manifest
  const documents: Record<string, DocumentRecord> = {}
  for (const path of Object.keys(manifest.documents))
    own(documents, path, { ...(manifest.documents[path] as DocumentRecord), hit: true })
  return {
    tool: manifest.tool,
    startedAt: last.startedAt,
    ...(manifest.keyPrefix === undefined ? {} : { keyPrefix: manifest.keyPrefix }),
    documents,
    digest: manifest.digest as string,
  }
}

/**
 * Digest of what a manifest says of the documents, hit flags aside: the
 * key prefix, and each document's identity (`documentId`), key and
 * dependency hashes (a key stands for its parts), in identity order.
 * Hashed as one JSON text (each document a self-delimiting JSON array),
 * which is several times cheaper than framing every record as key parts
 * (6 ms of a warm build of 1,400 documents). Dependencies are in the order
 * they were recorded: the same computation records them in the same order,
 * and another order only costs one rewrite of the manifest.
 */
function documentsDigest(documents: ReadonlyMap<string, DocumentRecord>, keyPrefix: string | undefined): string {
  const ids = [...documents.keys()].sort()
  let text = JSON.stringify(keyPrefix ?? null)
  for (const id of ids) {
    const record = documents.get(id) as DocumentRecord
    text += JSON.stringify([id, record.key, record.deps ?? null])
  }
  return key("sitecache:documents-digest", text).hex
}

/** What the sweeps of this cache removed, and when the last one ran; `undefined` before the first. */
export async function readSweep(cache: Cache): Promise<SweepRecord | undefined> {
  return sweepRecordOf(await buildRecords(cache).get(sweepKey()))
}

/** The tools that recorded builds in this cache (`"blog"`, `"vite"`, ...), in the order they first did. */
export async function readTools(cache: Cache): Promise<string[]> {
  return toolsOf(await buildRecords(cache).get(toolsKey()))
}

/** Counters of the cache when its last build finished, so a long-lived cache (watch mode) reports per build. */
const countersAtLastFinish = new WeakMap<Cache, { errors: number; bytesWritten: number }>()

/** What the last manifest recorded of the documents that missed in this build (decoding only those). */
function previousRecords(old: StoredManifest | undefined, stats: BuildStats): PreviousBuild | undefined {
  if (old === undefined) return undefined
  const documents: Record<string, DocumentRecord> = {}
  for (const document of old.documents) {
    const [path, step, variant] = document
    const id =
      step === -1 && variant === -1
        ? documentId(path)
        : documentId({
            path,
            ...(step === -1 ? {} : { step: old.strings[step] ?? "" }),
            ...(variant === -1 ? {} : { variant: old.strings[variant] ?? "" }),
          })
    if (stats.documentRecords.get(id)?.hit === false) own(documents, id, decodeDocument(old.strings, document))
  }
  return {
    startedAt: old.startedAt,
    ...(old.keyPrefix === undefined ? {} : { keyPrefix: old.keyPrefix }),
    documents,
  }
}

/**
 * End a build: sweep the entries unused for `maxIdle` when a day has passed
 * since the last sweep (sweep.ts), record the build's summary and manifest
 * in the cache, persist, and return the summary. Never throws for a cache
 * fault (the cache fails open). Apart from that daily sweep, costs O(the
 * build's documents) whatever the cache holds: the summary takes the cache's
 * counters, never `inspect()` (a pass over a store every build may share).
 */
export async function finishBuild(cache: Cache, stats: BuildStats, tool: string): Promise<RunSummary> {
  const records = buildRecords(cache)
  // Every entry this build used was just read or written, so none of them looks idle to the sweep.
  const swept = await sweepIfDue(cache, records, sweepKey(), [RECORDS_KEY_PREFIX])
  const info = cache.counters()
  const last = countersAtLastFinish.get(cache) ?? { errors: 0, bytesWritten: 0 }
  const bytesWritten = info.bytesWritten
  countersAtLastFinish.set(cache, { errors: info.errors, bytesWritten })
  const keyPrefix = cache.keyPrefix.hex
  const uncacheable = [...stats.uncacheable.values()].reduce((a, b) => a + b, 0)
  const profile = hitProfile(stats)
  const summary: RunSummary = {
    tool,
    startedAt: stats.startedAtDate.toISOString(),
    durationMs: performance.now() - stats.startedAt,
    documents: stats.documents,
    hits: stats.hits,
    misses: stats.misses,
    uncacheable,
    savedMs: stats.savedMs,
    bytesWritten: Math.max(0, bytesWritten - last.bytesWritten),
    errors: Math.max(0, info.errors - last.errors),
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
    ...(swept === undefined ? {} : { swept }),
    ...(profile === undefined ? {} : { profile }),
  }
  let digest: string | undefined
  if (stats.documentRecords.size > 0) {
    digest = documentsDigest(stats.documentRecords, keyPrefix)
    // A build that missed nothing, over the documents and keys of the stored manifest, keeps it (see the top).
    const kept =
      stats.misses === 0 &&
      (await records.get<string>(manifestDigestKey(tool))) === digest &&
      (await records.has(manifestKey(tool)))
    if (!kept) {
      // `previous` keeps the last manifest's records of the documents that missed: with no miss there are
      // none, and the last manifest need not be read.
      const previous = stats.misses === 0 ? undefined : previousRecords(manifestOf(await records.get(manifestKey(tool))), stats)
      const manifest: BuildManifest = {
        tool,
        startedAt: summary.startedAt,
        ...(keyPrefix === undefined ? {} : { keyPrefix }),
        documents: Object.fromEntries(stats.documentRecords),
        ...(previous === undefined ? {} : { previous }),
        digest,
      }
      await replace(records, manifestKey(tool), encodeManifest(manifest))
      await replace(records, manifestDigestKey(tool), digest)
    }
  }
  const runs = await readRuns(cache, tool)
  const run = digest === undefined ? summary : { ...summary, manifest: digest }
  await replace(records, runsKey(tool), [...runs, run].slice(-MAX_RUNS))
  const tools = await readTools(cache)
  if (!tools.includes(tool)) await replace(records, toolsKey(), [...tools, tool])
  await cache.persist()
  if (records !== cache) await records.persist()
  return run
}
