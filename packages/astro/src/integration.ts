/**
 * `integrations: [sitecache({ backend: "sqlite" })]`: cache the rendering of
 * markdown pages and the compilation of MDX in an Astro project.
 *
 * The integration adds one small Vite plugin to every Vite build Astro runs.
 * When Vite has resolved a build's plugins, it finds Astro's own markdown
 * plugin and MDX's, checks their shape (steps.ts) and wraps the hook that
 * renders a file (wrap.ts). The cache opens when an Astro build starts (or the
 * dev server is set up) and is recorded and closed when it ends; the summary
 * goes through Astro's logger.
 */
import { readFileSync, realpathSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import {
  BadOptionError,
  BuildSession,
  type BuildStats,
  BusyTime,
  type Cache,
  type CacheConfig,
  describeUnsound,
  FairShare,
  fingerprint,
  installedVersion,
  type Key,
  type KeyPart,
  normalizeCacheConfig,
  type RunSummary,
  type Uncacheable,
} from "@sitecache/core"
import type { AstroConfig, AstroIntegration, AstroIntegrationLogger } from "astro"
import { loadEmbeddedLanguagesFor, wholeLines } from "./shiki.js"
import { StopSignals } from "./signals.js"
import { STEPS, type Step, shapeProblem } from "./steps.js"
import { type Anchor, anchors } from "./stored.js"
import { type CurrentBuild, type StepContext, wrapStep } from "./wrap.js"

/** This package, as it appears in every key: a new release of the integration starts cold. */
export const ADAPTER: string = (() => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    name: string
    version: string
  }
  return `${manifest.name}@${manifest.version}`
})()

/** The Astro major version the wrapped plugins were written against (see steps.ts). */
export const SUPPORTED_ASTRO_MAJOR = 5

export interface SitecacheAstroOptions extends CacheConfig {
  /** An open cache to use (never closed by the integration). Default: one opened from the other options. */
  readonly cache?: Cache
  /** Bump to invalidate every entry (what the fingerprint cannot see: files a remark plugin reads, say). */
  readonly version?: string | number
  /**
   * The options given to `mdx()` in `astro.config`, if any: the integration
   * cannot read them from `@astrojs/mdx`, so pass the same object here for a
   * change to one to miss. Not needed for what MDX takes from `markdown`.
   */
  readonly mdx?: unknown
  /** Environment for the cache configuration (`SITECACHE=off`, `SITECACHE_BACKEND`...). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Command line for the cache configuration (`--no-cache`, `--cache=read`). Default `process.argv.slice(2)`. */
  readonly argv?: readonly string[]
  /** Where the summary line goes: `false` for nowhere. Default: Astro's logger. */
  readonly log?: false | ((line: string) => void)
  /** Called at the end of each build (and when the dev server stops), once the build is recorded. */
  readonly onBuildEnd?: (report: AstroCacheReport) => void | Promise<void>
}

/** What a build did with the cache. */
export interface AstroCacheReport {
  /** `false` when the cache was off (`SITECACHE=off`, `--no-cache`, `mode: "off"`). */
  readonly enabled: boolean
  readonly line: string
  readonly hits: number
  readonly misses: number
  readonly savedMs: number
  /** Wall time inside the wrapped steps (lookups included; overlapping calls once), in ms. */
  readonly stepMs: number
  /** Entries that were not valid modules (damaged or forged): each rebuilt and replaced. */
  readonly rejected: number
  /** The warnings the integration gave during the build (through Astro's logger). */
  readonly warnings: readonly string[]
  /** Steps found in a shape this integration does not know, and so not cached. */
  readonly unwrapped: readonly string[]
  readonly stats?: BuildStats
  readonly run?: RunSummary
}

const OWN_OPTIONS = new Set(["cache", "version", "mdx", "env", "argv", "log", "onBuildEnd"])

