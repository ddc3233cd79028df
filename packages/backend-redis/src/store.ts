/**
 * `RedisStore`: the sitecache `Store` over Redis or Redis Cluster (ioredis).
 *
 * Key layout: see layout.ts. Writes are put-if-absent: `SET NX` (with `PX`
 * from the entry's expiry), and where an entry already exists, a small Lua
 * script (atomic) that replaces it only if its header says it has expired at
 * the cache's clock, so an entry the cache considers expired is replaced even
 * while Redis still holds it. Both are pipelined for a batch.
 *
 * Failing open: ioredis' defaults queue commands while disconnected and retry
 * each through 20 reconnections, so with Redis down a build would wait ~10 s
 * for its first command and ~37 s for each later one. This store creates its
 * clients with no offline queue, short connect and command timeouts, a
 * backing-off reconnect, and an `error` listener; every command goes through
 * a circuit breaker, and a command is never sent while the connection is not
 * ready: it fails at once with the connection's last error. A connection that
 * stops answering (the ready check, or commands until the breaker opens) is
 * dropped and made again.
 */
import { createHash } from "node:crypto"
import type { EntryId, EntryMeta, Key, PruneOptions, PruneResult, Store, StoredEntry, StoreStats } from "@sitecache/core"
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis"
import { CircuitBreaker } from "./breaker.js"
import { RedisFaultError } from "./errors.js"
import { chunk, groupBySlot, KeyLayout } from "./layout.js"
import {
  DEFAULT_URL,
  describeUrl,
  type IoredisModule,
  loadIoredis,
  type RedisStoreOptions,
  type ResolvedRedisOptions,
  resolveRedisOptions,
} from "./options.js"

/**
 * Put-if-absent at the cache's clock. KEYS[1]: entry; ARGV: bytes, TTL in ms
 * ("0": none), now (ms since the epoch, the cache's clock). Returns 1 when
 * stored, 0 when a live entry was kept. An existing entry is live when its
 * header has the entry magic and an expiry of 0 or after `now` (float64 LE at
 * offset 16); anything else (expired, malformed) is replaced.
 */
const ADD_SCRIPT = `
local ttl = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  local head = redis.call('GETRANGE', KEYS[1], 0, 23)
  if string.len(head) == 24 and string.sub(head, 1, 4) == 'SCE\\0' then
    local expires = struct.unpack('<d', string.sub(head, 17, 24))
    if expires == 0 or expires > tonumber(ARGV[3]) then return 0 end
  end
end
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`
const ADD_SHA = createHash("sha1").update(ADD_SCRIPT).digest("hex")

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

type Client = Redis | Cluster

/** What `health` reports, for tests and `sitecache inspect`. */
export interface RedisHealth {
  /** The ioredis connection status (`ready`, `connecting`, `reconnecting`, ...). */
  readonly status: string
  readonly breaker: "closed" | "open" | "half-open"
  readonly consecutiveFailures: number
  /** Commands that waited out `commandTimeout` since open (each cost the build that long). */
  readonly timeouts: number
  /** The last connection error or failed command, if any. */
  readonly lastError?: string
}

function ttlFrom(expires: number, now: number): number {
  return expires === 0 ? 0 : Math.max(1, Math.ceil(expires - now))
}

function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === "ReplyError"
}

function isNoScript(error: unknown): boolean {
  return isReplyError(error) && causeOf(error).startsWith("NOSCRIPT")
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function causeOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** What `withDeadline` rejects with; `#describe` turns it into an `ETIMEDOUT` fault. */
const DEADLINE = new Error("Command timed out")

/**
 * `promise`, or a rejection with `DEADLINE` when it has not settled within
 * `ms`. Unlike ioredis' `commandTimeout`, a reply that arrived while the event
 * loop was busy (a build rendering synchronously for longer than the timeout)
 * is not late: when the timer fires, the decision waits for one `setImmediate`,
 * after the poll phase has read the sockets.
 */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return
        settled = true
        reject(DEADLINE)
      })
    }, ms)
    timer.unref()
    promise.then(
      (value) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/** Run `tasks` with at most `window` in flight; every task settles before the first error is thrown. */
async function inWindow<T>(tasks: readonly (() => Promise<T>)[], window: number): Promise<T[]> {
  const results = new Array<T>(tasks.length)
  let next = 0
  let failed = false
  let firstError: unknown
  const worker = async () => {
    while (next < tasks.length && !failed) {
      const i = next++
      try {
        results[i] = await (tasks[i] as () => Promise<T>)()
      } catch (error) {
        if (!failed) firstError = error
        failed = true
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, tasks.length) }, worker))
  if (failed) throw firstError
  return results
}

