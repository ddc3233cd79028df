/** `sitecache inspect`: what the cache holds and how recent builds used it. */
import {
  DEFAULT_MAX_SIZE,
  describeDocument,
  formatBytes,
  formatMs,
  type RunSummary,
  readEntryHeader,
  readSweep,
  type StoreCache,
  type SweepRecord,
} from "@sitecache/core"
import { parseCount } from "../args.js"
import { type CliIO, type CommandContext, count, formatDuration, percent, print, printJson, shortTime, table } from "../output.js"
import { Largest, livePrefixes, readToolRecords, selectTool, storedEntries } from "../scan.js"
import type { Target } from "./target.js"

interface Tally {
  entries: number
  bytes: number
}

export interface LargestEntry {
  readonly key: string
  readonly prefix: string
  readonly size: number
  readonly created: number | null
  readonly expires: number | null
  readonly orphaned: boolean
  /** The document whose entry this is in the last build of `tool`, when known. */
  readonly document: string | null
  readonly tool: string | null
}

export interface RecentBuilds {
  readonly builds: number
  readonly documents: number
  readonly hits: number
  readonly misses: number
  /** hits / documents, 0..1; `null` without documents. */
  readonly hitRate: number | null
  readonly savedMs: number
  readonly bytesWritten: number
  readonly errors: number
}

function summarize(runs: readonly RunSummary[]): RecentBuilds {
  const total = { documents: 0, hits: 0, misses: 0, savedMs: 0, bytesWritten: 0, errors: 0 }
  for (const run of runs) {
    total.documents += run.documents
    total.hits += run.hits
    total.misses += run.misses
    total.savedMs += run.savedMs
    total.bytesWritten += run.bytesWritten ?? 0
    total.errors += run.errors
  }
  return { builds: runs.length, ...total, hitRate: total.documents === 0 ? null : total.hits / total.documents }
}

/** How the cache is kept bounded: its size limit, and the sweep of unused entries at the end of builds. */
export interface Limits {
  /** Bytes past which least recently used entries are evicted; `null` where the store has none (Redis: `maxmemory`). */
  readonly maxSize: number | null
  /** The sweep's `maxIdle` (the last sweep's, else this command's configuration); `null` where the store cannot sweep. */
  readonly maxIdle: number | false | null
  /** What the sweeps did; `null` before the first. */
  readonly sweep: SweepRecord | null
}

async function limitsOf(cache: StoreCache): Promise<Limits> {
  const maxSize = cache.store.maxSize
  const sweep = (await readSweep(cache)) ?? null
  return {
    maxSize: typeof maxSize === "number" ? maxSize : null,
    maxIdle: cache.store.sweep === undefined ? null : (sweep?.maxIdle ?? cache.maxIdle),
    sweep,
  }
}

function printLimits(context: CommandContext, limits: Limits): void {
  const { io } = context
  if (limits.maxSize !== null) {
    const which = limits.maxSize === DEFAULT_MAX_SIZE ? "the default; `maxSize` sets another" : "`maxSize`"
    print(io, `size limit: ${formatBytes(limits.maxSize)} (${which}), least recently used entries evicted past it`)
  }
  if (limits.maxIdle === null) return
  if (limits.maxIdle === false && limits.sweep === null) {
    print(io, "unused entries: kept (`maxIdle: false`)")
    return
  }
  const idle = limits.maxIdle === false ? "kept (`maxIdle: false`)" : `removed once unused for ${formatDuration(limits.maxIdle)}`
  print(io, `unused entries: ${idle} (swept at the end of a build, at most once a day)`)
  const { sweep } = limits
  if (sweep === null) {
    print(io, "  no sweep yet")
    return
  }
  print(
    io,
    `  last sweep ${shortTime(sweep.at)} UTC: removed ${count(sweep.removedCount, "entry", "entries")}, ${formatBytes(sweep.removedSize)}; ` +
      `${count(sweep.sweeps, "sweep")} since ${shortTime(sweep.since)} UTC: ${count(sweep.totalCount, "entry", "entries")}, ${formatBytes(sweep.totalSize)}`,
  )
}

export interface InspectRequest {
  readonly top: number
  readonly runs: number
  readonly tool: string | undefined
}

/** The options of `inspect`, checked; throws `UsageError` naming the flag. */
export function inspectRequest(values: CommandContext["values"]): InspectRequest {
  return {
    top: parseCount(values.top, "top", 10),
    runs: parseCount(values.runs, "runs", 10),
    tool: typeof values.tool === "string" ? values.tool : undefined,
  }
}

