/**
 * The command line: `sitecache [options] <command> [command options]`.
 *
 * Parsed with `node:util` `parseArgs` in strict mode over every known option,
 * then checked against the options of the command given, so a flag of another
 * command is an error that names the command (`--yes` for `inspect`).
 */
import { parseArgs } from "node:util"

/** A mistake on the command line: exit code 2, with a pointer to `--help`. */
export class UsageError extends Error {
  readonly command: string | undefined
  constructor(message: string, command?: string) {
    super(message)
    this.name = "UsageError"
    this.command = command
  }
}

interface OptionSpec {
  readonly type: "string" | "boolean"
  readonly short?: string
  readonly value?: string
  readonly help: string
}

/** Options every command takes: where the cache is, and how to print. */
export const GLOBAL_OPTIONS = {
  root: { type: "string", value: "dir", help: "project root: where config files are looked up (default: the current directory)" },
  config: {
    type: "string",
    value: "file",
    help: "read the cache configuration from this file (its `cache` key, or the whole file)",
  },
  "cache-backend": { type: "string", value: "name", help: "fs, sqlite or redis (overrides SITECACHE_BACKEND and config files)" },
  "cache-dir": { type: "string", value: "dir", help: "cache directory (overrides SITECACHE_DIR)" },
  "redis-url": { type: "string", value: "url", help: "redis://host:port/db (overrides SITECACHE_REDIS_URL)" },
  tier: { type: "string", value: "name", help: "with tiers (`backend: [...]`): the one tier to work on" },
  json: { type: "boolean", help: "print JSON for scripts instead of text" },
  help: { type: "boolean", short: "h", help: "show help" },
} as const satisfies Record<string, OptionSpec>

export const COMMANDS = {
  inspect: {
    summary: "what the cache holds: entries, bytes, orphans, recent builds, largest entries",
    usage: "sitecache inspect [--top <n>] [--runs <n>] [--tool <name>] [--json]",
    options: {
      top: { type: "string", value: "n", help: "how many of the largest entries to list (default 10, 0 for none)" },
      runs: { type: "string", value: "n", help: "how many recent builds to list per tool (default 10)" },
      tool: { type: "string", value: "name", help: "only this tool's builds (blog, vite, eleventy, ...)" },
    },
    positionals: 0,
    description: [
      "Reports the backend and its location, the entries and bytes stored, the entries and bytes",
      "under key prefixes no build uses any more (orphans), the hit rate and time saved of the recent",
      "builds of each tool, and the largest entries (with their document when the last build knew it).",
    ],
  },
  clear: {
    summary: "delete every entry of this cache (on Redis: only its namespace)",
    usage: "sitecache clear [--yes] [--json]",
    options: {
      yes: { type: "boolean", short: "y", help: "do not ask for confirmation (required when not on a terminal)" },
    },
    positionals: 0,
    description: [
      "Deletes every entry and every build record of the configured cache. On a terminal it asks",
      "first; in scripts pass --yes. On Redis only the keys of this cache's namespace are deleted.",
    ],
  },
  prune: {
    summary: "remove entries past a size bound, unused for a while, or orphaned",
    usage: "sitecache prune [--max-size <size>] [--older-than <duration>] [--orphans] [--json]",
    options: {
      "max-size": {
        type: "string",
        value: "size",
        help: 'evict least recently used entries down to this size ("500MB", "2 GiB")',
      },
      "older-than": { type: "string", value: "duration", help: 'remove entries not used for this long ("30d", "12h")' },
      orphans: { type: "boolean", help: "remove entries under key prefixes no recorded build uses" },
    },
    positionals: 0,
    description: [
      "Removes what the options select and prints what it removed. At least one option is needed.",
      "Orphans are removed first, then old entries, then least recently used ones down to --max-size.",
    ],
  },
  verify: {
    summary: "read every entry, check header and checksum, remove damaged ones",
    usage: "sitecache verify [--dry-run] [--json]",
    options: {
      "dry-run": { type: "boolean", help: "report damaged entries without removing them" },
    },
    positionals: 0,
    description: [
      "Reads every stored entry and checks its header, length, checksum (or signature, with",
      "SITECACHE_SECRET) and payload. Damaged entries are removed. Exit code 1 when it found damage.",
      "Entries signed with a secret the command was not given are counted, never removed.",
    ],
  },
  explain: {
    summary: "why a document of the last build hit or missed",
    usage: "sitecache explain <document> [--tool <name>] [--json]",
    options: {
      tool: { type: "string", value: "name", help: "look in this tool's last build only" },
    },
    positionals: 1,
    description: [
      "For a document of the last build (a project-relative path, or a unique end of one), says",
      "whether it hit, and on a miss which part of its key changed since the build before: its",
      "content, the pipeline fingerprint and which plugin, a dependency and which file, or the key",
      "prefix. Exit code 1 when no recorded build has the document.",
    ],
  },
} as const satisfies Record<
  string,
  {
    summary: string
    usage: string
    options: Record<string, OptionSpec>
    positionals: number
    description: readonly string[]
  }
