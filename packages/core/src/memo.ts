/**
 * `memo(cache, keyParts, compute)`: run an expensive step once per distinct
 * input, across builds.
 *
 * - In-process single flight: concurrent calls with one key share one `compute`.
 * - Dependencies: `ctx.dependOn(path)` records a file (and its content hash)
 *   that `compute` read beyond its key; a later lookup whose dependency
 *   changed is a miss, and the new result replaces the old entry.
 * - The entry keeps how long `compute` took, so a hit knows the time it saved.
 */
import { BadOptionError, UnserializableError } from "./errors.js"
import { FileHasher } from "./file-hasher.js"
import { BuildKey, Key, type KeyPart, key, keyOfKeys } from "./key.js"
import { type BuildStats, type DocumentRef, toUncacheable, type Uncacheable } from "./stats.js"
import type { Cache, PutOptions } from "./types.js"

/** What `memo` stores under a key. */
export interface MemoEntry<T = unknown> {
  /** The computed value. */
  readonly value: T
  /** Dependencies beyond the key: project-relative path → content hash (`null`: the file did not exist). */
  readonly deps?: Readonly<Record<string, string | null>>
  /** How long `compute` took, in ms. */
  readonly ms: number
}

export interface MemoContext {
  /** The key of this computation. */
  readonly key: Key
  /** Record a file read by `compute`: a change to it makes this entry a miss. */
  dependOn(path: string): void
  /** Do not store this result (e.g. it has side effects the cache cannot replay); the reason is counted. */
  uncacheable(reason: string | Uncacheable): void
  /**
   * What a hit will save, in ms, when `compute` does more than the work a hit
   * skips (an adapter preparing the value for the cache, say). Default: the
   * time `compute` took.
   */
  took(ms: number): void
}

export interface MemoOptions extends PutOptions {
  /** File hashes for dependencies. Default: one shared `FileHasher` per project root (cwd). */
  readonly files?: FileHasher
  /** Counts hits, misses and time saved for the build summary. */
  readonly stats?: BuildStats
  /** The document this computation belongs to (a project-relative path, or its fields), for the build manifest and `explain`. */
  readonly document?: string | DocumentRef
  /**
   * The step cannot be cached at all (a part of its key cannot be
   * fingerprinted soundly, say): `compute` runs, nothing is looked up or
   * stored, and the reason is counted and recorded with the document.
   */
  readonly uncacheable?: Uncacheable
  /**
   * Why a stored value cannot be used, or `undefined` when it can. Whoever can
   * write the cache chooses what it returns, so an adapter that puts a stored
   * value back into live objects checks its shape here first. A refused value
   * is a miss with one warning: `compute` runs and its result replaces the entry.
   */
  readonly validate?: (value: unknown) => string | undefined
  /** Where warnings go (an entry that cannot be used). Default: `process.emitWarning`. */
  readonly onWarning?: (message: string, cause: unknown) => void
}

export interface MemoResult<T> {
  readonly value: T
  readonly key: Key
  readonly hit: boolean
  /** On a hit: how long `compute` took when it ran. */
  readonly savedMs: number
  /** Project-relative paths of the recorded dependencies. */
  readonly deps: readonly string[]
  /** Set when the result was not stored. */
  readonly uncacheable?: Uncacheable
  /** Named part hashes, when `parts` was a record. */
  readonly parts?: Readonly<Record<string, string>>
  /** Dependency hashes as stored with the entry. */
  readonly depHashes?: Readonly<Record<string, string | null>>
}

const defaultHashers = new Map<string, FileHasher>()

export function defaultFiles(): FileHasher {
  const root = process.cwd()
  let files = defaultHashers.get(root)
  if (files === undefined) {
    files = new FileHasher({ root })
    defaultHashers.set(root, files)
  }
  return files
}

const inFlight = new WeakMap<Cache, Map<string, Promise<MemoResult<unknown>>>>()

/** Warnings given per cache, so that a cache full of unusable entries warns once per reason. */
const warned = new WeakMap<Cache, Set<string>>()

export function warnOnce(cache: Cache, options: MemoOptions, fault: string): void {
  let given = warned.get(cache)
  if (given === undefined) {
    given = new Set()
    warned.set(cache, given)
  }
  if (given.has(fault)) return
  given.add(fault)
  const message = `sitecache: ${cache.name}: an entry cannot be used (${fault}); it reads as a miss and is replaced`
  if (options.onWarning !== undefined) options.onWarning(message, undefined)
  else process.emitWarning(message, { type: "SitecacheWarning" })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Why a stored value is not a usable `MemoEntry` (nor one `validate` accepts), or `undefined`. */
export function entryFault(found: unknown, validate: MemoOptions["validate"]): string | undefined {
  if (!isRecord(found) || !Object.hasOwn(found, "value")) return "not a memo entry"
  const { ms, deps } = found
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) return "`ms` is not a duration"
  if (deps !== undefined) {
    if (!isRecord(deps)) return "`deps` is not a record"
    for (const path of Object.keys(deps)) {
      const hash = deps[path]
      if (path === "" || (hash !== null && typeof hash !== "string")) return "`deps` holds something else than file hashes"
    }
  }
  return validate?.(found.value)
}

