/**
 * A tiered store: several stores, fastest first (`["memory", "sqlite", "redis"]`).
 * `get` tries each tier in order and copies a hit into the faster tiers;
 * writes go to every tier. Entries move between tiers as raw stored bytes, so
 * a copy costs no re-encoding and keeps its checksum or signature.
 */

import { readEntryHeader } from "./entry.js"
import type { Key } from "./key.js"
import type { EntryId, EntryMeta, PruneOptions, PruneResult, Store, StoreStats } from "./store.js"

export class TieredStore implements Store {
  readonly name: string
  readonly tiers: readonly Store[]

  constructor(tiers: readonly Store[]) {
    this.tiers = tiers
    this.name = `tiered [${tiers.map((tier) => tier.name).join(" → ")}]`
  }

  async get(id: EntryId): Promise<Uint8Array | undefined> {
    for (let i = 0; i < this.tiers.length; i++) {
      const bytes = await (this.tiers[i] as Store).get(id)
      if (bytes !== undefined) {
        if (i > 0) await this.#copyUp(id, bytes, i)
        return bytes
      }
    }
    return undefined
  }

  async add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): Promise<boolean> {
    let added = false
    for (const tier of this.tiers) if (await tier.add(id, bytes, meta, now)) added = true
    return added
  }

  async set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): Promise<void> {
    for (const tier of this.tiers) await tier.set(id, bytes, meta)
  }

  async delete(id: EntryId): Promise<boolean> {
    let removed = false
    for (const tier of this.tiers) if (await tier.delete(id)) removed = true
    return removed
  }

  async stats(prefix: Key): Promise<StoreStats> {
    const tiers = await Promise.all(this.tiers.map(async (tier) => ({ name: tier.name, ...(await tier.stats(prefix)) })))
    const last = tiers[tiers.length - 1] as StoreStats
    return {
      size: last.size,
      entryCount: last.entryCount,
      evictions: tiers.reduce((sum, tier) => sum + (tier.evictions ?? 0), 0),
      ...(last.orphanedCount === undefined ? {} : { orphanedCount: last.orphanedCount }),
      ...(last.orphanedSize === undefined ? {} : { orphanedSize: last.orphanedSize }),
      tiers,
    }
  }

  async persist(): Promise<void> {
    for (const tier of this.tiers) await tier.persist?.()
  }

  async clear(): Promise<void> {
    for (const tier of this.tiers) await tier.clear()
  }

  async close(): Promise<void> {
    for (const tier of this.tiers) await tier.close()
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    let removedCount = 0
    let removedSize = 0
    for (const tier of this.tiers) {
      const result = await tier.prune?.(options)
      removedCount += result?.removedCount ?? 0
      removedSize += result?.removedSize ?? 0
    }
    return { removedCount, removedSize }
  }

  async #copyUp(id: EntryId, bytes: Uint8Array, found: number): Promise<void> {
    let header: { created: number; expires: number }
    try {
      header = readEntryHeader(bytes)
    } catch {
      return // the cache will find it corrupt and remove it
    }
    for (let i = 0; i < found; i++) await (this.tiers[i] as Store).add(id, bytes, header, header.created)
  }
}

export function createTieredStore(stores: Store[]): Store {
  return new TieredStore(stores)
}
