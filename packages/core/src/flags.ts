/**
 * `resolveCacheConfig`: the command line and the environment applied to a
 * cache configuration, so that every adapter and example handles
 * `--no-cache`, `--cache=read` and `SITECACHE_*` the same way.
 */
import { type CacheConfig, type ConfigMode, checkBackends } from "./config.js"
import { BadOptionError } from "./errors.js"

/** A backend's options object in a configuration being overridden (`redis` for `--redis-url`). */
function sectionOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

export interface ResolveCacheConfigInput {
  readonly config?: CacheConfig
  /** Command-line arguments, e.g. `process.argv.slice(2)`. */
  readonly argv?: readonly string[]
  /** Environment, e.g. `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

const CACHE_FLAG_MODES: Readonly<Record<string, ConfigMode>> = {
  read: "read-only",
  "read-only": "read-only",
  write: "write-only",
  "write-only": "write-only",
  "read-write": "read-write",
  on: "read-write",
  off: "off",
}

function flagMode(value: string, option: string): ConfigMode {
  const mode = CACHE_FLAG_MODES[value]
  if (mode === undefined)
    throw new BadOptionError(option, `expected read, write, read-write or off, got ${JSON.stringify(value)}`)
  return mode
}

function backendList(value: string, option: string): string | readonly string[] {
  const names = value.split(",").map((name) => name.trim())
  return checkBackends(names.length === 1 ? names[0] : names, option)
}

/** The backends a configuration names that can have a flag of their own (a name, not a module path or object). */
function namedBackends(backend: unknown): string[] {
  return [backend].flat().filter((name): name is string => typeof name === "string" && /^[a-z][a-z0-9-]*$/.test(name))
}

/** Read `--flag value` or `--flag=value`; the last occurrence wins. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === flag) {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith("--")) throw new BadOptionError(flag, "expects a value")
      value = next
      i++
    } else if (arg.startsWith(`${flag}=`)) {
      value = arg.slice(flag.length + 1)
    }
  }
  return value
}

/**
 * Apply the command line and the environment to a cache configuration.
 * Precedence: flags, then environment, then `config`.
 *
 * | flag | environment | effect |
 * | --- | --- | --- |
 * | `--no-cache` | `SITECACHE=off` | the null cache |
 * | `--cache=read\|write\|read-write\|off` | `SITECACHE=read\|write\|…` | the mode |
 * | `--cache-backend <name[,name…]>` | `SITECACHE_BACKEND` | the backend (a list makes tiers) |
 * | `--cache-dir <dir>` | `SITECACHE_DIR` | the directory |
 * | `--<backend>-url <url>` | `SITECACHE_<BACKEND>_URL` | `<backend>.url`, for a backend the configuration names (`--redis-url`) |
 * | | `SITECACHE_SECRET` | `secret` |
 */
export function resolveCacheConfig(input: ResolveCacheConfigInput = {}): CacheConfig {
  const argv = input.argv ?? []
  const env = input.env ?? {}
  const config: Record<string, unknown> = { ...input.config }

  const envMode = env.SITECACHE
  if (envMode !== undefined && envMode !== "") config.mode = flagMode(envMode.toLowerCase(), "SITECACHE")
  if (env.SITECACHE_BACKEND) config.backend = backendList(env.SITECACHE_BACKEND, "SITECACHE_BACKEND")
  if (env.SITECACHE_DIR) config.dir = env.SITECACHE_DIR
  if (env.SITECACHE_SECRET) config.secret = env.SITECACHE_SECRET

  const cacheFlag = flagValue(argv, "--cache")
  if (cacheFlag !== undefined) config.mode = flagMode(cacheFlag, "--cache")
  if (argv.includes("--no-cache")) config.mode = "off"
  const backend = flagValue(argv, "--cache-backend")
  if (backend !== undefined) config.backend = backendList(backend, "--cache-backend")
  const dir = flagValue(argv, "--cache-dir")
  if (dir !== undefined) config.dir = dir
  // A network backend's address, for any backend by name (`--redis-url`, `SITECACHE_REDIS_URL`): only for the
  // backends the configuration names, so a host tool's own `--site-url` is never read as a cache option.
  for (const name of namedBackends(config.backend)) {
    const envUrl = env[`SITECACHE_${name.toUpperCase().replaceAll("-", "_")}_URL`]
    const flagUrl = flagValue(argv, `--${name}-url`)
    const url = flagUrl ?? (envUrl === "" ? undefined : envUrl)
    if (url !== undefined) config[name] = { ...sectionOf(config[name]), url }
  }
  return config as CacheConfig
}
