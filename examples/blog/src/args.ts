/**
 * The `blog` command line, read by Node's `util.parseArgs` from one table of
 * options: the blog's own and the cache flags every sitecache tool shares
 * (`resolveCacheConfig` applies those to the configuration).
 */
import { parseArgs } from "node:util"
import { BadOptionError } from "@sitecache/core"

export const OPTIONS = {
  content: { type: "string" },
  out: { type: "string" },
  config: { type: "string" },
  report: { type: "string" },
  watch: { type: "boolean" },
  verbose: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "no-cache": { type: "boolean" },
  cache: { type: "string" },
  "cache-backend": { type: "string" },
  "cache-dir": { type: "string" },
  "redis-url": { type: "string" },
} as const

export type BlogArgs = ReturnType<typeof parseBlogArgs>

/** A mistake on the command line: exit 2 with the usage. */
export class UsageError extends Error {}

/** The arguments of `blog`, checked: an unknown flag, a missing value or a stray argument is a `UsageError`. */
export function parseBlogArgs(argv: readonly string[]) {
  try {
    // `pnpm run x -- --flag` passes the `--` through.
    return parseArgs({ args: argv.filter((arg) => arg !== "--"), options: OPTIONS, strict: true, allowPositionals: false }).values
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw error
    const named = /'([^' ]+)/.exec((error as Error).message)?.[1]
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`unknown argument \`${named}\``)
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw new UsageError(`unexpected argument \`${named ?? ""}\``)
    throw new UsageError(named === undefined ? (error as Error).message : `\`${named}\` expects a value`)
  }
}

/**
 * `--config`, `--content`, `--out` of `argv` (other arguments ignored: the
 * command checks them), each a value when given.
 */
export function siteFlags(argv: readonly string[]): { config?: string; content?: string; out?: string } {
  const { values } = parseArgs({ args: argv.filter((arg) => arg !== "--"), options: OPTIONS, strict: false })
  const flags: { config?: string; content?: string; out?: string } = {}
  for (const name of ["config", "content", "out"] as const) {
    const value = values[name]
    if (value === undefined) continue
    if (typeof value !== "string" || value === "" || value.startsWith("--"))
      throw new BadOptionError(`--${name}`, "expects a value")
    flags[name] = value
  }
  return flags
}