>

export type CommandName = keyof typeof COMMANDS

export interface ParsedArgs {
  readonly command: CommandName | undefined
  readonly values: Readonly<Record<string, string | boolean | undefined>>
  readonly positionals: readonly string[]
  readonly help: boolean
  readonly version: boolean
}

const ALL_OPTIONS: Record<string, { type: "string" | "boolean"; short?: string }> = {
  version: { type: "boolean" },
}
for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) ALL_OPTIONS[name] = spec
for (const command of Object.values(COMMANDS))
  for (const [name, spec] of Object.entries(command.options)) ALL_OPTIONS[name] = spec

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name)
}

/** Parse `argv` (without `node` and the script); throws `UsageError`. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof ALL_OPTIONS; allowPositionals: true; strict: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options: ALL_OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    const command = argv.find((arg) => isCommand(arg))
    // parseArgs adds advice on positionals starting with "-", which is noise here.
    const message = (error as Error).message.split(". To specify a positional")[0] as string
    const tidy = message.replace(/^Unknown option '([^']*)'/, "unknown option `$1`").replace(/\.?\n/g, ". ")
    throw new UsageError(tidy, command)
  }
  const [first, ...rest] = parsed.positionals
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (first === "help") {
    const topic = rest[0]
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command \`${topic}\``)
    return { command: topic, values, positionals: [], help: true, version: false }
  }
  if (first === undefined) {
    return { command: undefined, values, positionals: [], help: values.help === true, version: values.version === true }
  }
  if (!isCommand(first)) throw new UsageError(`unknown command \`${first}\``)
  const allowed = new Set([...Object.keys(GLOBAL_OPTIONS), ...Object.keys(COMMANDS[first].options)])
  for (const name of Object.keys(values)) {
    if (!allowed.has(name)) throw new UsageError(`\`${first}\` has no option \`--${name}\``, first)
  }
  const help = values.help === true
  if (!help && rest.length !== COMMANDS[first].positionals) {
    const expected = COMMANDS[first].positionals
    throw new UsageError(
      expected === 0
        ? `\`${first}\` takes no arguments, got ${rest.map((arg) => JSON.stringify(arg)).join(" ")}`
        : `\`${first}\` takes ${expected} argument${expected > 1 ? "s" : ""}: ${COMMANDS[first].usage}`,
      first,
    )
  }
  return { command: first, values, positionals: rest, help, version: false }
}

/** A whole number ≥ 0 from an option value; throws `UsageError`. */
export function parseCount(value: string | boolean | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== "string" || !/^\d+$/.test(value.trim())) {
    throw new UsageError(`bad value for \`--${option}\`: expected a whole number ≥ 0, got ${JSON.stringify(value)}`)
  }
  return Number(value)
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.value ? ` <${spec.value}>` : ""}`
    return [flag, spec.help] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length))
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`)
}

const CONFIG_HELP = [
  "Configuration, first found wins for each setting:",
  "  flags (--cache-backend, --cache-dir, --redis-url)",
  "  environment (SITECACHE_BACKEND, SITECACHE_DIR, SITECACHE_REDIS_URL, SITECACHE_SECRET)",
  "  in the project root: --config <file>, else sitecache.config.{js,mjs,json}, else the",
  "  `sitecache` key of package.json, else a *.config.json with a `cache` key (blog.config.json)",
  "  defaults: dir node_modules/.cache/sitecache; with no backend named, the fs or sqlite cache",
  "  found there",
  "No command creates a cache: with none where it looks, it says so (exit code 1; 0 for clear",
  "and prune) and how to point it at the cache.",
]

/** The help text of one command, or of the program. */
export function helpText(command?: CommandName): string {
  if (command === undefined) {
    const names = Object.keys(COMMANDS) as CommandName[]
    const width = Math.max(...names.map((name) => name.length))
    return [
      "sitecache: look after the build cache of a static site",
      "",
      "Usage: sitecache <command> [options]",
      "",
      "Commands:",
      ...names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`),
      "",
      "Options of every command:",
      ...optionLines({ ...GLOBAL_OPTIONS, version: { type: "boolean", help: "print the version" } }),
      "",
      ...CONFIG_HELP,
      "",
      "Exit codes: 0 done, 1 damage found (verify), document unknown (explain), no cache to look at",
      "or a cache fault, 2 a usage or configuration mistake.",
      "Run `sitecache <command> --help` for a command's options.",
      "",
    ].join("\n")
  }
  const spec = COMMANDS[command]
  const own = optionLines(spec.options)
  return [
    `sitecache ${command}: ${spec.summary}`,
    "",
    `Usage: ${spec.usage}`,
    "",
    ...spec.description,
    "",
    ...(own.length > 0 ? ["Options:", ...own, ""] : []),
    "Options of every command:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    ...CONFIG_HELP,
    "",
  ].join("\n")
}
