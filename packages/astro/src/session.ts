/**
 * The cache's life across one Astro build (or one `astro dev` server): opened
 * once when the build starts, shared by every Vite build Astro runs inside it
 * (the server build, the client build, the content layer's), recorded and
 * closed when it ends.
 */
import {
  BuildStats,
  type Cache,
  type CacheConfig,
  createCache,
  FileHasher,
  finishBuild,
  prefetchFromManifest,
  type RunSummary,
  resolveCacheConfig,
} from "@sitecache/core"

/** The name of Astro builds in the cache's build records (`sitecache inspect`, `explain`). */
export const TOOL = "astro"

/**
 * Wall time during which at least one of possibly overlapping async calls was
 * running: Vite loads and transforms many modules at once, and the sum of
 * their durations would count each other's waiting.
 */
export class BusyTime {
  #active = 0
  #since = 0
  #total = 0

  enter(): void {
    if (this.#active++ === 0) this.#since = performance.now()
  }

  leave(): void {
    if (this.#active === 0) return
    if (--this.#active === 0) this.#total += performance.now() - this.#since
  }

  get ms(): number {
    return this.#total + (this.#active > 0 ? performance.now() - this.#since : 0)
  }
}

/**
 * Each running step's share of the wall time: while n steps run at once, each
 * is charged 1/n of the time. Vite starts every page's render together, so a
 * render's own wall time is mostly waiting for the others; its share is what
 * a hit saves.
 */
export class FairShare {
  readonly #running = new Set<{ ms: number }>()
  #last = 0

  #tick(): void {
    const now = performance.now()
    if (this.#running.size > 0) {
      const each = (now - this.#last) / this.#running.size
      for (const step of this.#running) step.ms += each
    }
    this.#last = now
  }

  start(): { ms: number } {
    this.#tick()
    const step = { ms: 0 }
    this.#running.add(step)
    return step
  }

  /** The step's share, in ms. */
  stop(step: { ms: number }): number {
    this.#tick()
    this.#running.delete(step)
    return step.ms
  }
}

/** An open session: what a wrapped step needs. */
export interface OpenSession {
  readonly cache: Cache
  readonly stats: BuildStats
  readonly files: FileHasher
  /** Wall time inside wrapped steps (lookups included). */
  readonly busy: BusyTime
  /** Shares of the wall time of the steps that ran (what a hit will save). */
  readonly shares: FairShare
  /** Entries read that were not valid results (damaged or forged), each rebuilt and replaced. */
  rejected: number
}

export interface SessionOptions {
  readonly root: string
  readonly config: CacheConfig
  readonly cache: Cache | undefined
  readonly env: Readonly<Record<string, string | undefined>>
  readonly argv: readonly string[]
}

/** What `finish` reports. */
export interface SessionEnd {
  readonly enabled: boolean
  readonly line: string
  /** Wall time inside the steps the integration caches (lookups included when on). */
  readonly stepMs: number
  readonly open?: OpenSession
  readonly run?: RunSummary
}

export class Session {
  #options: SessionOptions
  #open: OpenSession | null = null
  #opening: Promise<OpenSession | null> | undefined
  #owned = false
  #files: FileHasher | undefined
  #offTime: BusyTime | null = null

  constructor(options: SessionOptions) {
    this.#options = options
  }

  /** The open session, or `null` when the cache is off or no build is running. */
  /** While a build runs with the cache off: the wall time of the steps it would cache. */
  get offTime(): BusyTime | null {
    return this.#offTime
  }

  get current(): OpenSession | null {
    return this.#open
  }

  /** Open the cache (once, until `finish`). */
  async start(): Promise<void> {
    this.#opening ??= this.#start()
    this.#open = await this.#opening
  }

  async #start(): Promise<OpenSession | null> {
    const { root, env, argv } = this.#options
    const config = resolveCacheConfig({ config: { root, ...this.#options.config }, env, argv })
    if (config.mode === "off") {
      this.#offTime = new BusyTime()
      return null
    }
    this.#owned = this.#options.cache === undefined
    const cache = this.#options.cache ?? (await createCache(config))
    if (this.#files === undefined) this.#files = new FileHasher({ root })
    else this.#files.refresh()
    await prefetchFromManifest(cache, TOOL)
    return { cache, stats: new BuildStats(), files: this.#files, busy: new BusyTime(), shares: new FairShare(), rejected: 0 }
  }

  /** Record the build, close the cache if the session opened it, and say what the build did. */
  async finish(): Promise<SessionEnd> {
    if (this.#opening === undefined) return { enabled: false, line: "sitecache: no build ran", stepMs: 0 }
    const open = await this.#opening
    this.#opening = undefined
    this.#open = null
    if (open === null) {
      const ms = this.#offTime?.ms ?? 0
      this.#offTime = null
      return {
        enabled: false,
        line: `sitecache: off (no cache read or written; ${Math.round(ms)} ms in the steps it caches)`,
        stepMs: ms,
      }
    }
    let run: RunSummary | undefined
    try {
      run = await finishBuild(open.cache, open.stats, TOOL)
    } finally {
      if (this.#owned) await open.cache.close()
    }
    const inside = `${Math.round(open.busy.ms)} ms in cached steps`
    const rejected = open.rejected > 0 ? `, ${open.rejected} unusable entries replaced` : ""
    return { enabled: true, line: `${open.stats.summary()} (${inside}${rejected})`, stepMs: open.busy.ms, open, run }
  }
}
