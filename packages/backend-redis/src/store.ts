/**
 * `RedisStore`: the sitecache `Store` over Redis or Redis Cluster (ioredis).
 *
 * Key layout: see layout.ts. Writes are put-if-absent: `SET NX` (with `PX`
 * from the entry's expiry), and where an entry already exists, a small Lua
 * script (script.ts) that replaces it only if its header says it has expired
 * at the cache's clock. Both are pipelined for a batch. Every command goes
 * through the connection's rules for failing open (connection.ts).
 *
 * Slightly over ~400 lines: every `Store` method over one connection and key
 * layout; connection, errors, script, layout and read-ahead live apart.
 */
import type { EntryId, EntryMeta, Key, PruneOptions, PruneResult, Store, StoredEntry, StoreStats } from "@sitecache/core"
import type { Redis } from "ioredis"
import { type Client, RedisConnection, type RedisHealth } from "./connection.js"
import { inWindow } from "./deadline.js"
import { isNoScript, pipelineResults, RedisFaultError } from "./errors.js"
import { chunk, groupBySlot, KeyLayout } from "./layout.js"
import { type IoredisModule, type RedisStoreOptions, type ResolvedRedisOptions, resolveRedisOptions } from "./options.js"
import { NOT_READ, ReadAhead } from "./read-ahead.js"
import { ADD_SCRIPT, ADD_SHA } from "./script.js"

export type { RedisHealth } from "./connection.js"

/**
 * `MGET`s in flight for one `getMany` (and per SCAN batch): enough to hide the
 * round trip, few enough that the last reply of a window of 8 KiB values
 * arrives well within the command timeout on a busy machine.
 */
const READ_WINDOW = 2
/** Write pipelines of `batchSize` entries in flight for one `addMany`. */
const WRITE_WINDOW = 2
/** Single-key writes in flight for one `addMany` on a cluster. */
const CLUSTER_WRITE_WINDOW = 16
/** Keys asked per SCAN step. */
const SCAN_COUNT = 1000

