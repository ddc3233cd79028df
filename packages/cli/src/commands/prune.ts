/** `sitecache prune`: remove orphaned, old, and least recently used entries. */
import { type EntryId, formatBytes, parseDuration, parseSize, type StoreCache } from "@sitecache/core"
import { UsageError } from "../args.js"
import { type CommandContext, count, formatDuration, print, printJson } from "../output.js"
import { livePrefixes, readToolRecords, removeEntries, storedEntries } from "../scan.js"
import type { Target } from "./target.js"

export interface PruneRequest {
  readonly maxSize?: number
  readonly olderThan?: number
  readonly orphans: boolean
}

/** The options of `prune`, checked; throws `UsageError` or `BadOptionError` naming the flag. */
export function pruneRequest(values: CommandContext["values"]): PruneRequest {
  const maxSize = typeof values["max-size"] === "string" ? parseSize(values["max-size"], "--max-size") : undefined
  const olderThan = typeof values["older-than"] === "string" ? parseDuration(values["older-than"], "--older-than") : undefined
  const orphans = values.orphans === true
  if (maxSize === undefined && olderThan === undefined && !orphans) {
    throw new UsageError("`prune` needs at least one of `--max-size`, `--older-than`, `--orphans`", "prune")
  }
  return { ...(maxSize === undefined ? {} : { maxSize }), ...(olderThan === undefined ? {} : { olderThan }), orphans }
}

async function pruneOrphans(cache: StoreCache): Promise<{ removedCount: number; removedSize: number; prefixes: number }> {
  const live = livePrefixes(cache, await readToolRecords(cache))
  const orphans: EntryId[] = []
  const prefixes = new Set<string>()
  let size = 0
  for await (const { id, bytes } of storedEntries(cache, "`prune --orphans`")) {
    if (live.has(id.prefix.hex)) continue
    orphans.push(id)
    prefixes.add(id.prefix.hex)
    size += bytes.length
  }
  const removed = await removeEntries(cache, orphans)
  // Sizes are those seen while listing; an entry removed meanwhile by another process is not counted.
  return {
    removedCount: removed,
    removedSize: removed === orphans.length ? size : Math.round((size * removed) / orphans.length),
    prefixes: prefixes.size,
  }
}

export async function prune(
  context: CommandContext,
  caches: readonly { cache: StoreCache; target: Target }[],
  request: PruneRequest,
): Promise<number> {
  const { io } = context
  const results = []
  for (const { cache, target } of caches) {
    if (cache.store.prune === undefined && (request.maxSize !== undefined || request.olderThan !== undefined)) {
      throw new UsageError(`${cache.name} cannot prune by size or age`, "prune")
    }
    const before = await cache.inspect()
    const orphans = request.orphans ? await pruneOrphans(cache) : undefined
    const bounded =
      request.maxSize !== undefined || request.olderThan !== undefined
        ? await cache.prune({
            ...(request.maxSize === undefined ? {} : { maxSize: request.maxSize }),
            ...(request.olderThan === undefined ? {} : { olderThan: request.olderThan }),
          })
        : undefined
    await cache.persist()
    const after = await cache.inspect()
    results.push({
      backend: target.backend,
      location: target.location,
      removedCount: (orphans?.removedCount ?? 0) + (bounded?.removedCount ?? 0),
      removedSize: (orphans?.removedSize ?? 0) + (bounded?.removedSize ?? 0),
      orphans: orphans ?? null,
      sizeAndAge: bounded ?? null,
      before: { entries: before.entryCount, bytes: before.size },
      after: { entries: after.entryCount, bytes: after.size },
    })
  }
  if (context.json) {
    printJson(io, {
      request: { maxSize: request.maxSize ?? null, olderThan: request.olderThan ?? null, orphans: request.orphans },
      pruned: results,
    })
    return 0
  }
  for (const result of results) {
    print(io, `pruned the ${result.backend} cache at ${result.location}:`)
    if (result.orphans) {
      print(
        io,
        `  orphans: removed ${count(result.orphans.removedCount, "entry", "entries")}, ${formatBytes(result.orphans.removedSize)}` +
          ` under ${count(result.orphans.prefixes, "older key prefix", "older key prefixes")}`,
      )
    }
    if (result.sizeAndAge) {
      const criteria = [
        request.olderThan === undefined ? undefined : `unused for ${formatDuration(request.olderThan)}`,
        request.maxSize === undefined ? undefined : `over ${formatBytes(request.maxSize)}, least recently used first`,
      ].filter(Boolean)
      print(
        io,
        `  ${criteria.join(", then ")}: removed ${count(result.sizeAndAge.removedCount, "entry", "entries")}, ${formatBytes(result.sizeAndAge.removedSize)}`,
      )
    }
    print(
      io,
      `  total: removed ${count(result.removedCount, "entry", "entries")}, ${formatBytes(result.removedSize)}; ` +
        `now ${count(result.after.entries, "entry", "entries")}, ${formatBytes(result.after.bytes)}`,
    )
  }
  return 0
}
