/**
 * `main(argv, io)`: run one `sitecache` command and return its exit code.
 *
 * Exit codes: 0 done (`clear` and `prune` also when there is no cache);
 * 1 damage found (`verify`), a document not found (`explain`), no cache to
 * look at (`inspect`, `verify`, `explain`), a declined confirmation, or a
 * cache fault (Redis down, disk unreadable); 2 a usage or configuration
 * mistake. Errors go to stderr, starting with `sitecache`.
 */
import { readFileSync } from "node:fs"
import { BackendMissingError, BadOptionError, SitecacheError } from "@sitecache/core"
import { type CommandName, helpText, parseCommandLine, UsageError } from "./args.js"
import { clear } from "./commands/clear.js"
import { explain } from "./commands/explain.js"
import { type InspectRequest, inspect, inspectRequest } from "./commands/inspect.js"
import { prune, pruneRequest } from "./commands/prune.js"
import { verify } from "./commands/verify.js"
import { loadConfig, namingFile } from "./config.js"
import { commandMode, notFoundMessage, type OpenedTarget, openTargets } from "./open.js"
import { type CliIO, type CommandContext, printJson } from "./output.js"

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
  return pkg.version
}

function fail(io: CliIO, message: string, command?: string): void {
  io.stderr.write(`${message.startsWith("sitecache") ? message : `sitecache${command ? ` ${command}` : ""}: ${message}`}\n`)
}

async function run(command: CommandName, context: CommandContext): Promise<number> {
  const { io, values } = context
  // Check option values before opening anything.
  const request = command === "prune" ? pruneRequest(values) : undefined
  const inspection = command === "inspect" ? inspectRequest(values) : undefined
  const cli = await loadConfig({ values, env: io.env, cwd: io.cwd, allTiers: command === "clear" || command === "prune" })
  const warnings = new Set<string>()
  const onWarning = (message: string) => {
    if (!warnings.has(message)) io.stderr.write(`warning: ${message}\n`)
    warnings.add(message)
  }
  let found: Awaited<ReturnType<typeof openTargets>>
  try {
    found = await openTargets(cli, commandMode(command, values), onWarning)
  } catch (error) {
    throw namingFile(error, cli.source)
  }
  const opened: OpenedTarget[] = found.opened
  try {
    if (opened.length === 0) {
      // Nothing to look at, and nothing was created: say where the command looked.
      if (context.json) {
        printJson(io, {
          found: false,
          looked: found.missing.map((error) => ({ backend: error.backend, location: error.location })),
          config: cli.source?.file ?? null,
        })
      }
      io.stderr.write(`${notFoundMessage(command, cli, found)}\n`)
      // There is nothing to clear or prune: done. There is nothing to inspect, verify or explain: not done.
      return command === "clear" || command === "prune" ? 0 : 1
    }
    for (const error of found.missing) onWarning(`${error.message.replace(/^sitecache: /, "")}: skipped (nothing was created)`)
    const [first] = opened
    if (first === undefined) return 2
    switch (command) {
      case "inspect":
        return await inspect(context, first.cache, first.target, inspection as InspectRequest)
      case "clear":
        return await clear(context, opened)
      case "prune":
        return await prune(context, opened, request as NonNullable<typeof request>)
      case "verify":
        return await verify(context, first.cache, first.target)
      case "explain":
        return await explain(context, first.cache, cli.resolved.root)
    }
  } finally {
    await Promise.allSettled(opened.map(({ cache }) => cache.close()))
  }
}

/** Run the command line `argv` (without `node` and the script) and return the exit code. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let command: CommandName | undefined
  try {
    const parsed = parseCommandLine(argv)
    command = parsed.command
    if (parsed.version) {
      io.stdout.write(`${version()}\n`)
      return 0
    }
    if (parsed.help || command === undefined) {
      ;(parsed.help ? io.stdout : io.stderr).write(helpText(command))
      return parsed.help ? 0 : 2
    }
    return await run(command, { io, json: parsed.values.json === true, values: parsed.values, positionals: parsed.positionals })
  } catch (error) {
    if (error instanceof UsageError) {
      const cmd = error.command ?? command
      fail(io, `${error.message} (see \`sitecache${cmd ? ` ${cmd}` : ""} --help\`)`, cmd)
      return 2
    }
    if (error instanceof BadOptionError || error instanceof BackendMissingError) {
      fail(io, error.message, command)
      return 2
    }
    if (error instanceof SitecacheError) {
      fail(io, error.message, command)
      return 1
    }
    const detail =
      error instanceof Error ? (io.env.SITECACHE_DEBUG ? (error.stack ?? error.message) : error.message) : String(error)
    fail(io, detail, command)
    return 1
  }
}
