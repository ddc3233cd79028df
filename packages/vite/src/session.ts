/**
 * The cache's life across one build: opened at the first `buildStart`,
 * recorded, reported and closed at the last `closeBundle` (several
 * environments may build at once).
 */
import { resolve } from "node:path"
import {
  BadOptionError,
  BuildStats,
  type Cache,
  createCache,
  FileHasher,
  finishBuild,
  normalizeCacheConfig,
  type RunSummary,
  resolveCacheConfig,
} from "@sitecache/core"
import { BusyTime } from "./busy.js"
import type { CacheTransformsOptions } from "./cache-transforms.js"
import { createIdFilter } from "./filter.js"

/** Which hooks `cacheTransforms` can wrap. */
export const CACHEABLE_HOOKS = ["transform", "load"] as const
export type CacheableHook = (typeof CACHEABLE_HOOKS)[number]

export interface Session {
  readonly cache: Cache
  readonly owned: boolean
  readonly stats: BuildStats
  readonly files: FileHasher
  /** Wall time inside wrapped hooks (overlapping calls once). */
  readonly transformTime: BusyTime
  /** Entries read this build that were not valid results (damaged or forged), each replaced. */
  rejected: number
}

/** The cache's life across one build (several environments may build at once). */
export class BuildSession {
  readonly options: CacheTransformsOptions
  readonly filter: (relativePath: string, id: string) => boolean
  /** The hooks to wrap (`hooks` option, checked). */
  readonly hooks: ReadonlySet<CacheableHook>
  root: string
  mode: string | undefined
  log: (line: string) => void
  /** Where cache faults are reported: Vite's logger, else `console.warn` (never silenced by `log: false`). */
  warn: (line: string) => void = (line) => console.warn(line)
  #active = 0
  #opening: Promise<Session | null> | undefined
  #session: Session | null = null
  #files: FileHasher | undefined

  constructor(options: CacheTransformsOptions) {
    this.options = options
    this.filter = createIdFilter(options.include, options.exclude)
    this.root = resolve(options.root ?? process.cwd())
    // A configuration mistake (unknown option, bad value) throws now, naming the option.
    normalizeCacheConfig({ root: this.root, ...options.cacheConfig })
    if (options.version !== undefined && typeof options.version !== "string" && typeof options.version !== "number")
      throw new BadOptionError("version", "expected a string or a number")
    const hooks = options.hooks ?? ["transform"]
    if (
      !Array.isArray(hooks) ||
      hooks.length === 0 ||
      hooks.some((hook) => !(CACHEABLE_HOOKS as readonly unknown[]).includes(hook))
    )
      throw new BadOptionError("hooks", `expected a non-empty list of ${CACHEABLE_HOOKS.map((h) => `"${h}"`).join(", ")}`)
    this.hooks = new Set(hooks)
    this.log = options.log === false ? () => {} : (options.log ?? ((line) => console.log(line)))
  }

  /** The open session, or `null` when the cache is off or no build started. */
  get current(): Session | null {
    return this.#session
  }

  async start(): Promise<void> {
    this.#active++
    if (this.#active === 1) this.#opening = this.#open()
    this.#session = await this.#opening!
  }

  async #open(): Promise<Session | null> {
    const env = this.options.env ?? process.env
    const argv = this.options.argv ?? process.argv.slice(2)
    const config = resolveCacheConfig({ config: { root: this.root, ...this.options.cacheConfig }, env, argv })
    if (config.mode === "off") return null
    const owned = this.options.cache === undefined
    const cache = this.options.cache ?? (await createCache(config))
    if (this.#files === undefined || this.#files.root !== this.root) this.#files = new FileHasher({ root: this.root })
    else this.#files.refresh()
    return { cache, owned, stats: new BuildStats(), files: this.#files, transformTime: new BusyTime(), rejected: 0 }
  }

  /** An entry for `document` that is not a valid result: counted, and reported once per build. */
  reject(document: string, why: string): void {
    const session = this.#session
    if (session === null) return
    if (session.rejected++ === 0)
      this.warn(`sitecache: ignored a cache entry of ${document} that is not a valid result (${why}); it is rebuilt and replaced`)
  }

  async finish(): Promise<void> {
    if (this.#active === 0) return
    this.#active--
    if (this.#active > 0) return
    const session = this.#session
    this.#session = null
    this.#opening = undefined
    if (session === null) {
      const line = "sitecache: off (no cache read or written)"
      this.log(line)
      await this.options.onBuildEnd?.({
        enabled: false,
        line,
        hits: 0,
        misses: 0,
        uncacheable: {},
        savedMs: 0,
        transformMs: 0,
        rejected: 0,
        stats: new BuildStats(),
      })
      return
    }
    const { cache, stats } = session
    let run: RunSummary | undefined
    try {
      run = await finishBuild(cache, stats, "vite")
    } finally {
      if (session.owned) await cache.close()
    }
    const line = stats.summary()
    this.log(line)
    await this.options.onBuildEnd?.({
      enabled: true,
      line,
      hits: stats.hits,
      misses: stats.misses,
      uncacheable: Object.fromEntries(stats.uncacheable),
      savedMs: stats.savedMs,
      transformMs: session.transformTime.ms,
      rejected: session.rejected,
      stats,
      run,
    })
  }
}
