/**
 * The blog's configuration: `blog.config.mjs` (default export) or
 * `blog.config.json` in the project root, command-line flags over it.
 *
 * The cache is configured by one key, `cache` (any sitecache `CacheConfig`:
 * `{ "backend": "sqlite" }`), and the shared flags of `resolveCacheConfig`
 * (`--no-cache`, `--cache=read|write|off`, `--cache-backend`, `--cache-dir`,
 * `SITECACHE=off`, …) apply over it.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import { pathToFileURL } from "node:url"
import { BadOptionError, type CacheConfig, resolveCacheConfig } from "@sitecache/core"
import { siteFlags } from "./args.js"

export interface BlogConfig {
  /** The site's title (in every page's layout and the index). */
  readonly title: string
  /** Directories, relative to the project root. */
  readonly content: string
  readonly out: string
  readonly layouts: string
  readonly partials: string
  readonly assets: string
  /** The cache (sitecache `CacheConfig`). Default `{ backend: "sqlite" }`. */
  readonly cache: CacheConfig
  /** Options of `remark-gfm`, `rehype-autolink-headings` and `rehype-highlight`. */
  readonly gfm: Readonly<Record<string, unknown>>
  readonly autolink: Readonly<Record<string, unknown>>
  readonly highlight: Readonly<Record<string, unknown>>
  /** Documents rendered at once. Default 8. */
  readonly concurrency: number
}

export const DEFAULT_CONFIG: BlogConfig = {
  title: "A blog",
  content: "content",
  out: "dist",
  layouts: "layouts",
  partials: "partials",
  assets: "assets",
  cache: { backend: "sqlite" },
  gfm: {},
  autolink: { behavior: "append", properties: { className: ["anchor"], ariaHidden: true, tabIndex: -1 } },
  highlight: { detect: false },
  concurrency: 1,
}

export const CONFIG_FILES = ["blog.config.mjs", "blog.config.js", "blog.config.json"] as const

/** Everything a build needs to know, resolved. */
export interface Site {
  /** Project root: the configuration file's directory. */
  readonly root: string
  /** The configuration file read, if any. */
  readonly configFile: string | undefined
  readonly config: BlogConfig
  readonly contentDir: string
  readonly outDir: string
  readonly layoutsDir: string
  readonly partialsDir: string
  readonly assetsDir: string
  /** The cache configuration after flags and environment. */
  readonly cache: CacheConfig
}

export interface LoadSiteOptions {
  /** Where to look for the configuration. Default `process.cwd()`. */
  readonly cwd?: string
  /** A configuration file (`--config`). */
  readonly configFile?: string
  /** Values over the file's. */
  readonly overrides?: Partial<BlogConfig>
  /** Command-line arguments (cache flags, `--content`, `--out`). */
  readonly argv?: readonly string[]
  readonly env?: Readonly<Record<string, string | undefined>>
}

const KNOWN = new Set(Object.keys(DEFAULT_CONFIG))

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  if (file.endsWith(".json")) return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown }
  const value = typeof module.default === "function" ? await (module.default as () => unknown)() : module.default
  if (value === null || typeof value !== "object")
    throw new BadOptionError("config", `${file} must export a configuration object`)
  return value as Record<string, unknown>
}

function checkConfig(raw: Record<string, unknown>, source: string): Partial<BlogConfig> {
  for (const name of Object.keys(raw)) {
    if (!KNOWN.has(name)) {
      throw new BadOptionError(
        name,
        `unknown option in ${source}; known options are ${[...KNOWN].map((k) => `\`${k}\``).join(", ")}`,
      )
    }
  }
  for (const name of ["title", "content", "out", "layouts", "partials", "assets"]) {
    if (raw[name] !== undefined && (typeof raw[name] !== "string" || raw[name] === "")) {
      throw new BadOptionError(name, `expected a non-empty string in ${source}`)
    }
  }
  for (const name of ["cache", "gfm", "autolink", "highlight"]) {
    if (raw[name] !== undefined && (typeof raw[name] !== "object" || raw[name] === null || Array.isArray(raw[name]))) {
      throw new BadOptionError(name, `expected an object in ${source}`)
    }
  }
  if (raw.concurrency !== undefined && !(Number.isInteger(raw.concurrency) && (raw.concurrency as number) > 0)) {
    throw new BadOptionError("concurrency", `expected an integer > 0 in ${source}`)
  }
  return raw as Partial<BlogConfig>
}

/** Find and read the configuration, apply overrides and flags. */
export async function loadSite(options: LoadSiteOptions = {}): Promise<Site> {
  const cwd = resolve(options.cwd ?? process.cwd())
  const argv = options.argv ?? []
  const flags = siteFlags(argv)
  const explicit = options.configFile ?? flags.config
  let configFile: string | undefined
  if (explicit !== undefined) {
    configFile = resolve(cwd, explicit)
    if (!existsSync(configFile)) throw new BadOptionError("--config", `no file ${configFile}`)
  } else {
    configFile = CONFIG_FILES.map((name) => join(cwd, name)).find((file) => existsSync(file))
  }
  const fromFile = configFile === undefined ? {} : checkConfig(await readConfigFile(configFile), configFile)
  const config: BlogConfig = { ...DEFAULT_CONFIG, ...fromFile, ...options.overrides }
  const root = configFile === undefined ? cwd : dirname(configFile)
  // `--content` and `--out` are relative to where the command runs.
  const contentFlag = flags.content
  const outFlag = flags.out
  const inRoot = (path: string) => (isAbsolute(path) ? path : resolve(root, path))
  // Paths that go into plugin options stay relative to the root when they can, so the cache moves between checkouts.
  const fromRoot = (path: string) => {
    const rel = relative(root, path)
    return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel.split(sep).join("/")
  }
  const cache = resolveCacheConfig({ config: { root, ...config.cache }, argv, env: options.env ?? {} })
  return {
    root,
    configFile,
    config: {
      ...config,
      ...(contentFlag === undefined ? {} : { content: fromRoot(resolve(cwd, contentFlag)) }),
      ...(outFlag === undefined ? {} : { out: fromRoot(resolve(cwd, outFlag)) }),
    },
    contentDir: contentFlag === undefined ? inRoot(config.content) : resolve(cwd, contentFlag),
    outDir: outFlag === undefined ? inRoot(config.out) : resolve(cwd, outFlag),
    layoutsDir: inRoot(config.layouts),
    partialsDir: inRoot(config.partials),
    assetsDir: inRoot(config.assets),
    cache,
  }
}