export async function inspect(
  context: CommandContext,
  cache: StoreCache,
  target: Target,
  { top, runs: recent, tool }: InspectRequest,
): Promise<number> {
  const { io } = context
  const allRecords = await readToolRecords(cache)
  const records = selectTool(allRecords, tool)
  const live = livePrefixes(cache, allRecords)
  // Entry (prefix and key) → the document of the last build it belongs to; the same key under an older prefix is an orphan.
  const documents = new Map<string, { document: string; tool: string }>()
  for (const { tool, manifest } of records) {
    for (const record of Object.values(manifest?.documents ?? {}))
      documents.set(`${manifest?.keyPrefix ?? ""}:${record.key}`, { document: describeDocument(record), tool })
  }
  const documentOf = (prefix: string, key: string) => documents.get(`${prefix}:${key}`) ?? documents.get(`:${key}`)
  const manifestPrefixes = new Set(records.map(({ manifest }) => manifest?.keyPrefix))

  const listed = cache.store.entries !== undefined
  const all: Tally = { entries: 0, bytes: 0 }
  const orphaned: Tally = { entries: 0, bytes: 0 }
  const expired: Tally = { entries: 0, bytes: 0 }
  const unreadable: Tally = { entries: 0, bytes: 0 }
  const prefixes = new Map<string, Tally>()
  const largest = new Largest<Omit<LargestEntry, "document" | "tool">>(top)
  const now = Date.now()
  if (listed) {
    for await (const { id, bytes } of storedEntries(cache, "`inspect`")) {
      const size = bytes.length
      const prefix = id.prefix.hex
      all.entries++
      all.bytes += size
      let tally = prefixes.get(prefix)
      if (tally === undefined) prefixes.set(prefix, (tally = { entries: 0, bytes: 0 }))
      tally.entries++
      tally.bytes += size
      const isOrphan = !live.has(prefix)
      if (isOrphan) {
        orphaned.entries++
        orphaned.bytes += size
      }
      let header: { created: number; expires: number } | undefined
      try {
        header = readEntryHeader(bytes)
        if (header.expires !== 0 && header.expires <= now) {
          expired.entries++
          expired.bytes += size
        }
      } catch {
        unreadable.entries++
        unreadable.bytes += size
      }
      largest.offer({
        key: id.key.hex,
        prefix,
        size,
        created: header?.created ?? null,
        expires: header === undefined || header.expires === 0 ? null : header.expires,
        orphaned: isOrphan,
      })
    }
  } else {
    const info = await cache.inspect()
    all.entries = info.entryCount
    all.bytes = info.size
    orphaned.entries = info.orphanedCount ?? 0
    orphaned.bytes = info.orphanedSize ?? 0
  }

  const limits = await limitsOf(cache)
  const tools = records.map(({ tool, runs, manifest }) => {
    const shown = recent === 0 ? [] : runs.slice(-recent)
    return {
      tool,
      lastBuild: runs[runs.length - 1]?.startedAt ?? manifest?.startedAt ?? null,
      documents: manifest === undefined ? 0 : Object.keys(manifest.documents).length,
      recorded: runs.length,
      recent: summarize(shown),
      runs: shown,
    }
  })
  const report = {
    backend: target.backend,
    name: cache.name,
    location: target.location,
    config: target.source?.file ?? null,
    entries: all.entries,
    bytes: all.bytes,
    live: { entries: all.entries - orphaned.entries, bytes: all.bytes - orphaned.bytes },
    orphaned: {
      entries: orphaned.entries,
      bytes: orphaned.bytes,
      prefixes: [...prefixes.keys()].filter((prefix) => !live.has(prefix)).length,
    },
    expired,
    unreadable,
    listed,
    limits,
    prefixes: [...prefixes].map(([prefix, tally]) => ({ prefix, ...tally, use: live.uses.get(prefix) ?? null })),
    tools,
    largest: largest.items.map((entry) => {
      const known = documentOf(entry.prefix, entry.key)
      return { ...entry, document: known?.document ?? null, tool: known?.tool ?? null }
    }),
  }
  if (context.json) {
    printJson(io, report)
    return 0
  }

  print(io, `${target.backend} cache at ${target.location}`)
  if (target.source) print(io, `config: ${target.source.file}${target.source.key ? ` (its \`${target.source.key}\` key)` : ""}`)
  print(io, `entries: ${count(report.entries, "entry", "entries")}, ${formatBytes(report.bytes)}`)
  if (listed) {
    print(io, `  in use:   ${count(report.live.entries, "entry", "entries")}, ${formatBytes(report.live.bytes)}`)
    print(
      io,
      `  orphaned: ${count(orphaned.entries, "entry", "entries")}, ${formatBytes(orphaned.bytes)}` +
        (orphaned.entries > 0
          ? ` under ${count(report.orphaned.prefixes, "older key prefix", "older key prefixes")} (\`sitecache prune --orphans\` removes them)`
          : ""),
    )
    if (expired.entries > 0)
      print(
        io,
        `  expired:  ${count(expired.entries, "entry", "entries")}, ${formatBytes(expired.bytes)} (\`prune\` removes them)`,
      )
    if (unreadable.entries > 0)
      print(
        io,
        `  damaged:  ${count(unreadable.entries, "entry", "entries")} with a bad header (\`sitecache verify\` removes them)`,
      )
  } else {
    print(io, `  orphaned: ${count(orphaned.entries, "entry", "entries")}, ${formatBytes(orphaned.bytes)}`)
    print(io, `  (${cache.name} cannot list its entries: no largest entries)`)
  }
  printLimits(context, limits)

  if (tools.length === 0) {
    print(io)
    print(io, "no recorded builds yet (adapters record one per build with `finishBuild`)")
  }
  for (const entry of tools) {
    print(io)
    const shown =
      entry.runs.length < entry.recorded ? `last ${entry.runs.length} of ${entry.recorded}` : count(entry.recorded, "build")
    print(io, `recent builds of ${entry.tool} (${shown}; the last one had ${count(entry.documents, "document")}):`)
    if (entry.runs.length > 0) {
      const rows = [...entry.runs]
        .reverse()
        .map((run) => [
          shortTime(run.startedAt),
          String(run.documents),
          String(run.hits),
          String(run.misses),
          percent(run.hits, run.documents),
          formatMs(run.savedMs),
          run.bytesWritten === undefined ? "-" : formatBytes(run.bytesWritten),
          String(run.errors),
        ])
      for (const line of table(["started (UTC)", "documents", "hits", "misses", "hit rate", "saved", "written", "errors"], rows))
        print(io, line)
      const r = entry.recent
      print(
        io,
        `  over these builds: ${percent(r.hits, r.documents)} hit rate, ~${formatMs(r.savedMs)} saved, ` +
          `${formatBytes(r.bytesWritten)} written, ${count(r.errors, "error")}`,
      )
      const last = entry.runs.at(-1)
      if (last !== undefined) printProfile(io, last)
    }
  }

  if (report.largest.length > 0) {
    print(io)
    print(io, `largest entries:`)
    const rows = report.largest.map((entry) => [
      formatBytes(entry.size),
      entry.key,
      entry.document ??
        (entry.orphaned
          ? "(orphaned)"
          : live.uses.get(entry.prefix) === "build records"
            ? "(build record)"
            : manifestPrefixes.has(entry.prefix)
              ? "(not a document of the last build)"
              : ""),
    ])
    for (const line of table(["size", "key", "document"], rows)) print(io, line)
  }
  return 0
}

/**
 * Where the last build's hits spent their time, per document, beside the
 * build's whole time per document: whether the cache or the site is the cost.
 */
function printProfile(io: CliIO, run: RunSummary): void {
  const profile = run.profile
  if (profile === undefined || run.documents === 0) return
  const us = (value: number) => (value < 1000 ? `${value.toFixed(1)} µs` : `${(value / 1000).toFixed(2)} ms`)
  const own = profile.keyUs + profile.readUs + profile.depsUs + profile.restoreUs
  const perDocument = (run.durationMs * 1000) / run.documents
  print(io, `  where a hit's time went in the last build (${count(profile.hits, "hit")}, per document):`)
  print(
    io,
    `    key ${us(profile.keyUs)}, entry read ${us(profile.readUs)} (store, checks, decode), ` +
      `dependency check ${us(profile.depsUs)}, restore ${us(profile.restoreUs)}: ${us(own)} in the cache`,
  )
  print(
    io,
    `    the whole build: ${us(perDocument)} per document (the rest is the site's: reading sources, rendering misses, writing pages)`,
  )
}
