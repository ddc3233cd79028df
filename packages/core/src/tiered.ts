/**
 * A tiered store: several stores, fastest first (`["memory", "sqlite", "redis"]`).
 *
 * - `get` tries each tier in order and copies a hit into the faster tiers.
 *   Entries move between tiers as stored bytes, so a copy costs no
 *   re-encoding and keeps its checksum or signature.
 * - `put` writes the local tiers at once and the remote ones (stores that
 *   declare `remote: true`, such as Redis) through a bounded write-behind
 *   queue: the build never waits for the network unless the queue is full.
 *   `persist()` (and `close()`) drain the queue.
 * - A fault in one tier (Redis down, a full disk) never fails the others: it
 *   is reported to the cache (one warning per cause, an `errors` count) and
 *   the operation goes on with the remaining tiers. In `strict` mode it throws.
 * - `prefetch(ids)` warms the faster tiers from the slower ones in one batch
 *   per tier (the keys of the previous build, from its manifest: see
 *   `prefetchFromManifest`).
 * - In `read-only` mode only volatile tiers (memory) are warmed: nothing is
 *   written to a tier that outlives the process, or that others share.
 */

import { describeCause, faultCause } from "./causes.js"
import { readEntryHeader } from "./entry.js"
import type { Key } from "./key.js"
import { MemoryStore } from "./memory.js"
import type {
  EntryId,
  EntryMeta,
  PruneOptions,
  PruneResult,
  Store,
  StoredEntry,
  StoreOwner,
  StoreStats,
  SweepOptions,
} from "./store.js"
import type { CacheMode } from "./types.js"
import { type Entry, slot, WriteBehindQueue } from "./write-behind.js"

export interface TieredStoreOptions {
  /** Overrides the mode of the cache the store is attached to. */
  readonly mode?: CacheMode
  /** Which tiers are written behind a queue. Default: stores that declare `remote: true`. */
  readonly remote?: (store: Store, index: number) => boolean
  /** Entries queued for a remote tier before `put` waits for room. Default 1000. */
  readonly queueEntries?: number
  /** Bytes queued for a remote tier before `put` waits for room. Default 64 MiB. */
  readonly queueBytes?: number
  /** Entries per write to a remote tier. Default 100. */
  readonly batchSize?: number
}

/** A fault of one tier, named after it; keeps the cause's `code` so the cache warns once per cause. */
class TierFaultError extends Error {
  override readonly name = "TierFaultError"
  readonly code: string
  constructor(tier: string, cause: unknown) {
    super(`${tier}: ${describeCause(cause)}`, { cause })
    this.code = faultCause(cause)
  }
}

export class TieredStore implements Store {
  readonly name: string
  readonly tiers: readonly Store[]
  /** Per tier: written behind a queue. */
  readonly remoteTiers: readonly boolean[]
  readonly #options: TieredStoreOptions
  readonly #queues: (WriteBehindQueue | undefined)[]
  #owner: StoreOwner | undefined
  /** Present when every tier can sweep (a Redis tier expires entries itself). */
  readonly sweep?: (options: SweepOptions) => Promise<PruneResult>

