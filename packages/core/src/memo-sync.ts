/**
 * The synchronous memo path, for hosts whose render must answer at once
 * (Eleventy calls the markdown library's `render` synchronously).
 *
 * A `Preloaded` set of entries is read in one batch when a build starts (the
 * keys the last build's manifest recorded, and those this process read or
 * wrote in an earlier build of a watch session), and each one's dependencies
 * are checked then. A lookup during the build is then a map read: a hit
 * serves the entry, a miss runs `compute` and keeps the result, which is
 * written with the other misses, in one batch, when the build finishes.
 */
import { UnserializableError } from "./errors.js"
import type { FileHasher } from "./file-hasher.js"
import { Key, type KeyPart } from "./key.js"
import {
  computeContext,
  depsUnchanged,
  entryFault,
  type MemoContext,
  type MemoEntry,
  type MemoOptions,
  type MemoResult,
  memoKey,
  warnOnce,
} from "./memo.js"
import { type BuildStats, type DocumentRef, documentId, type Uncacheable } from "./stats.js"
import type { Cache } from "./types.js"

/** The options of a synchronous lookup: those of `memoize` that need no waiting. */
export type MemoSyncOptions = Pick<MemoOptions, "document" | "uncacheable" | "validate" | "onWarning">

interface Pending {
  readonly key: Key
  readonly entry: MemoEntry
  readonly deps: readonly string[]
  /** An entry is stored under this key that must be replaced (its dependencies changed, or it could not be used). */
  readonly replace: boolean
  readonly document: string | DocumentRef | undefined
}

/** Entries read before a build, served synchronously during it, and the misses it will write. */
export class Preloaded {
  readonly #cache: Cache
  readonly #files: FileHasher
  readonly #stats: BuildStats
  /** Entries whose dependencies were unchanged when the build started, by hex key. */
  readonly #ready: Map<string, MemoEntry>
  /** Keys whose stored entry is stale or unusable. */
  readonly #stale: Set<string>
  readonly #pending = new Map<string, Pending>()
  /** How many entries were read from the cache (the others were known from an earlier build of this process). */
  readonly read: number

  private constructor(
    cache: Cache,
    files: FileHasher,
    stats: BuildStats,
    ready: Map<string, MemoEntry>,
    stale: Set<string>,
    read: number,
  ) {
    this.#cache = cache
    this.#files = files
    this.#stats = stats
    this.#ready = ready
    this.#stale = stale
    this.read = read
  }

  /**
   * Read the entries of `hexKeys` not in `known` in one batch, and check every
   * candidate's dependencies. Never throws for a cache fault (the cache fails open).
   */
  static async load(
    cache: Cache,
    files: FileHasher,
    stats: BuildStats,
    hexKeys: Iterable<string>,
    known: ReadonlyMap<string, MemoEntry> = new Map(),
  ): Promise<Preloaded> {
    const missing = [...new Set(hexKeys)].filter((hex) => !known.has(hex))
    const read = missing.length === 0 ? [] : await cache.getMany(missing.map((hex) => Key.fromHex(hex)))
    const candidates = new Map(known)
    const stale = new Set<string>()
    let found = 0
    missing.forEach((hex, i) => {
      const entry = read[i]
      if (entry === undefined) return
      found++
      if (entryFault(entry, undefined) === undefined) candidates.set(hex, entry as MemoEntry)
      else stale.add(hex)
    })
    const ready = new Map<string, MemoEntry>()
    for (const [hex, entry] of candidates) {
      if (await depsUnchanged(entry.deps, files)) ready.set(hex, entry)
      else stale.add(hex)
    }
    return new Preloaded(cache, files, stats, ready, stale, found)
  }

  /** How many entries are ready to be served. */
  get size(): number {
    return this.#ready.size
  }