function ttlFrom(expires: number, now: number): number {
  return expires === 0 ? 0 : Math.max(1, Math.ceil(expires - now))
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export class RedisStore implements Store {
  readonly name: string
  /** Written behind a queue by a tiered cache: a network round trip per write. */
  readonly remote = true
  readonly layout: KeyLayout
  readonly options: ResolvedRedisOptions
  readonly #connection: RedisConnection
  readonly #readAhead: ReadAhead

  /** Use `RedisStore.open(options)`: it creates the client and waits briefly for the connection. */
  constructor(connection: RedisConnection, options: ResolvedRedisOptions) {
    this.#connection = connection
    this.options = options
    this.layout = new KeyLayout(options.namespace)
    this.name = options.name ?? `redis (${connection.where}, namespace ${options.namespace})`
    this.#readAhead = new ReadAhead({ fetch: (ids) => this.#fetchMany(ids), batchSize: options.batchSize, window: READ_WINDOW })
  }

  /** Create a client for `options` (or adopt `options.client`) and wait up to `connectTimeout` for it to be ready. */
  static async open(options: RedisStoreOptions | ResolvedRedisOptions = {}, ioredis?: IoredisModule): Promise<RedisStore> {
    // Checking is idempotent: resolved options pass through unchanged.
    const resolved = resolveRedisOptions(options, "")
    return new RedisStore(await RedisConnection.open(resolved, ioredis), resolved)
  }

  get client(): Client {
    return this.#connection.client
  }

  get isCluster(): boolean {
    return this.#connection.isCluster
  }

  /** Connection status, circuit breaker state and the last error. */
  get health(): RedisHealth {
    return this.#connection.health
  }

  async get(id: EntryId): Promise<Uint8Array | undefined> {
    const ahead = this.#readAhead.take(id)
    if (ahead !== undefined) {
      const value = await ahead
      if (value !== NOT_READ) return value
    }
    const name = this.layout.name(id)
    const bytes = await this.#call(() => this.client.getBuffer(name))
    return bytes ?? undefined
  }

  async getMany(ids: readonly EntryId[]): Promise<(Uint8Array | undefined)[]> {
    if (this.#readAhead.size === 0) return this.#fetchMany(ids)
    return Promise.all(ids.map((id) => this.get(id)))
  }

  /** Read `ids` ahead in `MGET` batches, without waiting for them (see read-ahead.ts); returns how many it will read. */
  prefetch(ids: readonly EntryId[]): number {
    return this.#readAhead.start(ids)
  }

  /** One `MGET` per `batchSize` keys (per hash tag on a cluster), a few in flight at once. */
  async #fetchMany(ids: readonly EntryId[]): Promise<(Uint8Array | undefined)[]> {
    const names = ids.map((id) => this.layout.name(id))
    const out = new Array<Uint8Array | undefined>(names.length).fill(undefined)
    const groups = this.isCluster
      ? groupBySlot(this.layout, names).flatMap((group) => chunk(group, this.options.batchSize))
      : chunk(
          names.map((_, i) => i),
          this.options.batchSize,
        )
    await inWindow(
      groups.map((group) => async () => {
        const values = await this.#call(() => this.client.mgetBuffer(group.map((i) => names[i] as string)))
        group.forEach((position, j) => {
          out[position] = values[j] ?? undefined
        })
      }),
      READ_WINDOW,
    )
    return out
  }

  async add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): Promise<boolean> {
    this.#readAhead.forget(id)
    if (this.options.readOnly) return false
    const name = this.layout.name(id)
    return this.#call(() => this.#addOne(this.client, name, bytes, ttlFrom(meta.expires, now), now))
  }

  /** Pipelines of `batchSize` scripted puts on one server; concurrent puts (routed by key) on a cluster. */
  async addMany(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number): Promise<boolean[]> {
    for (const [id] of entries) this.#readAhead.forget(id)
    if (this.options.readOnly) return entries.map(() => false)
    const items = entries.map(([id, bytes, meta]) => ({ name: this.layout.name(id), bytes, ttl: ttlFrom(meta.expires, now) }))
    if (items.length === 1) {
      const item = items[0] as (typeof items)[number]
      return [await this.#call(() => this.#addOne(this.client, item.name, item.bytes, item.ttl, now))]
    }
    if (this.isCluster) {
      return inWindow(
        items.map((item) => () => this.#call(() => this.#addOne(this.client, item.name, item.bytes, item.ttl, now))),
        CLUSTER_WRITE_WINDOW,
      )
    }
    const batches = await inWindow(
      chunk(items, this.options.batchSize).map((batch) => () => this.#call(() => this.#addPipelined(batch, now))),
      WRITE_WINDOW,
    )
    return batches.flat()
  }

  async set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): Promise<void> {
    this.#readAhead.forget(id)
    if (this.options.readOnly) return
    const name = this.layout.name(id)
    const ttl = ttlFrom(meta.expires, meta.created)
    await this.#call(() =>
      ttl > 0 ? this.client.set(name, Buffer.from(bytes), "PX", ttl) : this.client.set(name, Buffer.from(bytes)),
    )
  }

  async delete(id: EntryId): Promise<boolean> {
    this.#readAhead.forget(id)
    if (this.options.readOnly) return false
    const name = this.layout.name(id)
    return (await this.#call(() => this.client.unlink(name))) > 0
  }

  async deleteMany(ids: readonly EntryId[]): Promise<number> {
    for (const id of ids) this.#readAhead.forget(id)
    if (this.options.readOnly || ids.length === 0) return 0
    const names = [...new Set(ids.map((id) => this.layout.name(id)))]
    const counts = await inWindow(
      this.#slotGroups(names).map((group) => () => this.#call(() => this.client.unlink(...group))),
      WRITE_WINDOW,
    )
    return counts.reduce((sum, count) => sum + count, 0)
  }

  /**
   * Entries and bytes of this namespace, by a SCAN of every master: one pass
   * over the keyspace, so it costs about a millisecond per thousand entries
   * and is approximate while others write (SCAN may also return a key twice).
   * Bytes are Redis's memory use of each entry (`MEMORY USAGE`, allocator
   * rounding included), read without touching the entries' LRU clocks; where
   * ACLs refuse `MEMORY`, the value lengths (`STRLEN`).
   */
  async stats(prefix: Key): Promise<StoreStats> {
    let size = 0
    let entryCount = 0
    let orphanedCount = 0
    let orphanedSize = 0
    const current = prefix.hex
    for (const node of this.#masters()) {
      for await (const names of this.#scan(node, this.layout.pattern)) {
        const sizes = await this.#sizes(node, names)
        names.forEach((name, i) => {
          const bytes = sizes[i]
          if (bytes === undefined) return
          entryCount++
          size += bytes
          if (this.layout.prefixHex(name) !== current) {
            orphanedCount++
            orphanedSize += bytes
          }
        })
      }
    }
    return { size, entryCount, orphanedCount, orphanedSize }
  }

  /** Redis writes on its own schedule (its `save`/`appendonly` configuration); nothing is pending here. */
  persist(): void {}

  /** Remove every entry of this namespace (SCAN + UNLINK on every master); other keys are left alone. */
  async clear(): Promise<void> {
    this.#readAhead.clear()
    if (this.options.readOnly) return
    for (const node of this.#masters()) {
      for await (const names of this.#scan(node, this.layout.pattern)) await this.#unlink(node, names)
    }
  }

  /** Every entry of this namespace, read in batches as the SCAN goes (for `sitecache verify`). */
  async *entries(): AsyncIterable<StoredEntry> {
    for (const node of this.#masters()) {
      for await (const names of this.#scan(node, this.layout.pattern)) {
        const groups = this.#slotGroups(names)
        const values = await inWindow(
          groups.map((group) => () => this.#call(() => node.mgetBuffer(group))),
          READ_WINDOW,
        )
        for (let g = 0; g < groups.length; g++) {
          const group = groups[g] as string[]
          const bytes = values[g] as (Buffer | null)[]
          for (let i = 0; i < group.length; i++) {
            const id = this.layout.parse(group[i] as string)
            const value = bytes[i]
            if (id !== undefined && value !== null && value !== undefined) yield { id, bytes: value }
          }
        }
      }
    }
  }

  /**
   * Remove orphans (entries of other key prefixes), entries idle longer than
   * `olderThan` (Redis's `OBJECT IDLETIME`: since last read or write), and the
   * most idle entries beyond `maxSize` bytes. Expired entries are removed by
   * Redis itself. Under an LFU `maxmemory-policy` Redis keeps no idle time,
   * so only `orphans` applies; prefer Redis's own eviction (`maxmemory` with
   * `allkeys-lru`) to `maxSize` on a server.
   */
  async prune(options: PruneOptions): Promise<PruneResult> {
    this.#readAhead.clear()
    if (this.options.readOnly) return { removedCount: 0, removedSize: 0 }
    const current = options.prefix.hex
    const keep: { node: Redis; name: string; idle: number; size: number }[] = []
    const remove = new Map<Redis, string[]>()
    let removedCount = 0
    let removedSize = 0
    const drop = (node: Redis, name: string, size: number) => {
      let list = remove.get(node)
      if (list === undefined) remove.set(node, (list = []))
      list.push(name)
      removedCount++
      removedSize += size
    }
    for (const node of this.#masters()) {
      for await (const names of this.#scan(node, this.layout.pattern)) {
        const [idle, sizes] = await Promise.all([this.#idleTimes(node, names), this.#sizes(node, names)])
        names.forEach((name, i) => {
          const size = sizes[i]
          if (size === undefined) return
          const idleMs = idle[i]
          if (options.orphans === true && this.layout.prefixHex(name) !== current) drop(node, name, size)
          else if (options.olderThan !== undefined && idleMs !== undefined && idleMs >= options.olderThan) drop(node, name, size)
          else keep.push({ node, name, idle: idleMs ?? 0, size })
        })
      }
    }
    if (options.maxSize !== undefined) {
      let total = keep.reduce((sum, entry) => sum + entry.size, 0)
      keep.sort((a, b) => b.idle - a.idle)
      for (const entry of keep) {
        if (total <= options.maxSize) break
        drop(entry.node, entry.name, entry.size)
        total -= entry.size
      }
    }
    for (const [node, names] of remove) {
      for (const batch of chunk(names, SCAN_COUNT)) await this.#unlink(node, batch)
    }
    return { removedCount, removedSize }
  }

  /** Close the connection this store opened (an adopted client is left open; see connection.ts). */
  async close(): Promise<void> {
    this.#readAhead.clear()
    this.#connection.close()
  }

  #call<T>(operation: () => Promise<T>): Promise<T> {
    return this.#connection.call(operation)
  }

  #masters(): Redis[] {
    return this.#connection.masters()
  }

  /** Names grouped so that each group is one slot on a cluster; one group on a single server. */
  #slotGroups(names: readonly string[]): string[][] {
    if (!this.isCluster) return chunk(names, SCAN_COUNT)
    return groupBySlot(this.layout, names).map((group) => group.map((i) => names[i] as string))
  }

  async *#scan(node: Redis, pattern: string): AsyncGenerator<string[]> {
    let cursor = "0"
    do {
      const [next, names] = await this.#call(() => node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT))
      cursor = next
      if (names.length > 0) yield names
    } while (cursor !== "0")
  }

  async #unlink(node: Redis, names: readonly string[]): Promise<void> {
    const groups = this.#slotGroups(names)
    await this.#call(async () => {
      const pipeline = node.pipeline()
      for (const group of groups) pipeline.unlink(...group)
      pipelineResults(await pipeline.exec())
    })
  }

  /** Sizes in bytes (`undefined`: the key is gone), without touching the keys' LRU clocks. */
  async #sizes(node: Redis, names: readonly string[]): Promise<(number | undefined)[]> {
    const read = async (command: "memory" | "strlen") => {
      const pipeline = node.pipeline()
      for (const name of names) {
        if (command === "memory") pipeline.memory("USAGE", name, "SAMPLES", 0)
        else pipeline.strlen(name)
      }
      return pipelineResults(await pipeline.exec())
    }
    let sizes: unknown[]
    try {
      sizes = await this.#call(() => read("memory"))
    } catch (error) {
      if (!(error instanceof RedisFaultError && error.replied)) throw error
      sizes = (await this.#call(() => read("strlen"))).map((length) => (length === 0 ? null : length))
    }
    return sizes.map((value) => (typeof value === "number" ? value : undefined))
  }

  /** Idle times in ms (`undefined` where Redis keeps none: an LFU policy). */
  async #idleTimes(node: Redis, names: readonly string[]): Promise<(number | undefined)[]> {
    const pipeline = node.pipeline()
    for (const name of names) pipeline.object("IDLETIME", name)
    const results = await this.#call(async () => (await pipeline.exec()) ?? [])
    return results.map(([error, seconds]) => (error === null && typeof seconds === "number" ? seconds * 1000 : undefined))
  }

  /** `SET NX` (native, cheap); only where an entry exists does the script decide, by its header, whether to replace it. */
  async #addOne(client: Client, name: string, bytes: Uint8Array, ttl: number, now: number): Promise<boolean> {
    const value = asBuffer(bytes)
    const set = ttl > 0 ? await client.set(name, value, "PX", ttl, "NX") : await client.set(name, value, "NX")
    if (set === "OK") return true
    try {
      return (await client.evalsha(ADD_SHA, 1, name, value, ttl, now)) === 1
    } catch (error) {
      if (!isNoScript(error)) throw error
      return (await client.eval(ADD_SCRIPT, 1, name, value, ttl, now)) === 1
    }
  }

  /** One pipeline of `SET NX`; then, for the entries that existed, one pipeline of the replace-if-expired script. */
  async #addPipelined(batch: readonly { name: string; bytes: Uint8Array; ttl: number }[], now: number): Promise<boolean[]> {
    const client = this.client as Redis
    const values = batch.map((item) => asBuffer(item.bytes))
    const sets = client.pipeline()
    batch.forEach((item, i) => {
      const value = values[i] as Buffer
      if (item.ttl > 0) sets.set(item.name, value, "PX", item.ttl, "NX")
      else sets.set(item.name, value, "NX")
    })
    const added = pipelineResults(await sets.exec()).map((result) => result === "OK")
    const existing = added.flatMap((wasAdded, i) => (wasAdded ? [] : [i]))
    if (existing.length === 0) return added
    const runScripts = async (load: boolean, positions: readonly number[]) => {
      const pipeline = client.pipeline()
      for (const i of positions) {
        const item = batch[i] as (typeof batch)[number]
        if (load) pipeline.eval(ADD_SCRIPT, 1, item.name, values[i] as Buffer, item.ttl, now)
        else pipeline.evalsha(ADD_SHA, 1, item.name, values[i] as Buffer, item.ttl, now)
      }
      return (await pipeline.exec()) ?? []
    }
    const results = await runScripts(false, existing)
    const missing = results.flatMap(([error], j) => (isNoScript(error) ? [j] : []))
    if (missing.length > 0) {
      const retried = await runScripts(
        true,
        missing.map((j) => existing[j] as number),
      )
      missing.forEach((j, k) => {
        results[j] = retried[k] as [Error | null, unknown]
      })
    }
    pipelineResults(results).forEach((result, j) => {
      added[existing[j] as number] = result === 1
    })
    return added
  }
}