/**
 * The key `memoize` looks `parts` up under, and (for a record of named parts)
 * the part hashes it records for `sitecache explain`: a build key's own parts
 * by name, every other part's key as hex. Each named part's key is framed as
 * its 16 bytes, so a document costs the hash of its content and its path, and
 * one small hash over the three keys.
 */
export function memoKey(parts: KeyPart | readonly KeyPart[]): { key: Key; parts?: Record<string, string> } {
  if (Array.isArray(parts)) return { key: key(...(parts as KeyPart[])) }
  if (parts !== null && typeof parts === "object" && Object.getPrototypeOf(parts) === Object.prototype) {
    const record = parts as Record<string, KeyPart>
    const names: string[] = []
    for (const name of Object.keys(record)) if (record[name] !== undefined) names.push(name)
    names.sort()
    const keys: Key[] = []
    let builds: BuildKey[] | undefined
    for (const name of names) {
      const part = record[name]
      if (part instanceof BuildKey) {
        keys.push(part.key)
        ;(builds ??= []).push(part)
      } else {
        // A `Key` part is already a hash (a fingerprint computed once per build): it is its own part hash.
        keys.push(part instanceof Key ? part : key(part))
      }
    }
    // The record: a build key's own parts by name (for `explain`), then each other part's hash.
    const named: Record<string, string> = {}
    if (builds !== undefined) for (const build of builds) build.copyHashesInto(named)
    for (let i = 0; i < names.length; i++) {
      if (!(record[names[i] as string] instanceof BuildKey)) named[names[i] as string] = (keys[i] as Key).hex
    }
    return { key: keyOfKeys(names, keys), parts: named }
  }
  return { key: key(parts as KeyPart) }
}

/**
 * Memoize `compute` in `cache` under the key of `parts`, with details of the lookup.
 *
 * `parts` is a list (hashed in order) or a record of named parts: with a
 * record, the entry keeps each part's hash so `sitecache explain` can tell
 * which one changed. A part that is a `Key` counts as its own hash (pass
 * fingerprints computed once per build as keys, and they cost nothing per call).
 */
export async function memoize<T>(
  cache: Cache,
  parts: KeyPart | readonly KeyPart[],
  compute: (context: MemoContext) => T | Promise<T>,
  options: MemoOptions = {},
): Promise<MemoResult<T>> {
  const keyStarted = performance.now()
  const { key: entryKey, parts: named } = memoKey(parts)
  const keyMs = performance.now() - keyStarted
  if (options.uncacheable !== undefined) {
    // Nothing to share or look up: the key cannot be trusted to say two computations are the same.
    const started = performance.now()
    const result = await computeUncached(entryKey, named, compute, options.uncacheable, options.files ?? defaultFiles())
    options.stats?.record(result, performance.now() - started, options.document)
    return result
  }
  let flights = inFlight.get(cache)
  if (flights === undefined) {
    flights = new Map()
    inFlight.set(cache, flights)
  }
  const prefix = cache.keyPrefix.hex
  const flightKey = prefix + entryKey.hex
  const running = flights.get(flightKey) as Promise<MemoResult<T>> | undefined
  if (running !== undefined) {
    const shared = await running
    options.stats?.record({ ...shared, hit: true, savedMs: shared.hit ? shared.savedMs : 0 }, 0, options.document)
    return shared
  }
  const started = performance.now()
  const timing = { readMs: 0, depsMs: 0 }
  const flight = lookupOrCompute(cache, entryKey, named, compute, options, timing)
  flights.set(flightKey, flight as Promise<MemoResult<unknown>>)
  try {
    const result = await flight
    options.stats?.record(result, performance.now() - started, options.document)
    if (result.hit) options.stats?.timeHit({ keyMs, ...timing })
    return result
  } finally {
    flights.delete(flightKey)
  }
}

/**
 * Memoize `compute` in `cache` under the key of `parts`.
 *
 * @example
 * const html = await memo(cache, [source, options], async (ctx) => {
 *   ctx.dependOn("content/_includes/footer.md")
 *   return render(source)
 * })
 */
export async function memo<T>(
  cache: Cache,
  parts: KeyPart | readonly KeyPart[],
  compute: (context: MemoContext) => T | Promise<T>,
  options?: MemoOptions,
): Promise<T> {
  return (await memoize(cache, parts, compute, options)).value
}

