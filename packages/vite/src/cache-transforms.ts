/**
 * `cacheTransforms(plugins, options)`: the same plugins, with their
 * `transform` hooks memoized in a sitecache cache, plus one small `sitecache`
 * plugin that opens the cache when a build starts and, when it ends, records
 * the build and prints one summary line.
 */
import { readFileSync } from "node:fs"
import { isAbsolute, relative, resolve, sep } from "node:path"
import {
  BadOptionError,
  BuildStats,
  type Cache,
  type CacheConfig,
  createCache,
  FileHasher,
  finishBuild,
  type KeyPart,
  type MemoResult,
  memoize,
  normalizeCacheConfig,
  type RunSummary,
  resolveCacheConfig,
} from "@sitecache/core"
import type { Plugin, PluginOption } from "vite"
import { BusyTime } from "./busy.js"
import { type Recording, recordingContext, replayLogs } from "./context.js"
import { createIdFilter, type IdFilterPattern } from "./filter.js"
import { fingerprint, installedVersion } from "./fingerprint.js"
import { fromStored, type HookResult, NO_OUTPUT, readStored, type StoredResult, toStored } from "./stored.js"

/** This package, as it appears in every key: a new release of the adapter starts cold. */
export const ADAPTER: string = (() => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    name: string
    version: string
  }
  return `${manifest.name}@${manifest.version}`
})()

export interface CacheTransformsOptions {
  /** An open cache to use (never closed by the adapter). Default: one opened from `cacheConfig`. */
  readonly cache?: Cache
  /**
   * Configuration of the cache to open when a build starts (DESIGN §7; `SITECACHE=off`,
   * `SITECACHE_BACKEND`, `--no-cache`... apply). Default `{}`: the `fs` backend
   * under `<root>/node_modules/.cache/sitecache`.
   */
  readonly cacheConfig?: CacheConfig
  /** Module ids to cache (globs relative to the root, RegExps, functions). Default: all. */
  readonly include?: IdFilterPattern
  /** Module ids never to cache. Default: none. */
  readonly exclude?: IdFilterPattern
  /** Bump to invalidate every entry of these plugins (what the fingerprint cannot see). */
  readonly version?: string | number
  /**
   * The options the wrapped plugins were created with: hashed into every key
   * (functions by their source), so changing one misses. Pass them: a plugin
   * object does not expose the options it closed over.
   */
  readonly pluginOptions?: unknown
  /** Project root for relative ids and the default cache directory. Default: Vite's `root`, else `process.cwd()`. */
  readonly root?: string
  /** Environment for `resolveCacheConfig`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Command line for `resolveCacheConfig` (`--no-cache`, `--cache=read`). Default `process.argv.slice(2)`. */
  readonly argv?: readonly string[]
  /** Where the summary line goes: `false` for nowhere. Default: Vite's logger, else `console.log`. */
  readonly log?: false | ((line: string) => void)
  /** Called once per build, after the summary is recorded. */
  readonly onBuildEnd?: (report: TransformCacheReport) => void | Promise<void>
}

/** What a build did with the cache. */
export interface TransformCacheReport {
  /** `false` when the cache was off (`SITECACHE=off`, `--no-cache`, `mode: "off"`). */
  readonly enabled: boolean
  /** The summary line. */
  readonly line: string
  readonly hits: number
  readonly misses: number
  /** Results not cached, by reason (`this.emitFile`, `meta`, ...). */
  readonly uncacheable: Readonly<Record<string, number>>
  /** What the hits' transforms took when they ran, in ms. */
  readonly savedMs: number
  /**
   * Wall time during which at least one wrapped `transform` hook was running for an
   * included module (lookups included), in ms: overlapping calls count once.
   */
  readonly transformMs: number
  /**
   * Entries that were not valid results (damaged, or forged by whoever can write
   * the cache): each was a miss, rebuilt and replaced; the first is warned about.
   */
  readonly rejected: number
  readonly stats: BuildStats
  /** The run recorded in the cache (absent when off). */
  readonly run?: RunSummary
}

type TransformHandler = (this: object, code: string, id: string, options?: { ssr?: boolean }) => unknown