/** The directory of `name` as installed for `from` (symlinks resolved), or `undefined`. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    try {
      return realpathSync(join(dir, "node_modules", name))
    } catch {
      // not installed here: look further up
    }
    if (dirname(dir) === dir) return undefined
  }
}

function checkOptions(options: SitecacheAstroOptions): CacheConfig {
  if (options === null || typeof options !== "object") throw new BadOptionError("options", "expected an object")
  const { version, log, onBuildEnd, argv } = options
  if (version !== undefined && typeof version !== "string" && typeof version !== "number")
    throw new BadOptionError("version", "expected a string or a number")
  if (log !== undefined && log !== false && typeof log !== "function")
    throw new BadOptionError("log", "expected false or a function")
  if (onBuildEnd !== undefined && typeof onBuildEnd !== "function") throw new BadOptionError("onBuildEnd", "expected a function")
  if (argv !== undefined && (!Array.isArray(argv) || argv.some((arg) => typeof arg !== "string")))
    throw new BadOptionError("argv", "expected a list of strings")
  const config: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(options)) if (!OWN_OPTIONS.has(name)) config[name] = value
  return config as CacheConfig
}

/** What one step's key shares across a build. */
interface Shared {
  readonly tools: KeyPart
  readonly config: Key
  readonly uncacheable?: Uncacheable
}

/** The parts of Astro's configuration a step's output depends on (besides its file). */
function configOf(step: Step, config: AstroConfig, root: string, options: SitecacheAstroOptions): unknown {
  const urls = {
    site: config.site,
    base: config.base,
    trailingSlash: config.trailingSlash,
    srcDir: relative(root, fileURLToPath(config.srcDir)),
    headingIdCompat: config.experimental?.headingIdCompat,
    version: options.version,
  }
  if (step.plugin === "astro:markdown") return { ...urls, markdown: config.markdown, image: config.image }
  return { ...urls, markdown: config.markdown, mdx: options.mdx, sourcemap: Boolean(config.vite?.build?.sourcemap) }
}

/**
 * The Astro integration.
 *
 * @example
 * // astro.config.mjs
 * import sitecache from "@sitecache/astro"
 * export default defineConfig({ integrations: [mdx(), sitecache({ backend: "sqlite" })] })
 */