export class RedisStore implements Store {
  readonly name: string
  /** Written behind a queue by a tiered cache: a network round trip per write. */
  readonly remote = true
  readonly layout: KeyLayout
  readonly options: ResolvedRedisOptions
  readonly client: Client
  readonly isCluster: boolean
  readonly #owned: boolean
  readonly #breaker: CircuitBreaker
  readonly #listeners: [event: string, listener: (...args: unknown[]) => void][] = []
  #connectionError: unknown
  #readyTimer: NodeJS.Timeout | undefined
  #timeouts = 0
  /** The code of the current outage's first failure (see `#failed`). */
  #outage: string | undefined
  #closed = false

  /** Use `RedisStore.open(options)`: it creates the client and waits briefly for the connection. */
  constructor(client: Client, options: ResolvedRedisOptions, owned: boolean, where: string) {
    this.client = client
    this.options = options
    this.#owned = owned
    this.isCluster = (client as { isCluster?: boolean }).isCluster === true
    this.layout = new KeyLayout(options.namespace)
    this.name = options.name ?? `redis (${where}, namespace ${options.namespace})`
    this.#breaker = new CircuitBreaker({ threshold: options.breakerThreshold, cooldown: options.breakerCooldown })
    this.#listen("error", (error) => {
      this.#connectionError = error
    })
    if (this.isCluster) {
      this.#listen("node error", (error) => {
        this.#connectionError = error
      })
    }
    this.#listen("ready", () => {
      clearTimeout(this.#readyTimer)
      this.#connectionError = undefined
      this.#answered(true)
    })
    if (owned && !this.isCluster) {
      // A server that accepts the connection but never answers the ready check would hold it forever.
      this.#listen("connect", () => {
        clearTimeout(this.#readyTimer)
        this.#readyTimer = setTimeout(() => {
          // As in `withDeadline`: read what arrived while the event loop was busy before deciding.
          setImmediate(() => {
            if (this.#closed || this.client.status !== "connect") return
            this.#connectionError = new RedisFaultError(
              `connected, but no answer to the ready check within ${options.connectTimeout} ms (\`connectTimeout\`)`,
              "ETIMEDOUT",
            )
            this.client.disconnect(true)
          })
        }, options.connectTimeout)
        this.#readyTimer.unref()
      })
    }
  }

  /** Create a client for `options` (or adopt `options.client`) and wait up to `connectTimeout` for it to be ready. */
  static async open(options: RedisStoreOptions | ResolvedRedisOptions = {}, ioredis?: IoredisModule): Promise<RedisStore> {
    // Checking is idempotent: resolved options pass through unchanged.
    const resolved = resolveRedisOptions(options, "")
    if (resolved.client !== undefined) {
      const client = resolved.client as Client
      const store = new RedisStore(client, resolved, false, client.isCluster ? "existing cluster client" : "existing client")
      if (client.status === "wait") client.connect().catch(() => {})
      await waitForConnection(client, resolved.connectTimeout)
      return store
    }
    const { Redis, Cluster } = ioredis ?? (await loadIoredis())
    const nodeOptions: RedisOptions = {
      connectTimeout: resolved.connectTimeout,
      // No ioredis \`commandTimeout\`: \`#call\` keeps its own deadline (see \`withDeadline\`).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      // A dropped connection's socket is destroyed at once, not after ioredis' 2 s for a polite close: a
      // frozen server never closes its side, and that timer would hold a finished build's process.
      disconnectTimeout: 0,
      retryStrategy: (times) => Math.min(100 * 2 ** (times - 1), 1000),
      connectionName: "sitecache",
    }
    let client: Client
    let where: string
    if (resolved.nodes !== undefined) {
      const { redisOptions, ...clusterOptions } = resolved.ioredis
      const options: ClusterOptions = {
        enableOfflineQueue: false,
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** (times - 1), 1000),
        slotsRefreshTimeout: resolved.connectTimeout,
        maxRedirections: 4,
        retryDelayOnFailover: 50,
        retryDelayOnClusterDown: 50,
        retryDelayOnTryAgain: 50,
        ...(clusterOptions as ClusterOptions),
        redisOptions: { ...nodeOptions, ...(redisOptions ?? {}) },
      }
      client = new Cluster(
        resolved.nodes.map((node) => ({ ...node })),
        options,
      )
      const first = resolved.nodes[0] as { host: string; port: number }
      where = `cluster ${first.host}:${first.port}${resolved.nodes.length > 1 ? ` +${resolved.nodes.length - 1}` : ""}`
    } else {
      const url = resolved.url ?? DEFAULT_URL
      client = new Redis(url, { ...nodeOptions, ...(resolved.ioredis as RedisOptions) })
      where = describeUrl(url)
    }
    const store = new RedisStore(client, resolved, true, where)
    await waitForConnection(client, resolved.connectTimeout)
    // Not ready within `connectTimeout` and no error said why (a server that accepts and never answers):
    // name the cause, so that the faults of this outage carry one code from the first.
    if (client.status !== "ready" && store.#connectionError === undefined) {
      store.#connectionError = new RedisFaultError(
        `not ready within ${resolved.connectTimeout} ms (\`connectTimeout\`)`,
        "ETIMEDOUT",
      )
    }
    return store
  }

  /** Connection status, circuit breaker state and the last error. */
  get health(): RedisHealth {
    const last = this.#breaker.lastError ?? this.#connectionError
    return {
      status: this.client.status,
      breaker: this.#breaker.state,
      consecutiveFailures: this.#breaker.failures,
      timeouts: this.#timeouts,
      ...(last === undefined ? {} : { lastError: causeOf(last) }),
    }
  }

  async get(id: EntryId): Promise<Uint8Array | undefined> {
    const name = this.layout.name(id)
    const bytes = await this.#call(() => this.client.getBuffer(name))
    return bytes ?? undefined
  }

  /** One `MGET` per `batchSize` keys (per hash tag on a cluster), a few in flight at once. */
  async getMany(ids: readonly EntryId[]): Promise<(Uint8Array | undefined)[]> {
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
    if (this.options.readOnly) return false
    const name = this.layout.name(id)
    return this.#call(() => this.#addOne(this.client, name, bytes, ttlFrom(meta.expires, now), now))
  }

  /** Pipelines of `batchSize` scripted puts on one server; concurrent puts (routed by key) on a cluster. */
  async addMany(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number): Promise<boolean[]> {
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
    if (this.options.readOnly) return
    const name = this.layout.name(id)
    const ttl = ttlFrom(meta.expires, meta.created)
    await this.#call(() =>
      ttl > 0 ? this.client.set(name, Buffer.from(bytes), "PX", ttl) : this.client.set(name, Buffer.from(bytes)),
    )
  }

  async delete(id: EntryId): Promise<boolean> {
    if (this.options.readOnly) return false
    const name = this.layout.name(id)
    return (await this.#call(() => this.client.unlink(name))) > 0
  }

  async deleteMany(ids: readonly EntryId[]): Promise<number> {
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

  /**
   * Close the connection this store opened, so the process can exit at once.
   * No `QUIT`: every command of this store has settled by now, and a frozen
   * server would hold `QUIT` (and the build's process) for a command timeout.
   * An adopted `client` is left open; only this store's listeners are removed.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#readyTimer)
    if (this.#owned) this.client.disconnect()
    // Keep swallowing errors of an owned client that is shutting down; give an adopted one back as it was.
    if (!this.#owned) for (const [event, listener] of this.#listeners) this.client.off(event, listener)
  }

  #listen(event: string, listener: (...args: unknown[]) => void): void {
    this.client.on(event, listener)
    this.#listeners.push([event, listener])
  }

  #masters(): Redis[] {
    return this.isCluster ? (this.client as Cluster).nodes("master") : [this.client as Redis]
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
      throwFirst(await pipeline.exec())
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
      return throwFirst(await pipeline.exec())
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
    const added = throwFirst(await sets.exec()).map((result) => result === "OK")
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
    throwFirst(results).forEach((result, j) => {
      added[existing[j] as number] = result === 1
    })
    return added
  }

  /** Run one command (or pipeline) through the circuit breaker; describe whatever it throws. */
  async #call<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RedisFaultError("the store is closed", "ECLOSED")
    if (this.#breaker.admit() === false) throw this.#circuitOpen()
    if (this.client.status !== "ready") throw this.#failed(this.#notConnected())
    try {
      const result = await withDeadline(operation(), this.options.commandTimeout)
      this.#answered()
      return result
    } catch (error) {
      const fault = this.#describe(error)
      if (fault.replied) {
        this.#answered()
        throw fault
      }
      if (error === DEADLINE || causeOf(error) === "Command timed out") {
        this.#timeouts++
        this.#dropHungConnection()
      }
      throw this.#failed(fault)
    }
  }

  /**
   * Redis answered (a reply, an error reply, or the connection became ready).
   * On one server, that ends any outage; on a cluster, one master's outage
   * fails only its slots while the others answer, so only a reconnection
   * (`ready`) ends it.
   */
  #answered(reconnected = false): void {
    this.#breaker.success()
    if (reconnected || !this.isCluster) this.#outage = undefined
  }

  /**
   * Count a failure to reach Redis. Every failure of one outage (from the
   * first until Redis answers again) carries the first one's code: a frozen
   * or killed server fails commands by timeouts, closed and refused
   * connections in turn, and the cache warns once per code, so one outage
   * gives one warning. The message keeps what each one really was.
   */
  #failed(fault: RedisFaultError): RedisFaultError {
    this.#outage ??= fault.code
    const failure =
      fault.code === this.#outage
        ? fault
        : new RedisFaultError(fault.message, this.#outage, { cause: fault.cause, circuitOpen: fault.circuitOpen })
    this.#breaker.failure(failure)
    return failure
  }

  /**
   * A command timed out on a connection that looks ready: the server hangs or
   * the network dropped the connection without a reset. Reconnect rather than
   * wait for TCP to notice (minutes), at the first timeout: every command
   * sent on that connection would wait out its own timeout, while on a
   * connection that is not ready they fail at once and open the breaker, so
   * a frozen server costs one command timeout, not one per command in flight
   * or per failure the breaker needs. ioredis' own `socketTimeout` is not
   * used: its timer outlives the socket it watches, and fires on the next one.
   */
  #dropHungConnection(): void {
    if (!this.#owned || this.client.status !== "ready") return
    this.#connectionError = new RedisFaultError(`no reply within ${this.options.commandTimeout} ms: reconnecting`, "ETIMEDOUT")
    this.client.disconnect(true)
  }

  #describe(error: unknown): RedisFaultError {
    if (error instanceof RedisFaultError) return error
    const message = causeOf(error)
    if (isReplyError(error)) {
      const word = /^[A-Z]+(?=\s|$)/.exec(message)?.[0] ?? "ERR"
      return new RedisFaultError(`Redis replied: ${message}`, word, { cause: error, replied: true })
    }
    if (error === DEADLINE || message === "Command timed out") {
      return new RedisFaultError(`no reply within ${this.options.commandTimeout} ms (\`commandTimeout\`)`, "ETIMEDOUT", {
        cause: error,
      })
    }
    if (/isn't (writeable|ready)|Connection is closed|enableOfflineQueue|max retries per request/.test(message)) {
      return this.#notConnected(error)
    }
    const code = (error as { code?: unknown } | null)?.code
    return new RedisFaultError(message, typeof code === "string" ? code : "EREDIS", { cause: error })
  }

  #notConnected(cause?: unknown): RedisFaultError {
    const last = this.#connectionError
    const code = (last as { code?: unknown } | undefined)?.code
    const reason = last !== undefined ? causeOf(last) : cause !== undefined ? causeOf(cause) : `status ${this.client.status}`
    return new RedisFaultError(`not connected (${reason})`, typeof code === "string" ? code : "ENOTCONNECTED", {
      cause: cause ?? last,
    })
  }

  #circuitOpen(): RedisFaultError {
    const last = this.#breaker.lastError
    const code = last instanceof RedisFaultError ? last.code : "ECIRCUITOPEN"
    const seconds = (this.#breaker.retryIn / 1000).toFixed(1)
    return new RedisFaultError(
      `skipped after ${this.#breaker.threshold} consecutive failures, next try in ${seconds} s (last: ${causeOf(last)})`,
      code,
      { cause: last, circuitOpen: true },
    )
  }
}

/** The results of a pipeline, or the first error in it. */
function throwFirst(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error("Connection is closed.")
  for (const [error] of results) if (error !== null) throw error
  return results.map(([, value]) => value)
}

/** Wait until `client` is ready, fails to connect once, or `timeoutMs` passes; never rejects. */
function waitForConnection(client: Client, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off("ready", done)
      client.off("error", done)
      client.off("end", done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    client.once("ready", done)
    client.once("error", done)
    client.once("end", done)
  })
}
