/**
 * The build session: the life of the cache across an adapter's builds, the
 * part every adapter (and any site generator of your own) would otherwise
 * write again.
 *
 * - `new BuildSession({ tool, config, ... })` checks the configuration at
 *   once: a typo throws `BadOptionError` naming the option.
 * - `start()` resolves the configuration (config, then `SITECACHE=…`, then
 *   `--no-cache`/`--cache=…`, see `resolveCacheConfig`), opens the cache (or
 *   uses the one given), refreshes the file hasher, warms the faster tiers
 *   from the last build's manifest and, with `preload`, reads the last build's
 *   entries for synchronous lookups. Mode `"off"` gives the null cache.
 * - During the build, `build.memoize(parts, compute, options)` (or
 *   `build.memoizeSync` after a preload) looks up and records each document.
 * - `finish()` writes the synchronous path's misses, records the build (run
 *   history, manifest, the daily sweep: see runs.ts), closes the cache when
 *   the session opened it, and prints the one summary line through `log`.
 *
 * Several starts may overlap (Vite builds its environments at once): the
 * first opens, the last `finish` records and closes.
 */
import { resolve } from "node:path"
import { type CacheConfig, type CreateCacheOptions, createCache, normalizeCacheConfig } from "./config.js"
import { BadOptionError } from "./errors.js"
import { FileHasher, type Recheck } from "./file-hasher.js"
import { resolveCacheConfig } from "./flags.js"
import { formatBytes, formatMs } from "./format.js"
import type { KeyPart } from "./key.js"
import { type MemoContext, type MemoEntry, type MemoOptions, type MemoResult, memoize } from "./memo.js"
import { type MemoSyncOptions, Preloaded } from "./memo-sync.js"
import { createNullCache } from "./memory.js"
import { manifestKeys } from "./prefetch.js"
import { type BuildManifest, finishBuild, type RunSummary, readManifest } from "./runs.js"
import { BuildStats, type DocumentRef, documentId } from "./stats.js"
import type { Cache } from "./types.js"

export interface BuildSessionOptions {
  /** The name the builds are recorded under (`sitecache inspect`, `sitecache explain --tool`): `"vite"`, `"blog"`. */
  readonly tool: string
  /** Project root: the default cache directory and project-relative paths. Default `process.cwd()`. */
  readonly root?: string
  /** An open cache to use (never closed by the session). Default: one opened from `config` at each `start`. */
  readonly cache?: Cache
  /** The cache's configuration (a config file's, an adapter's options). Default `{}`. */
  readonly config?: CacheConfig
  /** Environment over `config` (`SITECACHE=off`, `SITECACHE_BACKEND`, …). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Command line over both (`--no-cache`, `--cache=read`, …). Default `process.argv.slice(2)`. */
  readonly argv?: readonly string[]
  /** How `createCache` opens the cache (`resolveFrom: import.meta.url` to find backend packages from the adapter). */
  readonly open?: CreateCacheOptions
  /** File hashes for dependencies (one per session by default, refreshed at each start). */
  readonly files?: FileHasher
  /** `recheck` of the session's own `FileHasher`. Default `"every-lookup"`. */
  readonly recheck?: Recheck
  /** Where the summary line goes: `false` for nowhere. Default `console.log`. */
  readonly log?: false | ((line: string) => void)
  /** Where warnings go (entries that cannot be used, cache faults). Default: the cache's own (`process.emitWarning`). */
  readonly warn?: (line: string) => void
  /** First word of the summary line. Default `"sitecache"`. */
  readonly label?: string
  /** Read the last build's entries at `start`, for `build.memoizeSync`. Default `false`. */
  readonly preload?: boolean
  /** Keep an opened cache open between builds (watch mode, a dev server) until `close()`. Default `false`. */
  readonly keepOpen?: boolean
}

/** What `finish` reports of a build. */
export interface BuildReport {
  /** `false` when the cache was off (`SITECACHE=off`, `--no-cache`, `mode: "off"`). */
  readonly enabled: boolean
  /** The summary line (printed through `log`). */
  readonly line: string
  readonly stats: BuildStats
  /** Entries the faster tiers were warmed with at `start`. */
  readonly prefetched: number
  /** Entries read at `start` for synchronous lookups. */
  readonly preloaded: number
  /** Entries met that were not valid results (see `Build.reject`). */
  readonly rejected: number
  /** The run recorded in the cache (absent when off). */
  readonly run?: RunSummary
}

/** Options of `finish`. */
export interface FinishOptions {
  /** Bytes the build wrote, for the summary line. */
  readonly bytes?: number
  /** The build's time, for the summary line. Default: since `start`. */
  readonly elapsedMs?: number
  /**
   * The build rendered only what changed (a watch rebuild): the last
   * manifest's records of the documents it did not see are kept, so the next
   * process still finds them.
   */
  readonly incremental?: boolean
  /** With `incremental`: documents gone since the last build (their source removed), not kept. */
  readonly removed?: readonly (string | DocumentRef)[]
}