/** The module id relative to the root, `/`-separated, query kept; virtual and outside ids as they are. */
export function relativeId(id: string, root: string): string {
  if (id.startsWith("\0") || !isAbsolute(id)) return id
  const query = id.indexOf("?")
  const path = query === -1 ? id : id.slice(0, query)
  const rel = relative(root, path)
  if (rel.startsWith("..") || isAbsolute(rel)) return id
  return rel.split(sep).join("/") + (query === -1 ? "" : id.slice(query))
}

interface Session {
  readonly cache: Cache
  readonly owned: boolean
  readonly stats: BuildStats
  readonly files: FileHasher
  readonly transformTime: BusyTime
  /** Entries read this build that were not valid results (damaged or forged), each replaced. */
  rejected: number
}

/** The cache's life across one build (several environments may build at once). */
class BuildSession {
  readonly options: CacheTransformsOptions
  readonly filter: (relativePath: string, id: string) => boolean
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

interface PluginIdentity {
  readonly name: string
  readonly part: KeyPart
}

function hookSources(plugin: Plugin): Record<string, string> {
  const sources: Record<string, string> = {}
  for (const [name, hook] of Object.entries(plugin)) {
    const handler = typeof hook === "function" ? hook : (hook as { handler?: unknown } | null)?.handler
    if (typeof handler === "function") sources[name] = Function.prototype.toString.call(handler)
  }
  return sources
}

function identify(plugin: Plugin, root: string): PluginIdentity {
  const name = plugin.name ?? "anonymous"
  const candidates = [name, name.split(":")[0] ?? name]
  let pkg: string | null = null
  for (const candidate of candidates) {
    const version = installedVersion(candidate, root)
    if (version !== null) {
      pkg = `${candidate}@${version}`
      break
    }
  }
  const declared = (plugin as { version?: unknown }).version
  return {
    name,
    part: {
      name,
      package: pkg,
      version: typeof declared === "string" ? declared : null,
      hooks: hookSources(plugin),
    },
  }
}

function wrapHandler(plugin: Plugin, handler: TransformHandler, session: BuildSession, documentSuffix: string): TransformHandler {
  let identity: PluginIdentity | undefined
  let optionsPart: KeyPart | undefined
  return async function cachedTransform(this: object, code: string, id: string, options?: { ssr?: boolean }) {
    const current = session.current
    const root = session.root
    const path = current === null ? "" : relativeId(id, root)
    if (current === null || !session.filter(path.split("?")[0] as string, id)) return handler.call(this, code, id, options)
    const started = performance.now()
    current.transformTime.enter()
    identity ??= identify(plugin, root)
    if (optionsPart === undefined && session.options.pluginOptions !== undefined)
      optionsPart = fingerprint(session.options.pluginOptions)
    const environment = (this as { environment?: { config?: { consumer?: string } } }).environment
    const ssr = options?.ssr ?? environment?.config?.consumer === "server"
    const parts: { [name: string]: KeyPart } = {
      adapter: ADAPTER,
      plugin: identity.part,
      options: optionsPart,
      version: session.options.version,
      id: path,
      code,
      build: { ssr, mode: session.mode },
    }
    const document = path + documentSuffix + (ssr ? " [ssr]" : "")
    let computedHere = false
    let output: HookResult
    const lookup = () =>
      memoize<StoredResult>(
        current.cache,
        parts,
        async (memo) => {
          computedHere = true
          const recording: Recording = { logs: [] }
          output = (await handler.call(recordingContext(this, recording, memo), code, id, options)) as HookResult
          return toStored(output, recording.logs, memo, root)
        },
        { files: current.files },
      )
    let result: MemoResult<StoredResult>
    let stored: StoredResult | undefined
    try {
      result = await lookup()
      if (!computedHere) {
        const read = readStored(result.value)
        if ("stored" in read) stored = read.stored
        else {
          // A damaged or forged entry: a miss, a warning, a count; the entry is replaced by a fresh result.
          session.reject(document, read.invalid)
          await current.cache.delete(result.key)
          result = await lookup()
          if (!computedHere) {
            const again = readStored(result.value)
            if ("stored" in again) stored = again.stored
            else {
              computedHere = true
              output = (await handler.call(this, code, id, options)) as HookResult
            }
          }
        }
      }
    } finally {
      current.transformTime.leave()
    }
    if (result.uncacheable === NO_OUTPUT) return output
    if (computedHere || stored === undefined) {
      current.stats.record({ ...result, hit: false }, performance.now() - started, document)
      return output
    }
    // A hit, or a result shared with a concurrent identical call: replay what the hook did.
    current.stats.record(result.hit ? result : { ...result, hit: true, savedMs: 0 }, 0, document)
    for (const dep of result.deps) (this as { addWatchFile?: (file: string) => void }).addWatchFile?.(resolve(root, dep))
    if (stored.logs) replayLogs(this, stored.logs)
    return fromStored(stored, root)
  }
}

function wrapPlugin(plugin: Plugin, session: BuildSession, documentSuffix: (name: string) => string): Plugin {
  const hook = plugin.transform
  if (hook === undefined || hook === null) return plugin
  const wrapped = Object.defineProperties(
    Object.create(Object.getPrototypeOf(plugin)),
    Object.getOwnPropertyDescriptors(plugin),
  ) as Plugin
  const suffix = documentSuffix(plugin.name)
  type Hook = NonNullable<Plugin["transform"]>
  if (typeof hook === "function") {
    wrapped.transform = wrapHandler(plugin, hook as TransformHandler, session, suffix) as Hook
  } else {
    const handler = (hook as { handler: TransformHandler }).handler
    wrapped.transform = { ...hook, handler: wrapHandler(plugin, handler, session, suffix) } as Hook
  }
  return wrapped
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function"
}

function flatten(option: PluginOption, into: (Plugin | PromiseLike<unknown>)[]): void {
  if (!option) return
  if (Array.isArray(option)) {
    for (const item of option) flatten(item as PluginOption, into)
  } else if (isPromise(option)) {
    into.push(option)
  } else {
    into.push(option as Plugin)
  }
}

/** The controller: opens the cache at build start, records and reports at the end. */
function sessionPlugin(session: BuildSession, rootGiven: boolean): Plugin {
  return {
    name: "sitecache",
    configResolved(config) {
      if (!rootGiven) session.root = config.root
      session.mode = config.mode
      if (session.options.log === undefined) session.log = (line) => config.logger.info(line)
      session.warn = (line) => config.logger.warn(line)
    },
    async buildStart() {
      await session.start()
    },
    async closeBundle() {
      await session.finish()
    },
  }
}

/**
 * Wrap the `transform` hooks of `plugins` with a sitecache memo.
 *
 * Returns a list: the plugins (those without a `transform` hook unchanged)
 * and a `sitecache` plugin that manages the cache. Vite and Rollup both accept
 * nested lists in `plugins`.
 *
 * @example
 * // vite.config.ts
 * plugins: [cacheTransforms(mdx(mdxOptions), { cacheConfig: { backend: "sqlite" }, pluginOptions: mdxOptions })]
 */
export function cacheTransforms(plugins: PluginOption, options: CacheTransformsOptions = {}): Plugin[] {
  const session = new BuildSession(options)
  const flat: (Plugin | PromiseLike<unknown>)[] = []
  flatten(plugins, flat)
  const names = flat.filter((p): p is Plugin => !isPromise(p) && Boolean((p as Plugin).transform)).map((p) => p.name)
  const several = names.length > 1 || flat.some(isPromise)
  const suffix = (name: string) => (several ? ` (${name})` : "")
  const wrap = (plugin: Plugin) => wrapPlugin(plugin, session, suffix)
  const out = flat.map((plugin) =>
    isPromise(plugin)
      ? (plugin.then((resolved) => {
          const list: (Plugin | PromiseLike<unknown>)[] = []
          flatten(resolved as PluginOption, list)
          return list.map((p) => (isPromise(p) ? p : wrap(p)))
        }) as unknown as Plugin)
      : wrap(plugin),
  )
  return [...out, sessionPlugin(session, options.root !== undefined)]
}
