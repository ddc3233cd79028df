/**
 * The adapter's side of core's `BuildSession`: its options checked, the hooks
 * to wrap, the id filter, the time spent inside wrapped hooks, and the report
 * of each build. The cache's life (opened at the first `buildStart`, recorded,
 * reported and closed at the last `closeBundle`, several environments at
 * once) is core's.
 */
import { BadOptionError, type Build, BuildSession, BuildStats, BusyTime } from "@sitecache/core"
import type { CacheTransformsOptions, TransformCacheReport } from "./cache-transforms.js"
import { createIdFilter } from "./filter.js"

/** Which hooks `cacheTransforms` can wrap. */
export const CACHEABLE_HOOKS = ["transform", "load"] as const
export type CacheableHook = (typeof CACHEABLE_HOOKS)[number]

/** The tool name of this adapter's build records (`sitecache inspect`, `explain`). */
export const TOOL = "vite"

/** A build with the cache on. */
export interface Session {
  readonly build: Build
  /** Wall time inside wrapped hooks (overlapping calls once). */
  readonly transformTime: BusyTime
}

/** The adapter's state across builds (several environments may build at once). */
export class TransformSession {
  readonly options: CacheTransformsOptions
  /** The hooks to wrap (`hooks` option, checked). */
  readonly hooks: ReadonlySet<CacheableHook>
  readonly session: BuildSession
  mode: string | undefined
  #filter: ((id: string) => boolean) | undefined
  #filterRoot: string | undefined
  #current: Session | null = null
  #failed = false

  constructor(options: CacheTransformsOptions) {
    this.options = options
    const log = options.log
    this.session = new BuildSession({
      tool: TOOL,
      config: options.cacheConfig ?? {},
      ...(options.root === undefined ? {} : { root: options.root }),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.argv === undefined ? {} : { argv: options.argv }),
      ...(log === undefined ? {} : { log }),
      // Cache faults and unusable entries are said even with `log: false`: Vite's logger, else the console.
      warn: (line) => console.warn(line),
    })
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
    this.#filter = createIdFilter(options.include, options.exclude, this.session.root)
    this.#filterRoot = this.session.root
  }

  get root(): string {
    return this.session.root
  }

  /** The project root (Vite's, once its configuration is resolved, unless `root` was given). */
  set root(root: string) {
    this.session.root = root
  }

  /** Whether the hook of module `id` is cached (`include`/`exclude`, globs resolved against the root). */
  filter(id: string): boolean {
    if (this.#filterRoot !== this.root || this.#filter === undefined) {
      this.#filter = createIdFilter(this.options.include, this.options.exclude, this.root)
      this.#filterRoot = this.root
    }
    return this.#filter(id)
  }

  /** The build in progress with the cache on, or `null` (off, or no build started). */
  get current(): Session | null {
    return this.#current
  }

  async start(): Promise<void> {
    const build = await this.session.start()
    if (this.#current?.build !== build) this.#current = build.enabled ? { build, transformTime: new BusyTime() } : null
  }

  /** The build failed (Rollup's `buildEnd` with an error): its end is not recorded. */
  fail(): void {
    if (this.#current !== null || this.session.current !== undefined) this.#failed = true
  }

  async finish(): Promise<void> {
    if (this.#failed) {
      // A failed build is not recorded (its manifest would miss the documents it never reached); the cache is closed.
      this.#failed = false
      this.#current = null
      await this.session.abort()
      return
    }
    const current = this.#current
    const report = await this.session.finish()
    if (report === undefined) return
    this.#current = null
    const { stats } = report
    const result: TransformCacheReport = report.enabled
      ? {
          enabled: true,
          line: report.line,
          hits: stats.hits,
          misses: stats.misses,
          uncacheable: Object.fromEntries(stats.uncacheable),
          savedMs: stats.savedMs,
          transformMs: current?.transformTime.ms ?? 0,
          rejected: report.rejected,
          stats,
          ...(report.run === undefined ? {} : { run: report.run }),
        }
      : {
          enabled: false,
          line: report.line,
          hits: 0,
          misses: 0,
          uncacheable: {},
          savedMs: 0,
          transformMs: 0,
          rejected: 0,
          stats: new BuildStats(),
        }
    await this.options.onBuildEnd?.(result)
  }
}