interface BuildInit {
  readonly cache: Cache
  readonly enabled: boolean
  readonly files: FileHasher
  readonly stats: BuildStats
  readonly previous: BuildManifest | undefined
  readonly prefetched: number
  readonly preloaded: Preloaded | undefined
}

function summaryOptions(options: FinishOptions): { bytes?: number; elapsedMs?: number } {
  return {
    ...(options.bytes === undefined ? {} : { bytes: options.bytes }),
    ...(options.elapsedMs === undefined ? {} : { elapsedMs: options.elapsedMs }),
  }
}

/** One build of a session. */
export class Build {
  /** `false` when the cache is off: `cache` is then the null cache and nothing is recorded. */
  readonly enabled: boolean
  readonly cache: Cache
  readonly stats: BuildStats
  readonly files: FileHasher
  /** The last build's manifest, when `start` read it (a preload, or a tiered cache to warm). */
  readonly previous: BuildManifest | undefined
  /** Entries the faster tiers were warmed with. */
  readonly prefetched: number
  /** Entries that were not valid results, counted by `reject`. */
  rejected = 0
  readonly #session: BuildSession
  readonly #preloaded: Preloaded | undefined

  /** @internal Made by `BuildSession.start`. */
  constructor(session: BuildSession, init: BuildInit) {
    this.#session = session
    this.cache = init.cache
    this.enabled = init.enabled
    this.files = init.files
    this.stats = init.stats
    this.previous = init.previous
    this.prefetched = init.prefetched
    this.#preloaded = init.preloaded
  }

  /** Entries read at `start` for synchronous lookups. */
  get preloaded(): number {
    return this.#preloaded?.read ?? 0
  }

  /** `memoize` in this build's cache, counted in its stats, with its file hasher and the session's warnings. */
  memoize<T>(
    parts: KeyPart | readonly KeyPart[],
    compute: (context: MemoContext) => T | Promise<T>,
    options: Omit<MemoOptions, "stats" | "files"> = {},
  ): Promise<MemoResult<T>> {
    const warn = this.#session.warn
    return memoize(this.cache, parts, compute, {
      ...(warn === undefined ? {} : { onWarning: (message: string) => warn(message) }),
      ...options,
      stats: this.stats,
      files: this.files,
    })
  }

  /** `memo` in this build's cache: `memoize`'s value. */
  async memo<T>(
    parts: KeyPart | readonly KeyPart[],
    compute: (context: MemoContext) => T | Promise<T>,
    options: Omit<MemoOptions, "stats" | "files"> = {},
  ): Promise<T> {
    return (await this.memoize(parts, compute, options)).value
  }

  /**
   * `memoize`, synchronously, for a host whose render cannot wait (Eleventy's
   * markdown): served from the entries read at `start` (the session needs
   * `preload: true`); a miss runs `compute` at once and is written at `finish`.
   */
  memoizeSync<T>(
    parts: KeyPart | readonly KeyPart[],
    compute: (context: MemoContext) => T,
    options: MemoSyncOptions = {},
  ): MemoResult<T> {
    if (this.#preloaded === undefined)
      throw new BadOptionError("preload", "`memoizeSync` needs a session opened with `preload: true`")
    const warn = this.#session.warn
    return this.#preloaded.memoizeSync(parts, compute, {
      ...(warn === undefined ? {} : { onWarning: (message: string) => warn(message) }),
      ...options,
    })
  }

  /** An entry that is not a valid result (damaged, forged): counted, and warned about once per build. */
  reject(document: string, why: string): void {
    if (this.rejected++ > 0) return
    const message = `sitecache: ignored a cache entry of ${document} that is not a valid result (${why}); it is rebuilt and replaced`
    const warn = this.#session.warn
    if (warn === undefined) process.emitWarning(message, { type: "SitecacheWarning" })
    else warn(message)
  }

  /** @internal The synchronous path's misses, written by `finish`. */
  flushPreloaded(): Promise<Map<string, MemoEntry>> | undefined {
    return this.#preloaded?.flush()
  }
}

/** The cache's life across the builds of one adapter. */
export class BuildSession {
  readonly tool: string
  readonly options: BuildSessionOptions
  /** Project root; an adapter that learns it late (Vite's `configResolved`) sets it before `start`. */
  root: string
  /** Where the summary line goes. */
  log: (line: string) => void
  /** Where warnings go; `undefined`: the cache's own way (`process.emitWarning`). */
  warn: ((line: string) => void) | undefined
  #files: FileHasher | undefined
  #cache: Cache | undefined
  #active = 0
  #opening: Promise<Build> | undefined
  #build: Build | undefined
  /** Entries the synchronous path served or wrote, carried to the next build while the cache stays open. */
  #known = new Map<string, MemoEntry>()

  constructor(options: BuildSessionOptions) {
    if (typeof options?.tool !== "string" || options.tool === "")
      throw new BadOptionError("tool", 'expected the name builds are recorded under, e.g. `"vite"`')
    this.options = options
    this.tool = options.tool
    this.root = resolve(options.root ?? process.cwd())
    // A configuration mistake (unknown option, bad value) throws now, naming the option.
    normalizeCacheConfig({ root: this.root, ...options.config })
    const log = options.log
    if (log !== undefined && log !== false && typeof log !== "function")
      throw new BadOptionError("log", "expected a function `(line) => void` or `false`")
    this.log = log === false ? () => {} : (log ?? ((line) => console.log(line)))
    this.warn = options.warn
    this.#files = options.files
  }

