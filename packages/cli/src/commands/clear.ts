/** `sitecache clear`: delete every entry of the cache (on Redis, only its namespace). */
import { createInterface } from "node:readline/promises"
import { formatBytes, type StoreCache } from "@sitecache/core"
import { UsageError } from "../args.js"
import { type CliIO, type CommandContext, count, print, printJson } from "../output.js"
import type { Target } from "./target.js"

async function confirm(io: CliIO, question: string): Promise<boolean> {
  const prompt = createInterface({ input: io.stdin, output: io.stderr, terminal: false })
  try {
    const answer = await prompt.question(question)
    return /^\s*y(es)?\s*$/i.test(answer)
  } finally {
    prompt.close()
  }
}

export async function clear(context: CommandContext, caches: readonly { cache: StoreCache; target: Target }[]): Promise<number> {
  const { io } = context
  const before = await Promise.all(caches.map(({ cache }) => cache.inspect()))
  if (context.values.yes !== true) {
    if (io.stdin.isTTY !== true) {
      throw new UsageError("`clear` deletes every entry: pass `--yes` to confirm when not on a terminal", "clear")
    }
    const what = caches
      .map(
        ({ target }, i) =>
          `${target.backend} cache at ${target.location} (${count(before[i]?.entryCount ?? 0, "entry", "entries")})`,
      )
      .join(" and ")
    if (!(await confirm(io, `Delete every entry of the ${what}? [y/N] `))) {
      io.stderr.write("nothing deleted\n")
      return 1
    }
  }
  const cleared = []
  for (const [i, { cache, target }] of caches.entries()) {
    await cache.clear()
    const after = await cache.inspect()
    const info = before[i] ?? after
    cleared.push({
      backend: target.backend,
      location: target.location,
      removedCount: Math.max(0, info.entryCount - after.entryCount),
      removedSize: Math.max(0, info.size - after.size),
      entries: after.entryCount,
      bytes: after.size,
    })
  }
  if (context.json) {
    printJson(io, { cleared })
    return 0
  }
  for (const entry of cleared) {
    print(
      io,
      `cleared the ${entry.backend} cache at ${entry.location}: removed ${count(entry.removedCount, "entry", "entries")}, ${formatBytes(entry.removedSize)}`,
    )
  }
  return 0
}
