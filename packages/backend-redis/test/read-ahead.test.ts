import { BuildStats, type EntryId, finishBuild, key, memoize, prefetchFromManifest } from "@sitecache/core"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { createRedisCache, type RedisStore } from "../src/index.js"
import { NOT_READ, ReadAhead } from "../src/read-ahead.js"

const prefix = key("prefix")
const ids: EntryId[] = Array.from({ length: 10 }, (_, i) => ({ prefix, key: key("entry", i) }))
const bytesOf = (id: EntryId) => Buffer.from(`value of ${id.key.hex}`)

/** A fake store: records each batch, answers when `release` is called (or at once). */
function fakeFetch(options: { hold?: boolean; fail?: (batch: number) => boolean; missing?: Set<string> } = {}) {
  const batches: string[][] = []
  const pending: (() => void)[] = []
  let inFlight = 0
  let maxInFlight = 0
  const fetch = async (batch: readonly EntryId[]) => {
    const index = batches.push(batch.map((id) => id.key.hex)) - 1
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    if (options.hold === true) await new Promise<void>((resolve) => pending.push(resolve))
    else await Promise.resolve()
    inFlight--
    if (options.fail?.(index) === true) throw new Error("redis down")
    return batch.map((id) => (options.missing?.has(id.key.hex) ? undefined : bytesOf(id)))
  }
  const releaseAll = async () => {
    while (pending.length > 0) {
      pending.shift()?.()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return { fetch, batches, releaseAll, maxInFlight: () => maxInFlight }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe("ReadAhead", () => {
  it("fetches announced entries in batches, a window at a time, and hands each over once", async () => {
    const fake = fakeFetch({ hold: true, missing: new Set([ids[3]?.key.hex as string]) })
    const ahead = new ReadAhead({ fetch: fake.fetch, batchSize: 3, window: 2 })
    expect(ahead.start([...ids, ids[0] as EntryId])).toBe(10)
    expect(ahead.start(ids.slice(0, 2))).toBe(0)
    await settle()
    expect(fake.batches).toHaveLength(2)
    const early = ahead.take(ids[0] as EntryId)
    await fake.releaseAll()
    expect(fake.batches.map((batch) => batch.length)).toEqual([3, 3, 3, 1])
    expect(fake.maxInFlight()).toBe(2)
    expect(await early).toEqual(bytesOf(ids[0] as EntryId))
    for (const id of ids.slice(1)) {
      const value = await ahead.take(id)
      expect(value).toEqual(id === ids[3] ? undefined : bytesOf(id))
    }
    // Taken once: a second read is the store's own.
    expect(ahead.take(ids[1] as EntryId)).toBeUndefined()
    expect(ahead.size).toBe(0)
  })

  it("holds at most maxBytes of entries not yet taken: the next batch waits for the build to take some", async () => {
    const fake = fakeFetch()
    const size = bytesOf(ids[0] as EntryId).length
    const ahead = new ReadAhead({ fetch: fake.fetch, batchSize: 2, window: 1, maxBytes: 3 * size })
    ahead.start(ids)
    for (let i = 0; i < 10; i++) await settle()
    expect(fake.batches).toHaveLength(2)
    await ahead.take(ids[0] as EntryId)
    await ahead.take(ids[1] as EntryId)
    for (let i = 0; i < 10; i++) await settle()
    expect(fake.batches).toHaveLength(3)
    for (const id of ids) await ahead.take(id)
    for (let i = 0; i < 10; i++) await settle()
    expect(fake.batches).toHaveLength(5)
  })

  it("answers NOT_READ for the entries of a failed batch, so that they are read the ordinary way", async () => {
    const fake = fakeFetch({ fail: (batch) => batch === 0 })
    const ahead = new ReadAhead({ fetch: fake.fetch, batchSize: 5, window: 1 })
    ahead.start(ids)
    expect(await ahead.take(ids[0] as EntryId)).toBe(NOT_READ)
    expect(await ahead.take(ids[7] as EntryId)).toEqual(bytesOf(ids[7] as EntryId))
  })

  it("never hands over what was fetched before a write of the entry, even when it is announced again", async () => {
    const fake = fakeFetch({ hold: true })
    const ahead = new ReadAhead({ fetch: fake.fetch, batchSize: 10, window: 1 })
    ahead.start(ids)
    await settle()
    ahead.forget(ids[2] as EntryId)
    ahead.start([ids[2] as EntryId])
    const again = ahead.take(ids[2] as EntryId)
    await fake.releaseAll()
    expect(fake.batches).toEqual([ids.map((id) => id.key.hex), [ids[2]?.key.hex]])
    expect(await again).toEqual(bytesOf(ids[2] as EntryId))
    ahead.forget(ids[4] as EntryId)
    expect(ahead.take(ids[4] as EntryId)).toBeUndefined()
  })

  it("stops fetching when cleared; what it had not fetched is read the ordinary way", async () => {
    const fake = fakeFetch({ hold: true })
    const ahead = new ReadAhead({ fetch: fake.fetch, batchSize: 2, window: 1 })
    ahead.start(ids)
    await settle()
    const waiting = ahead.take(ids[9] as EntryId)
    ahead.clear()
    await fake.releaseAll()
    expect(fake.batches).toHaveLength(1)
    expect(await waiting).toBe(NOT_READ)
    expect(ahead.size).toBe(0)
  })
})

describeWithRedis("reading ahead on a real server", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("a Redis cache prefetches a build's entries in MGET batches; each read is then no round trip, and a write is never hidden", async () => {
    const writer = await createRedisCache({ url: server.url, namespace: "ahead" })
    const keys = Array.from({ length: 250 }, (_, i) => key("page", i))
    for (const [i, k] of keys.entries()) await writer.put(k, { html: `<p>page ${i}</p>` })
    await writer.close()

    const cache = await createRedisCache({ url: server.url, namespace: "ahead", batchSize: 100 })
    expect(cache.canPrefetch).toBe(true)
    const gets = vi.spyOn((cache.store as RedisStore).client, "getBuffer")
    const mgets = vi.spyOn((cache.store as RedisStore).client, "mgetBuffer")
    expect(await cache.prefetch(keys)).toBe(250)
    for (const [i, k] of keys.entries()) {
      if (i === 7) await cache.delete(k)
      if (i === 8) {
        await cache.delete(k)
        await cache.put(k, { html: "<p>new</p>" })
      }
      const expected = i === 7 ? undefined : i === 8 ? { html: "<p>new</p>" } : { html: `<p>page ${i}</p>` }
      expect(await cache.get(k)).toEqual(expected)
    }
    expect(mgets).toHaveBeenCalledTimes(3)
    // Only the two entries written after they were read ahead were asked for again.
    expect(gets).toHaveBeenCalledTimes(2)
    await cache.close()
  })

  it("prefetchFromManifest reads the last build's entries ahead on a Redis cache alone", async () => {
    const first = await createRedisCache({ url: server.url, namespace: "manifest" })
    const stats = new BuildStats()
    const paths = Array.from({ length: 30 }, (_, i) => `content/${i}.md`)
    for (const path of paths) await memoize(first, [path], () => `<p>${path}</p>`, { stats, document: path })
    await finishBuild(first, stats, "tool")
    await first.close()

    const cache = await createRedisCache({ url: server.url, namespace: "manifest" })
    const gets = vi.spyOn((cache.store as RedisStore).client, "getBuffer")
    expect(await prefetchFromManifest(cache, "tool")).toBe(30)
    const manifestReads = gets.mock.calls.length
    const again = new BuildStats()
    for (const path of paths)
      expect(await memoize(cache, [path], () => "rendered", { stats: again })).toMatchObject({
        hit: true,
        value: `<p>${path}</p>`,
      })
    expect(gets.mock.calls.length).toBe(manifestReads)
    await cache.close()
  })
})