  /**
   * `memoize`, synchronously: a hit when the entry was preloaded (or computed
   * earlier in this build), else `compute` runs and its result is written
   * when the build finishes (`flush`). Counted in the build's stats.
   */
  memoizeSync<T>(
    parts: KeyPart | readonly KeyPart[],
    compute: (context: MemoContext) => T,
    options: MemoSyncOptions = {},
  ): MemoResult<T> {
    const { key: entryKey, parts: named } = memoKey(parts)
    const hex = entryKey.hex
    const base = { key: entryKey, ...(named ? { parts: named } : {}) }
    const started = performance.now()
    if (options.uncacheable !== undefined) {
      const { context, deps } = computeContext(entryKey, this.#files)
      const value = compute(context)
      const result: MemoResult<T> = { ...base, value, hit: false, savedMs: 0, deps: [...deps], uncacheable: options.uncacheable }
      this.#stats.record(result, performance.now() - started, options.document)
      return result
    }
    const found = this.#ready.get(hex) ?? this.#pending.get(hex)?.entry
    const fault = found === undefined ? undefined : options.validate?.(found.value)
    if (found !== undefined && fault === undefined) {
      const result: MemoResult<T> = {
        ...base,
        value: found.value as T,
        hit: true,
        savedMs: found.ms,
        deps: Object.keys(found.deps ?? {}),
        ...(found.deps ? { depHashes: found.deps } : {}),
      }
      this.#stats.record(result, 0, options.document)
      return result
    }
    if (fault !== undefined) {
      warnOnce(this.#cache, options, fault)
      this.#ready.delete(hex)
      this.#stale.add(hex)
    }
    const { context, deps, uncacheable, took } = computeContext(entryKey, this.#files)
    const value = compute(context)
    const ms = took() ?? performance.now() - started
    const refused: Uncacheable | undefined = uncacheable()
    const result: MemoResult<T> = {
      ...base,
      value,
      hit: false,
      savedMs: 0,
      deps: [...deps],
      ...(refused === undefined ? {} : { uncacheable: refused }),
    }
    if (refused === undefined)
      this.#pending.set(hex, {
        key: entryKey,
        entry: { value, ms },
        deps: [...deps],
        replace: this.#stale.has(hex),
        document: options.document,
      })
    this.#stats.record(result, ms, options.document)
    return result
  }

  /**
   * Write this build's misses (their dependencies hashed now) in one batch,
   * replacing stale entries; returns every entry this build served or wrote,
   * by hex key, for the next build of a long-lived process.
   */
  async flush(): Promise<Map<string, MemoEntry>> {
    const writes: [Key, MemoEntry][] = []
    const replaced: Key[] = []
    const known = new Map(this.#ready)
    for (const [hex, pending] of this.#pending) {
      let entry = pending.entry
      if (pending.deps.length > 0) {
        const deps: Record<string, string | null> = {}
        for (const path of pending.deps) deps[path] = await this.#files.hash(path)
        entry = { ...entry, deps }
        const id = pending.document === undefined ? undefined : documentId(pending.document)
        const record = id === undefined ? undefined : this.#stats.documentRecords.get(id)
        if (record !== undefined && record.key === hex) this.#stats.documentRecords.set(id as string, { ...record, deps })
      }
      // An entry may exist under a key no manifest named (another build wrote it): replace, as put never overwrites.
      if (pending.replace || pending.deps.length > 0) replaced.push(pending.key)
      writes.push([pending.key, entry])
      known.set(hex, entry)
    }
    this.#pending.clear()
    if (replaced.length > 0) await this.#cache.deleteMany(replaced)
    if (writes.length > 0) await this.#putAll(writes, known)
    return known
  }

  /** `putMany`; when one value cannot be stored, each is put alone and the ones refused are counted. */
  async #putAll(writes: readonly [Key, MemoEntry][], known: Map<string, MemoEntry>): Promise<void> {
    try {
      await this.#cache.putMany(writes)
      return
    } catch (error) {
      if (!(error instanceof UnserializableError)) throw error
    }
    for (const [entryKey, entry] of writes) {
      try {
        await this.#cache.put(entryKey, entry)
      } catch (error) {
        if (!(error instanceof UnserializableError)) throw error
        known.delete(entryKey.hex)
        this.#stats.countUncacheable({ reason: error.reason })
      }
    }
  }
}