export function sitecache(options: SitecacheAstroOptions = {}): AstroIntegration {
  const cacheConfig = checkOptions(options)
  let root = resolve(typeof options.root === "string" ? options.root : process.cwd())
  let session: BuildSession | undefined
  let current: CurrentBuild | undefined
  let logger: AstroIntegrationLogger | undefined
  let anchorList: Anchor[] = []
  const shared = new Map<Step, Shared>()
  const unwrapped = new Set<string>()
  let given: string[] = []
  const warned = new Set<string>()
  const warn = (line: string) => {
    if (warned.has(line)) return
    warned.add(line)
    given.push(line)
    if (logger !== undefined) logger.warn(line)
    else console.warn(`sitecache: ${line}`)
  }
  const log = (line: string) => {
    if (options.log === false) return
    if (options.log !== undefined) options.log(line)
    else if (logger !== undefined) logger.info(line.replace(/^sitecache: /, ""))
    else console.log(line)
  }

  const context: StepContext = {
    current: () => current,
    get root() {
      return root
    },
    adapter: ADAPTER,
    anchors: () => anchorList,
    shared(step) {
      return shared.get(step) as Shared
    },
  }

  /**
   * The key parts every file of a step shares, taken once the configuration
   * is final (`astro:config:done`) and before anything renders: Astro's
   * configuration objects are changed later in a build (Shiki's registry adds the
   * aliases of each language it loads to `markdown.shikiConfig.langAlias` when it first
   * highlights), so a fingerprint taken at a step's first file would depend
   * on which files rendered before it.
   */
  const takeShared = (config: AstroConfig) => {
    for (const step of STEPS) {
      const owner = packageDir(step.owner, root)
      const tools: Record<string, string | null> = { [step.owner]: installedVersion(step.owner, root) }
      for (const name of step.packages) tools[name] = owner === undefined ? null : installedVersion(name, owner)
      const print = fingerprint(configOf(step, config, root, options))
      const [unsound] = print.unsound
      shared.set(step, {
        tools,
        config: print.key,
        ...(unsound === undefined ? {} : { uncacheable: { step: step.label, reason: describeUnsound(unsound, "option") } }),
      })
    }
  }

  const vitePlugin = {
    name: "sitecache:astro",
    configResolved(resolved: { readonly plugins: readonly object[] }) {
      const plugins = resolved.plugins as readonly Record<string, unknown>[]
      for (const step of STEPS) {
        const plugin = plugins.find((candidate) => candidate.name === step.plugin)
        if (plugin === undefined) continue
        const problem = shapeProblem(plugin, step)
        if (problem !== undefined) {
          unwrapped.add(step.label)
          warn(
            `${step.label} is not cached: Astro's plugin ${step.plugin} is not of the shape this integration knows (${problem})`,
          )
          continue
        }
        wrapStep(plugin, step, context)
      }
    },
  }

  let command: "build" | "dev" = "build"
  const stopSignals = new StopSignals()

  const start = async () => {
    if (session === undefined || current !== undefined) return
    const build = await session.start()
    current = { build: build.enabled ? build : undefined, busy: new BusyTime(), shares: new FairShare() }
  }

  const finish = async () => {
    if (session === undefined || current === undefined) return
    const { busy } = current
    current = undefined
    // A dev server renders what is asked for: the records of the pages it did not see are kept for the next one.
    const report = await session.finish({ incremental: command === "dev" })
    if (report === undefined) return
    const stepMs = busy.ms
    const line = report.enabled
      ? `${report.line} (${Math.round(stepMs)} ms in cached steps${report.rejected > 0 ? `, ${report.rejected} unusable entries replaced` : ""})`
      : `sitecache: off (no cache read or written; ${Math.round(stepMs)} ms in the steps it caches)`
    const warnings = given
    given = []
    warned.clear()
    log(line)
    const { stats } = report
    await options.onBuildEnd?.({
      enabled: report.enabled,
      line,
      hits: stats.hits,
      misses: stats.misses,
      savedMs: stats.savedMs,
      stepMs,
      rejected: report.rejected,
      warnings,
      unwrapped: [...unwrapped],
      ...(report.enabled ? { stats } : {}),
      ...(report.run === undefined ? {} : { run: report.run }),
    })
  }

  return {
    name: "sitecache",
    hooks: {
      "astro:config:setup": async ({ config, command: astroCommand, updateConfig, logger: astroLogger }) => {
        logger = astroLogger
        if (astroCommand !== "build" && astroCommand !== "dev") return
        command = astroCommand
        if (options.root === undefined) root = fileURLToPath(config.root)
        // A configuration mistake (unknown option, bad value) throws now, naming the option.
        normalizeCacheConfig({ root, ...cacheConfig })
        const astroDir = packageDir("astro", root)
        const astroVersion = installedVersion("astro", root)
        const major = astroVersion === null ? Number.NaN : Number(astroVersion.split(".")[0])
        if (major !== SUPPORTED_ASTRO_MAJOR) {
          warn(
            `not caching: this integration supports Astro ${SUPPORTED_ASTRO_MAJOR}, and Astro ${astroVersion ?? "(not found)"} is installed`,
          )
          return
        }
        anchorList = anchors({ astro: astroDir, root })
        session = new BuildSession({
          tool: "astro",
          root,
          config: cacheConfig,
          ...(options.cache === undefined ? {} : { cache: options.cache }),
          env: options.env ?? process.env,
          argv: options.argv ?? process.argv.slice(2),
          open: { resolveFrom: import.meta.url },
          log: false,
          warn: (line) => warn(line.replace(/^sitecache: /, "")),
        })
        updateConfig({ vite: { plugins: [vitePlugin] }, markdown: { shikiConfig: { transformers: [wholeLines] } } })
        // Code blocks that embed other languages are highlighted the same whatever rendered before them (shiki.ts).
        const embedded = await loadEmbeddedLanguagesFor([astroDir, packageDir("@astrojs/mdx", root)], packageDir)
        if (embedded !== undefined)
          warn(`code blocks that embed other languages may be highlighted differently by each build: ${embedded}`)
      },
      "astro:config:done": ({ config, logger: astroLogger }) => {
        logger = astroLogger
        if (session !== undefined) takeShared(config)
      },
      // A build runs a dev server of its own to sync content: its server hooks are not the build's.
      "astro:build:start": () => (command === "build" ? start() : undefined),
      "astro:build:done": () => (command === "build" ? finish() : undefined),
      "astro:server:setup": () => {
        if (command !== "dev") return undefined
        stopSignals.listen(finish)
        return start()
      },
      "astro:server:done": () => {
        if (command !== "dev") return undefined
        stopSignals.forget()
        return finish()
      },
    },
  }
}