  /** The build in progress, or `undefined` between builds. */
  get current(): Build | undefined {
    return this.#build
  }

  /** Start a build (or join the one in progress): open the cache, refresh the hasher, prefetch, preload. */
  async start(): Promise<Build> {
    this.#active++
    if (this.#active === 1) this.#opening = this.#open()
    try {
      this.#build = await (this.#opening as Promise<Build>)
    } catch (error) {
      this.#active--
      this.#opening = undefined
      throw error
    }
    return this.#build
  }

  async #open(): Promise<Build> {
    const files = this.#hasher()
    const { options } = this
    const config = resolveCacheConfig({
      config: { root: this.root, ...options.config },
      env: options.env ?? process.env,
      argv: options.argv ?? process.argv.slice(2),
    })
    const stats = new BuildStats()
    if (config.mode === "off") {
      const off = { cache: createNullCache(), enabled: false, previous: undefined, prefetched: 0, preloaded: undefined }
      return new Build(this, { ...off, files, stats })
    }
    const warn = this.warn
    this.#cache ??=
      options.cache ??
      (await createCache(config, {
        ...(warn === undefined ? {} : { onWarning: (message: string) => warn(message) }),
        ...options.open,
      }))
    const cache = this.#cache
    const previous = options.preload || cache.canPrefetch ? await readManifest(cache, this.tool) : undefined
    const keys = previous === undefined ? [] : manifestKeys(previous, cache)
    const prefetched = cache.canPrefetch && keys.length > 0 ? await cache.prefetch(keys) : 0
    const preloaded = options.preload
      ? await Preloaded.load(
          cache,
          files,
          stats,
          keys.map((key) => key.hex),
          this.#known,
        )
      : undefined
    return new Build(this, { cache, enabled: true, files, stats, previous, prefetched, preloaded })
  }

  #hasher(): FileHasher {
    if (this.#files === undefined || (this.options.files === undefined && this.#files.root !== this.root)) {
      this.#files = new FileHasher({ root: this.root, ...(this.options.recheck ? { recheck: this.options.recheck } : {}) })
    } else this.#files.refresh()
    return this.#files
  }

  /**
   * Finish the build: write what the synchronous path computed, record the
   * build, close the cache the session opened (unless `keepOpen`), print the
   * summary line. `undefined` while other starts of the same build are still
   * running (only the last one finishes it).
   */
  async finish(options: FinishOptions = {}): Promise<BuildReport | undefined> {
    if (this.#active === 0) return undefined
    this.#active--
    if (this.#active > 0) return undefined
    const build = this.#build
    this.#build = undefined
    this.#opening = undefined
    if (build === undefined) return undefined
    const label = this.options.label ?? "sitecache"
    const base = { stats: build.stats, prefetched: build.prefetched, preloaded: build.preloaded, rejected: build.rejected }
    if (!build.enabled) {
      const { stats } = build
      // A tool that went through the null cache knows how many documents it rendered: say it, and the time.
      const elapsed = options.elapsedMs ?? performance.now() - stats.startedAt
      const bytes = options.bytes === undefined ? "" : `, ${formatBytes(options.bytes)}`
      const line =
        stats.documents === 0
          ? `${label}: off (no cache read or written)`
          : `${label}: ${stats.documents} documents, cache off (nothing read or written)${bytes}, ${formatMs(elapsed)}`
      this.log(line)
      return { enabled: false, line, ...base }
    }
    const { cache, stats } = build
    let run: RunSummary | undefined
    try {
      const known = await build.flushPreloaded()
      if (known !== undefined) this.#known = known
      if (options.incremental) {
        const previous = build.previous ?? (await readManifest(cache, this.tool))
        const removed = new Set((options.removed ?? []).map(documentId))
        for (const [document, record] of Object.entries(previous?.documents ?? {}))
          if (!stats.documentRecords.has(document) && !removed.has(document)) stats.documentRecords.set(document, record)
      }
      run = await finishBuild(cache, stats, this.tool)
    } finally {
      if (!this.options.keepOpen) await this.close()
    }
    const line = stats.summary({ label, ...summaryOptions(options) })
    this.log(line)
    return { enabled: true, line, ...base, run }
  }

  /**
   * End the build in progress without recording it (it failed): every start
   * of it is over, and the cache the session opened is closed unless `keepOpen`.
   */
  async abort(): Promise<void> {
    if (this.#active === 0) return
    this.#active = 0
    this.#build = undefined
    this.#opening = undefined
    if (!this.options.keepOpen) await this.close()
  }

  /** Close the cache if the session opened it (a given cache is left open). Idempotent. */
  async close(): Promise<void> {
    const cache = this.#cache
    this.#cache = undefined
    this.#known = new Map()
    if (cache !== undefined && this.options.cache === undefined) await cache.close()
  }
}
