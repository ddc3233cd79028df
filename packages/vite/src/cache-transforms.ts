/**
 * `cacheTransforms(plugins, options)`: the same plugins, with their
 * `transform` hooks (and, when asked, `load` hooks) memoized in a sitecache cache, plus one small `sitecache`
 * plugin that opens the cache when a build starts and, when it ends, records
 * the build and prints one summary line.
 */
import type { BuildStats, Cache, CacheConfig, RunSummary } from "@sitecache/core"
import type { Plugin, PluginOption } from "vite"
import type { FilterPattern } from "./filter.js"
import { wrapHook } from "./hook.js"
import { CACHEABLE_HOOKS, type CacheableHook, TransformSession } from "./session.js"

export { ADAPTER, relativeId } from "./hook.js"

export interface CacheTransformsOptions {
  /** An open cache to use (never closed by the adapter). Default: one opened from `cacheConfig`. */
  readonly cache?: Cache
  /**
   * Configuration of the cache to open when a build starts (docs/architecture.md, "The life of a build"; `SITECACHE=off`,
   * `SITECACHE_BACKEND`, `--no-cache`... apply). Default `{}`: the `fs` backend
   * under `<root>/node_modules/.cache/sitecache`.
   */
  readonly cacheConfig?: CacheConfig
  /** Module ids to cache, as Vite's `createFilter` takes them: globs resolved against the root, RegExps. Default: all. */
  readonly include?: FilterPattern
  /** Module ids never to cache, same forms. Default: none. */
  readonly exclude?: FilterPattern
  /**
   * The hooks to wrap. Default `["transform"]`. Add `"load"` for plugins that
   * compile a file in their `load` hook (Astro's markdown pages): a `load` is
   * keyed by the content of the file its id names, and ids naming no file
   * (virtual modules) are not cached.
   */
  readonly hooks?: readonly CacheableHook[]
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

function wrapPlugin(plugin: Plugin, session: TransformSession, pluginStep: (name: string) => string | undefined): Plugin {
  const hooks = CACHEABLE_HOOKS.filter((name) => session.hooks.has(name) && plugin[name] !== undefined && plugin[name] !== null)
  if (hooks.length === 0) return plugin
  const wrapped = Object.defineProperties(
    Object.create(Object.getPrototypeOf(plugin)),
    Object.getOwnPropertyDescriptors(plugin),
  ) as Record<CacheableHook, unknown>
  const step = pluginStep(plugin.name)
  type Handler = Parameters<typeof wrapHook>[2]
  for (const name of hooks) {
    const hook = plugin[name] as Handler | { handler: Handler }
    wrapped[name] =
      typeof hook === "function"
        ? wrapHook(plugin, name, hook, session, step)
        : { ...hook, handler: wrapHook(plugin, name, hook.handler, session, step) }
  }
  return wrapped as unknown as Plugin
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
function sessionPlugin(session: TransformSession, rootGiven: boolean): Plugin {
  return {
    name: "sitecache",
    configResolved(config) {
      if (!rootGiven) session.root = config.root
      session.mode = config.mode
      if (session.options.log === undefined) session.session.log = (line) => config.logger.info(line)
      session.session.warn = (line) => config.logger.warn(line)
    },
    async buildStart() {
      await session.start()
    },
    buildEnd(error) {
      if (error !== undefined) session.fail()
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
  const session = new TransformSession(options)
  const flat: (Plugin | PromiseLike<unknown>)[] = []
  flatten(plugins, flat)
  const names = flat
    .filter((p): p is Plugin => !isPromise(p) && [...session.hooks].some((hook) => Boolean((p as Plugin)[hook])))
    .map((p) => p.name)
  const several = names.length > 1 || flat.some(isPromise)
  const step = (name: string) => (several ? name : undefined)
  const wrap = (plugin: Plugin) => wrapPlugin(plugin, session, step)
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
