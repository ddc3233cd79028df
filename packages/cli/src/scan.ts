/**
 * Reading what a cache holds: the live key prefixes (the ones builds use),
 * and one pass over every stored entry (`Store.entries()`).
 */
import {
  type BuildManifest,
  CacheFaultError,
  derivePrefix,
  type EntryId,
  RECORDS_KEY_PREFIX,
  type RunSummary,
  readManifest,
  readRuns,
  readTools,
  type StoreCache,
  type StoredEntry,
} from "@sitecache/core"
import { UsageError } from "./args.js"

export interface ToolRecords {
  readonly tool: string
  /** Oldest first. */
  readonly runs: readonly RunSummary[]
  readonly manifest: BuildManifest | undefined
}

/** The build records of every tool that recorded builds in this cache. */
export async function readToolRecords(cache: StoreCache): Promise<ToolRecords[]> {
  const tools = await readTools(cache)
  return Promise.all(
    tools.map(async (tool) => ({ tool, runs: await readRuns(cache, tool), manifest: await readManifest(cache, tool) })),
  )
}

/** The records of `only` (a `--tool` value), or all; throws `UsageError` for a tool with no recorded build. */
export function selectTool(records: readonly ToolRecords[], only: string | undefined): readonly ToolRecords[] {
  if (only === undefined) return records
  const selected = records.filter((entry) => entry.tool === only)
  if (selected.length === 0) {
    const tools = records.map((entry) => entry.tool)
    throw new UsageError(
      `bad value for \`--tool\`: no build of ${JSON.stringify(only)} is recorded in this cache${
        tools.length > 0 ? `; recorded tools: ${tools.join(", ")}` : ""
      }`,
    )
  }
  return selected
}

export interface LivePrefixes {
  /** Hex prefix → what uses it. */
  readonly uses: ReadonlyMap<string, string>
  has(prefix: string): boolean
}

/**
 * The prefixes builds use: the build records', the configured one, and the
 * one of each tool's last recorded build. Entries under any other prefix are
 * orphans: a newer adapter, codec or configuration hid them for good.
 */
export function livePrefixes(cache: StoreCache, records: readonly ToolRecords[]): LivePrefixes {
  const uses = new Map<string, string>()
  uses.set(derivePrefix(cache.codec, RECORDS_KEY_PREFIX).hex, "build records")
  uses.set(cache.keyPrefix.hex, "configured key prefix")
  for (const { tool, runs, manifest } of records) {
    const prefix = runs[runs.length - 1]?.keyPrefix ?? manifest?.keyPrefix
    if (prefix !== undefined) uses.set(prefix, uses.has(prefix) ? `${uses.get(prefix)}, ${tool}` : tool)
  }
  return { uses, has: (prefix) => uses.has(prefix) }
}

/** Every stored entry; throws a `UsageError` when the backend cannot list them. */
export async function* storedEntries(cache: StoreCache, purpose: string): AsyncGenerator<StoredEntry> {
  const { store } = cache
  if (store.entries === undefined) throw new UsageError(`${cache.name} cannot list its entries, which ${purpose} needs`)
  try {
    for await (const entry of store.entries()) yield entry
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new CacheFaultError(cache.name, "entries", error)
  }
}

/** Remove entries by id (after a scan: some stores cannot write while listing). */
export async function removeEntries(cache: StoreCache, ids: readonly EntryId[]): Promise<number> {
  const { store } = cache
  try {
    if (store.deleteMany !== undefined) {
      let removed = 0
      for (let i = 0; i < ids.length; i += 500) removed += await store.deleteMany(ids.slice(i, i + 500))
      return removed
    }
    let removed = 0
    for (const id of ids) if (await store.delete(id)) removed++
    return removed
  } catch (error) {
    throw new CacheFaultError(cache.name, "delete", error)
  }
}

/** Keeps the `limit` largest items seen, largest first. */
export class Largest<T extends { readonly size: number }> {
  readonly limit: number
  #items: T[] = []
  constructor(limit: number) {
    this.limit = limit
  }
  offer(item: T): void {
    if (this.limit === 0) return
    const items = this.#items
    if (items.length === this.limit && (items[items.length - 1] as T).size >= item.size) return
    let at = items.length
    while (at > 0 && (items[at - 1] as T).size < item.size) at--
    items.splice(at, 0, item)
    if (items.length > this.limit) items.pop()
  }
  get items(): readonly T[] {
    return this.#items
  }
}
