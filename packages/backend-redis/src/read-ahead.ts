/**
 * Reading ahead: the entries a build is about to read, fetched in `MGET`
 * batches while it starts, so that each document's read is a lookup in
 * memory instead of a round trip to Redis.
 *
 * A build knows which entries it will read: the last build of the same tool
 * recorded every document's key in its manifest (see core's
 * `prefetchFromManifest`). `start(ids)` fetches them in batches, a few in
 * flight at once, without making the build wait; `take(id)` hands an entry
 * over once and forgets it. Bounded: fetched entries not yet taken hold at
 * most `maxBytes`, and the next batch waits until the build has taken enough
 * of them. A failed batch is no fault of the build: its entries are read the
 * ordinary way when asked for.
 */
import type { EntryId } from "@sitecache/core"

/** What `take` returns for an entry whose batch failed: read it the ordinary way. */
export const NOT_READ = Symbol("not read ahead")

type Value = Uint8Array | undefined | typeof NOT_READ

interface Slot {
  /** Set when its batch has answered. */
  value?: Value
  readonly arrived: Promise<Value>
}

export interface ReadAheadOptions {
  /** Reads the entries of `ids` in as few round trips as the store can (its `MGET` batches). */
  readonly fetch: (ids: readonly EntryId[]) => Promise<(Uint8Array | undefined)[]>
  /** Entries per batch. */
  readonly batchSize: number
  /** Batches in flight at once. */
  readonly window: number
  /** Bytes of fetched entries not yet taken, past which the next batch waits. Default 64 MiB. */
  readonly maxBytes?: number
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

export class ReadAhead {
  readonly #options: Required<ReadAheadOptions>
  readonly #slots = new Map<string, Slot>()
  /** Bytes of entries that have arrived and are not taken yet. */
  #held = 0
  #waiting: (() => void)[] = []
  /** Bumped by `clear`: batches of an earlier generation keep nothing. */
  #generation = 0

  constructor(options: ReadAheadOptions) {
    this.#options = { maxBytes: DEFAULT_MAX_BYTES, ...options }
  }

  /** Entries announced and not taken yet. */
  get size(): number {
    return this.#slots.size
  }

  /**
   * Fetch the entries of `ids` in the background; returns how many it will
   * read ahead (ids already announced and duplicates are counted once).
   */
  start(ids: readonly EntryId[]): number {
    const fresh: { id: EntryId; name: string; slot: Slot; resolve: (value: Value) => void }[] = []
    for (const id of ids) {
      const name = nameOf(id)
      if (this.#slots.has(name)) continue
      let resolve: (value: Value) => void = () => undefined
      const arrived = new Promise<Value>((done) => {
        resolve = done
      })
      const slot: Slot = { arrived }
      this.#slots.set(name, slot)
      fresh.push({ id, name, slot, resolve })
    }
    if (fresh.length === 0) return 0
    const generation = this.#generation
    const batches: (typeof fresh)[] = []
    for (let i = 0; i < fresh.length; i += this.#options.batchSize) batches.push(fresh.slice(i, i + this.#options.batchSize))
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < batches.length && generation === this.#generation) {
        while (this.#held > this.#options.maxBytes && generation === this.#generation) await this.#wait()
        const batch = batches[next++] as (typeof batches)[number]
        let values: (Uint8Array | undefined)[] | undefined
        try {
          values = await this.#options.fetch(batch.map((item) => item.id))
        } catch {
          values = undefined
        }
        batch.forEach((item, i) => {
          const value: Value = values === undefined ? NOT_READ : values[i]
          // Kept only while announced: not when taken, forgotten (written since) or announced anew meanwhile.
          if (this.#slots.get(item.name) === item.slot) {
            item.slot.value = value
            if (value instanceof Uint8Array) this.#held += value.byteLength
          }
          item.resolve(value)
        })
      }
      // Whatever a cleared generation left unfetched is read the ordinary way.
      for (let i = next; i < batches.length; i++) for (const item of batches[i] ?? []) item.resolve(NOT_READ)
    }
    for (let w = 0; w < Math.min(this.#options.window, batches.length); w++) void worker()
    return fresh.length
  }

  /**
   * The entry of `id` once, when it was announced: its bytes, `undefined`
   * when Redis has none, or `NOT_READ` when its batch failed. `undefined`
   * when it was not announced (or was taken or forgotten since).
   */
  take(id: EntryId): Promise<Value> | undefined {
    const name = nameOf(id)
    const slot = this.#slots.get(name)
    if (slot === undefined) return undefined
    this.#slots.delete(name)
    if (!("value" in slot)) return slot.arrived
    if (slot.value instanceof Uint8Array) this.#release(slot.value.byteLength)
    return Promise.resolve(slot.value)
  }

  /** Drop what is held for `id` (it is being written or deleted): a later read asks Redis. */
  forget(id: EntryId): void {
    const name = nameOf(id)
    const slot = this.#slots.get(name)
    if (slot === undefined) return
    this.#slots.delete(name)
    if (slot.value instanceof Uint8Array) this.#release(slot.value.byteLength)
  }

  /** Drop everything and stop fetching (the store is cleared or closed). */
  clear(): void {
    this.#generation++
    this.#slots.clear()
    this.#held = 0
    this.#wake()
  }

  #release(bytes: number): void {
    this.#held -= bytes
    if (this.#held <= this.#options.maxBytes) this.#wake()
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  #wake(): void {
    const waiting = this.#waiting
    this.#waiting = []
    for (const resolve of waiting) resolve()
  }
}

function nameOf(id: EntryId): string {
  return `${id.prefix.hex}${id.key.hex}`
}