  constructor(tiers: readonly Store[], options: TieredStoreOptions = {}) {
    if (tiers.length === 0) throw new Error("TieredStore: no tiers")
    this.tiers = tiers
    this.#options = options
    this.name = `tiered [${tiers.map((tier) => tier.name).join(" → ")}]`
    this.remoteTiers = tiers.map((tier, i) => (options.remote ? options.remote(tier, i) : tier.remote === true))
    // With no local tier, a queue would only lose the answer of put-if-absent: write at once.
    const anyLocal = this.remoteTiers.includes(false)
    this.#queues = tiers.map((tier, i) =>
      this.remoteTiers[i] && anyLocal
        ? new WriteBehindQueue(
            async (entries, now) => {
              if (tier.addMany) await tier.addMany(entries, now)
              else for (const [id, bytes, meta] of entries) await tier.add(id, bytes, meta, now)
            },
            (error) => this.#fault(i, "put", error, false),
            {
              entries: options.queueEntries ?? 1000,
              bytes: options.queueBytes ?? 64 * 1024 * 1024,
              batchSize: options.batchSize ?? 100,
            },
          )
        : undefined,
    )
    // Swept only when every tier can be: an entry left in one tier would be read back through the others.
    if (tiers.every((tier) => tier.sweep !== undefined)) this.sweep = (sweep) => this.#sweep(sweep)
  }

  async #sweep(options: SweepOptions): Promise<PruneResult> {
    const results = await this.#each("sweep", (tier) => tier.sweep?.(options))
    let removedCount = 0
    let removedSize = 0
    for (const result of results) {
      removedCount += result?.removedCount ?? 0
      removedSize += result?.removedSize ?? 0
    }
    return { removedCount, removedSize }
  }

  /** The first cache built on this store reports its faults and sets its mode. */
  attach(owner: StoreOwner): void {
    this.#owner ??= owner
  }

  /** Entries waiting to be written to remote tiers. */
  get queued(): number {
    return this.#queues.reduce((sum, queue) => sum + (queue?.size ?? 0), 0)
  }

  get #mode(): CacheMode {
    return this.#options.mode ?? this.#owner?.mode ?? "read-write"
  }

  get(id: EntryId): Promise<Uint8Array | undefined> {
    return this.#lookup([id]).then(({ bytes }) => bytes[0])
  }

  async getMany(ids: readonly EntryId[]): Promise<(Uint8Array | undefined)[]> {
    return (await this.#lookup(ids)).bytes
  }

  /** Copy the entries of `ids` that the faster tiers lack from the slower ones; returns how many were found there. */
  async prefetch(ids: readonly EntryId[]): Promise<number> {
    return (await this.#lookup(ids)).copied
  }

  async add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): Promise<boolean> {
    return (await this.addMany([[id, bytes, meta]], now))[0] ?? false
  }

  /**
   * Local tiers at once (an entry is added when any local tier added it);
   * remote tiers behind the queue, unless a local tier already held the entry.
   */
  async addMany(entries: readonly Entry[], now: number): Promise<boolean[]> {
    let added: boolean[] | undefined
    for (let t = 0; t < this.tiers.length; t++) {
      if (this.#queues[t] !== undefined) continue
      try {
        const result = await this.#addTo(t, entries, now)
        added = added === undefined ? result : added.map((value, i) => value || (result[i] ?? false))
      } catch (error) {
        this.#fault(t, "put", error)
      }
    }
    const behind = added === undefined ? entries : entries.filter((_, i) => added?.[i] === true)
    for (const queue of this.#queues) if (queue !== undefined && behind.length > 0) await queue.push(behind, now)
    return added ?? entries.map(() => false)
  }

  async set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): Promise<void> {
    await this.#unqueue([id])
    await this.#each("set", (tier) => tier.set(id, bytes, meta))
  }

  async delete(id: EntryId): Promise<boolean> {
    await this.#unqueue([id])
    const removed = await this.#each("delete", (tier) => tier.delete(id))
    return removed.some((value) => value === true)
  }

  async deleteMany(ids: readonly EntryId[]): Promise<number> {
    await this.#unqueue(ids)
    const counts = await this.#each("delete", async (tier) => {
      if (tier.deleteMany) return tier.deleteMany(ids)
      let removed = 0
      for (const id of ids) if (await tier.delete(id)) removed++
      return removed
    })
    // The most any one tier removed: the same entry in two tiers is one entry.
    return Math.max(0, ...counts.map((count) => (typeof count === "number" ? count : 0)))
  }

  /** Each tier's figures under `tiers`; the totals are the last (slowest, largest) tier's that answered. */
  async stats(prefix: Key): Promise<StoreStats> {
    const results = await this.#each("inspect", (tier) => tier.stats(prefix))
    const tiers = this.tiers.map((tier, i) => {
      const stats = results[i] as StoreStats | undefined
      return { name: tier.name, ...(stats ?? { size: 0, entryCount: 0 }) }
    })
    const answered = results.filter((stats): stats is StoreStats => stats !== undefined)
    const last = answered[answered.length - 1] ?? { size: 0, entryCount: 0 }
    return {
      size: last.size,
      entryCount: last.entryCount,
      evictions: answered.reduce((sum, stats) => sum + (stats.evictions ?? 0), 0),
      ...(last.orphanedCount === undefined ? {} : { orphanedCount: last.orphanedCount }),
      ...(last.orphanedSize === undefined ? {} : { orphanedSize: last.orphanedSize }),
      tiers,
    }
  }

  /** Drain the write-behind queues, then persist every tier. */
  async persist(): Promise<void> {
    await Promise.all(this.#queues.map((queue) => queue?.drain()))
    await this.#each("persist", (tier) => tier.persist?.())
  }

  async clear(): Promise<void> {
    for (const queue of this.#queues) queue?.clear()
    await Promise.all(this.#queues.map((queue) => queue?.drain()))
    await this.#each("clear", (tier) => tier.clear())
  }

  async close(): Promise<void> {
    await Promise.all(this.#queues.map((queue) => queue?.drain()))
    await this.#each("close", (tier) => tier.close(), false)
  }

  /** Every entry of every tier, each id once (for `verify`). */
  async *entries(): AsyncIterable<StoredEntry> {
    const seen = new Set<string>()
    for (let t = 0; t < this.tiers.length; t++) {
      const tier = this.tiers[t] as Store
      if (!tier.entries) continue
      try {
        for await (const entry of tier.entries()) {
          const name = slot(entry.id)
          if (seen.has(name)) continue
          seen.add(name)
          yield entry
        }
      } catch (error) {
        this.#fault(t, "entries", error)
      }
    }
  }

  /** Prune every tier; the result is the last (slowest, largest) tier's that answered, as in `stats`. */
  async prune(options: PruneOptions): Promise<PruneResult> {
    const results = await this.#each("prune", (tier) => tier.prune?.(options))
    const answered = results.filter((result): result is PruneResult => result !== undefined)
    return answered[answered.length - 1] ?? { removedCount: 0, removedSize: 0 }
  }

  /**
   * Read `ids` tier by tier (each tier is asked only for what the faster ones
   * lacked, in one batch), then copy what slower tiers had into the faster
   * tiers that may be written.
   */
  async #lookup(ids: readonly EntryId[]): Promise<{ bytes: (Uint8Array | undefined)[]; copied: number }> {
    // No holes: callers `map` over the result.
    const bytes = new Array<Uint8Array | undefined>(ids.length).fill(undefined)
    const foundIn = new Array<number>(ids.length).fill(-1)
    let missing = ids.map((_, i) => i)
    for (let t = 0; t < this.tiers.length && missing.length > 0; t++) {
      let found: (Uint8Array | undefined)[]
      try {
        found = await this.#read(
          t,
          missing.map((i) => ids[i] as EntryId),
        )
      } catch (error) {
        this.#fault(t, "get", error)
        continue
      }
      const still: number[] = []
      missing.forEach((position, j) => {
        const value = found[j]
        if (value === undefined) still.push(position)
        else {
          bytes[position] = value
          foundIn[position] = t
        }
      })
      missing = still
    }
    let copied = 0
    for (let t = 1; t < this.tiers.length; t++) {
      const positions = foundIn.flatMap((tier, i) => (tier === t ? [i] : []))
      if (positions.length === 0) continue
      copied += positions.length
      const entries: Entry[] = []
      for (const position of positions) {
        try {
          const header = readEntryHeader(bytes[position] as Uint8Array)
          entries.push([ids[position] as EntryId, bytes[position] as Uint8Array, header])
        } catch {
          // A malformed entry is the cache's to find corrupt and remove: not copied.
        }
      }
      if (entries.length > 0) await this.#copy(entries, t)
    }
    return { bytes, copied }
  }

  /** Copy entries found in tier `from` into the faster tiers that may be written. */
  async #copy(entries: readonly Entry[], from: number): Promise<void> {
    const readOnly = this.#mode === "read-only"
    const now = Date.now()
    for (let t = 0; t < from; t++) {
      const tier = this.tiers[t] as Store
      if (readOnly && !(tier instanceof MemoryStore)) continue
      const queue = this.#queues[t]
      if (queue !== undefined) {
        await queue.push(entries, now)
        continue
      }
      try {
        await this.#addTo(t, entries, now)
      } catch (error) {
        this.#fault(t, "put", error)
      }
    }
  }

  /** Drop queued writes of `ids` and wait out the batches in flight that hold any of them. */
  async #unqueue(ids: readonly EntryId[]): Promise<void> {
    for (const queue of this.#queues) {
      if (queue === undefined || queue.size === 0) continue
      for (const id of ids) await queue.remove(id)
    }
  }

  async #read(t: number, ids: readonly EntryId[]): Promise<(Uint8Array | undefined)[]> {
    const tier = this.tiers[t] as Store
    if (ids.length === 1) return [await tier.get(ids[0] as EntryId)]
    if (tier.getMany) return tier.getMany(ids)
    return Promise.all(ids.map((id) => tier.get(id)))
  }

  async #addTo(t: number, entries: readonly Entry[], now: number): Promise<boolean[]> {
    const tier = this.tiers[t] as Store
    if (entries.length > 1 && tier.addMany) return tier.addMany(entries, now)
    const added: boolean[] = []
    for (const [id, bytes, meta] of entries) added.push(await tier.add(id, bytes, meta, now))
    return added
  }

  /** Run `action` on every tier in order; a tier's fault is reported and its result is `undefined`. */
  async #each<T>(operation: string, action: (tier: Store) => T | Promise<T>, mayThrow = true): Promise<(T | undefined)[]> {
    const results: (T | undefined)[] = []
    for (let t = 0; t < this.tiers.length; t++) {
      try {
        results.push(await action(this.tiers[t] as Store))
      } catch (error) {
        this.#fault(t, operation, error, mayThrow)
        results.push(undefined)
      }
    }
    return results
  }

  /** Report a tier's fault to the cache (strict caches get it thrown), and go on with the other tiers. */
  #fault(t: number, operation: string, error: unknown, mayThrow = true): void {
    const fault = new TierFaultError((this.tiers[t] as Store).name, error)
    if (this.#owner === undefined) return // no cache attached: nobody to tell
    if (this.#owner.strict && mayThrow) throw fault
    this.#owner.fault(operation, fault)
  }
}

/** What `createCache` calls for `backend: [...]`: the stores, fastest first, and the resolved configuration. */
export function createTieredStore(stores: Store[], config?: { readonly mode?: string }): Store {
  const mode = config?.mode
  return new TieredStore(stores, mode === "read-only" || mode === "write-only" || mode === "read-write" ? { mode } : {})
}