async function lookupOrCompute<T>(
  cache: Cache,
  entryKey: Key,
  named: Record<string, string> | undefined,
  compute: (context: MemoContext) => T | Promise<T>,
  options: MemoOptions,
  timing: { readMs: number; depsMs: number },
): Promise<MemoResult<T>> {
  const files = options.files ?? defaultFiles()
  let phase = performance.now()
  const stored = await cache.get<unknown>(entryKey)
  timing.readMs = performance.now() - phase
  const fault = stored === undefined ? undefined : entryFault(stored, options.validate)
  if (fault !== undefined) warnOnce(cache, options, fault)
  const found = fault === undefined ? (stored as MemoEntry<T> | undefined) : undefined
  phase = performance.now()
  const unchanged = found !== undefined && (knownDepsUnchanged(found.deps, files) ?? (await depsUnchanged(found.deps, files)))
  timing.depsMs = performance.now() - phase
  if (found !== undefined && unchanged) {
    return {
      value: found.value,
      key: entryKey,
      hit: true,
      savedMs: found.ms,
      deps: Object.keys(found.deps ?? {}),
      ...(named ? { parts: named } : {}),
      ...(found.deps ? { depHashes: found.deps } : {}),
    }
  }
  const { context, deps, uncacheable, took } = computeContext(entryKey, files)
  const started = performance.now()
  const value = await compute(context)
  const ms = took() ?? performance.now() - started
  const result = { value, key: entryKey, hit: false, savedMs: 0, deps: [...deps], ...(named ? { parts: named } : {}) }
  const refused = uncacheable()
  if (refused !== undefined) return { ...result, uncacheable: refused }
  const depHashes: Record<string, string | null> = {}
  for (const path of deps) depHashes[path] = await files.hash(path)
  if (deps.size > 0) Object.assign(result, { depHashes })
  // The part hashes go to the build manifest (through `stats.record`), where `sitecache explain` reads them;
  // the entry itself does not repeat them: every hit would decode them again for nothing.
  const entry: MemoEntry<T> = { value, ms, ...(deps.size > 0 ? { deps: depHashes } : {}) }
  // A stale or unusable entry is replaced: put is put-if-absent.
  if (stored !== undefined) await cache.delete(entryKey)
  try {
    await cache.put(entryKey, entry, options.ttl === undefined ? undefined : { ttl: options.ttl })
  } catch (error) {
    // A value the cache cannot store is computed again next time, and counted: it never fails the build.
    if (error instanceof UnserializableError) return { ...result, uncacheable: { reason: error.reason } }
    throw error
  }
  return result
}

/** The context `compute` runs in, and what it was told. */
export function computeContext(
  entryKey: Key,
  files: FileHasher,
): { context: MemoContext; deps: Set<string>; uncacheable: () => Uncacheable | undefined; took: () => number | undefined } {
  const deps = new Set<string>()
  let uncacheable: Uncacheable | undefined
  let took: number | undefined
  const context: MemoContext = {
    key: entryKey,
    dependOn(path) {
      deps.add(files.relative(path))
    },
    uncacheable(reason) {
      uncacheable ??= toUncacheable(reason)
    },
    took(ms) {
      if (!(typeof ms === "number" && Number.isFinite(ms) && ms >= 0))
        throw new BadOptionError("took", `expected a finite number of ms ≥ 0, got ${String(ms)}`)
      took = ms
    },
  }
  return { context, deps, uncacheable: () => uncacheable, took: () => took }
}

/** Run `compute` for a step that cannot be cached: no lookup, no entry. */
async function computeUncached<T>(
  entryKey: Key,
  named: Record<string, string> | undefined,
  compute: (context: MemoContext) => T | Promise<T>,
  uncacheable: Uncacheable,
  files: FileHasher,
): Promise<MemoResult<T>> {
  const { context, deps } = computeContext(entryKey, files)
  const value = await compute(context)
  return { value, key: entryKey, hit: false, savedMs: 0, deps: [...deps], uncacheable, ...(named ? { parts: named } : {}) }
}

/**
 * `depsUnchanged` without waiting, when the hasher knows every dependency's
 * current hash (or one of those it knows differs); `undefined` when a file
 * must be looked at.
 */
function knownDepsUnchanged(deps: MemoEntry["deps"], files: FileHasher): boolean | undefined {
  if (deps === undefined) return true
  let complete = true
  for (const path of Object.keys(deps)) {
    const hash = files.knownHash(path)
    if (hash === undefined) complete = false
    else if (hash !== deps[path]) return false
  }
  return complete ? true : undefined
}

/** Whether every recorded dependency still has its hash; one that cannot be read any more has changed. */
export async function depsUnchanged(deps: MemoEntry["deps"], files: FileHasher): Promise<boolean> {
  if (deps === undefined) return true
  for (const path of Object.keys(deps)) {
    try {
      if ((await files.hash(path)) !== deps[path]) return false
    } catch {
      return false
    }
  }
  return true
}
