import { fileURLToPath } from "node:url"
import { runChildScript } from "@sitecache/conformance"
import { createCache, key, readEntryHeader } from "@sitecache/core"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { CircuitBreaker, createRedisCache, KeyLayout, loadIoredis, RedisStore, resolveRedisOptions } from "../src/index.js"

const packageRoot = fileURLToPath(new URL("..", import.meta.url))
const secret = "0123456789abcdef0123456789abcdef"

describe("options", () => {
  it("refuses a short secret at creation, naming `redis.secret` (config) or `secret` (createRedisCache)", async () => {
    const open = { resolveFrom: import.meta.url }
    await expect(createCache({ backend: "redis", redis: { secret: "short" } }, open)).rejects.toMatchObject({
      code: "SITECACHE_BAD_OPTION",
      option: "redis.secret",
    })
    await expect(createRedisCache({ secret: "x".repeat(31) })).rejects.toMatchObject({ option: "secret" })
    await expect(createCache({ backend: "redis", secret: "y".repeat(32), redis: { secret } }, open)).rejects.toMatchObject({
      option: "redis.secret",
    })
  })

  it("createRedisCache refuses a typo, of its own options or the cache's, before connecting", async () => {
    for (const [options, option, meant] of [
      [{ namespcae: "site" }, "namespcae", "namespace"],
      [{ maxEntrySzie: 10 }, "maxEntrySzie", "maxEntrySize"],
      [{ url: "redis://127.0.0.1:1", tll: 1000 }, "tll", "ttl"],
    ] as const) {
      await expect(createRedisCache(options as never)).rejects.toMatchObject({
        code: "SITECACHE_BAD_OPTION",
        option,
        message: expect.stringContaining(`did you mean \`${meant}\`?`),
      })
    }
  })

  it("names the bad option in backticks", () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ namespace: "a*b" }, "redis.namespace"],
      [{ namespace: "{tag}" }, "redis.namespace"],
      [{ namespace: "" }, "redis.namespace"],
      [{ url: "http://example.com" }, "redis.url"],
      [{ url: "redis://a:6379", nodes: ["b:1"] }, "redis.nodes"],
      [{ nodes: ["nohost"] }, "redis.nodes[0]"],
      [{ commandTimeout: 0 }, "redis.commandTimeout"],
      [{ batchSize: 1.5 }, "redis.batchSize"],
      [{ client: {} }, "redis.client"],
      [{ colour: "red" }, "redis.colour"],
    ]
    for (const [options, option] of bad) {
      expect(() => resolveRedisOptions(options), option).toThrow(expect.objectContaining({ option }))
      expect(() => resolveRedisOptions(options), option).toThrow(new RegExp(`\`${option.replace(/[[\]]/g, "\\$&")}\``))
    }
    expect(resolveRedisOptions({ nodes: ["127.0.0.1:7000", { host: "h", port: 1 }] }).nodes).toEqual([
      { host: "127.0.0.1", port: 7000 },
      { host: "h", port: 1 },
    ])
  })

  it("names `ioredis` when it is not installed", async () => {
    const missing = Object.assign(new Error("Cannot find package 'ioredis'"), { code: "ERR_MODULE_NOT_FOUND" })
    await expect(loadIoredis(() => Promise.reject(missing))).rejects.toMatchObject({
      code: "SITECACHE_BACKEND_MISSING",
      packageName: "ioredis",
      message: expect.stringMatching(/`ioredis`.*pnpm add ioredis/),
    })
  })
})

describe("key layout", () => {
  it("names entries <namespace>:{<tag>}:<prefix>:<key> and parses them back", () => {
    const layout = new KeyLayout("site")
    const id = { prefix: key("prefix"), key: key("doc") }
    const name = layout.name(id)
    expect(name).toBe(`site:{${id.key.hex.slice(0, 2)}}:${id.prefix.hex}:${id.key.hex}`)
    expect(layout.tag(name)).toBe(id.key.hex.slice(0, 2))
    const parsed = layout.parse(name)
    expect(parsed?.prefix.equals(id.prefix) && parsed.key.equals(id.key)).toBe(true)
    expect(layout.parse(`other:${name.slice(5)}`)).toBeUndefined()
    expect(layout.parse(`${name}x`)).toBeUndefined()
  })
})

describe("circuit breaker", () => {
  it("opens after the threshold, fails fast for the cooldown, lets one probe through, closes on success", () => {
    let now = 0
    const breaker = new CircuitBreaker({ threshold: 3, cooldown: 1000, now: () => now })
    for (let i = 0; i < 3; i++) {
      expect(breaker.admit()).toBe(true)
      breaker.failure(new Error("down"))
    }
    expect(breaker.state).toBe("open")
    expect(breaker.admit()).toBe(false)
    now = 999
    expect(breaker.admit()).toBe(false)
    now = 1000
    expect(breaker.admit()).toBe("probe")
    expect(breaker.admit()).toBe(false) // one probe at a time
    breaker.failure(new Error("still down"))
    expect(breaker.state).toBe("open")
    now = 2000
    expect(breaker.admit()).toBe("probe")
    breaker.success()
    expect(breaker.state).toBe("closed")
    expect(breaker.failures).toBe(0)
  })
})

describeWithRedis("redis store on a real server", () => {
  let server: RedisServer
  let admin: Redis
  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.port, server.host)
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  it("clear() removes only this namespace: other keys, other namespaces and look-alikes survive", async () => {
    const cache = await createRedisCache({ url: server.url, namespace: "app" })
    const neighbour = await createRedisCache({ url: server.url, namespace: "app:sub" })
    await cache.putMany(Array.from({ length: 300 }, (_, i) => [`doc-${i}`, i] as const))
    await neighbour.put("doc-1", "neighbour")
    await admin.set("app:hello", "plain key under the same prefix")
    await admin.set("unrelated", "1")
    await admin.hset("app:{00}:hash", "field", "a hash")
    await cache.clear()
    expect((await cache.inspect()).entryCount).toBe(0)
    expect(await neighbour.get("doc-1")).toBe("neighbour")
    expect(await admin.get("app:hello")).toBe("plain key under the same prefix")
    expect(await admin.get("unrelated")).toBe("1")
    expect(await admin.hget("app:{00}:hash", "field")).toBe("a hash")
    await cache.close()
    await neighbour.close()
  })

  it("a reply that arrived while the event loop was busy is not a timeout", async () => {
    const cache = await createRedisCache({ url: server.url, namespace: "busy", commandTimeout: 50, strict: true })
    await cache.put("k", "v")
    const pending = cache.get("k")
    const until = Date.now() + 200 // a synchronous render, four times the command timeout
    while (Date.now() < until) {}
    expect(await pending).toBe("v")
    await cache.close()
  })

  it("sets a Redis TTL from the entry's expiry", async () => {
    const cache = await createRedisCache({ url: server.url, namespace: "ttl" })
    await cache.put("short", 1, { ttl: 60_000 })
    await cache.put("forever", 2)
    const store = cache.store as RedisStore
    const ttl = await admin.pttl(store.layout.name(cache.entryId("short")))
    expect(ttl).toBeGreaterThan(50_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    expect(await admin.pttl(store.layout.name(cache.entryId("forever")))).toBe(-1)
    await cache.close()
  })

  it("createCache with `redis.secret` signs every entry; unsigned and tampered entries are counted misses", async () => {
    const options = { resolveFrom: import.meta.url, onWarning: () => {} }
    const signed = await createCache({ backend: "redis", redis: { url: server.url, namespace: "signed", secret } }, options)
    await signed.putMany([
      ["a", "A"],
      ["b", "B"],
    ])
    const bytes = await signed.store.get(signed.entryId("a"))
    expect(readEntryHeader(bytes as Uint8Array).flags & 2).toBe(2)
    const unsigned = await createCache({ backend: "redis", redis: { url: server.url, namespace: "signed" } }, options)
    expect(await unsigned.get("a")).toBeUndefined()
    // A tampered payload byte.
    const name = (signed.store as RedisStore).layout.name(signed.entryId("b"))
    const stored = (await admin.getBuffer(name)) as Buffer
    stored[30] = (stored[30] as number) ^ 1
    await admin.set(name, stored)
    expect(await signed.get("b")).toBeUndefined()
    expect((await signed.inspect()).errors).toBe(1)
    await signed.close()
    await unsigned.close()
  })

  it("read-only: reads work and not one write command reaches Redis", async () => {
    const writer = await createRedisCache({ url: server.url, namespace: "ro" })
    await writer.put("a", "A")
    const monitor = await admin.monitor()
    const commands: string[] = []
    monitor.on("monitor", (_time: string, args: string[]) => commands.push(String(args[0]).toUpperCase()))
    // The Redis user the README suggests for pull-request jobs: it cannot write at all.
    expect(
      await server.command("ACL", "SETUSER", "ci-pr", "on", ">pr-password", "~ro:*", "-@all", "+@read", "+@connection", "+info"),
    ).toBe("OK")
    const warnings: string[] = []
    let now = Date.now() + 1e9 // every entry with a TTL has expired by this clock
    const reader = await createCache(
      {
        backend: "redis",
        mode: "read-only",
        redis: { url: `redis://ci-pr:pr-password@127.0.0.1:${server.port}`, namespace: "ro" },
      },
      { resolveFrom: import.meta.url, clock: () => now, onWarning: (message) => warnings.push(message) },
    )
    // Expired by the reader's clock, not by Redis's: a read-write cache would delete it on read.
    await writer.put("late", "L", { ttl: 60_000 })
    // MONITOR reports in execution order: once it shows this marker, the writer's commands are behind us.
    await admin.echo("start of the read-only session")
    while (!commands.includes("ECHO")) await new Promise((resolve) => setTimeout(resolve, 5))
    commands.length = 0
    expect(await reader.get("a")).toBe("A")
    expect(await reader.getMany(["a", "late", "none"])).toEqual(["A", undefined, undefined])
    expect(await reader.put("new", 1)).toBe(false)
    expect(await reader.putMany([["new2", 2]])).toEqual([false])
    expect(await reader.delete("a")).toBe(false)
    await reader.clear()
    await reader.persist()
    expect((await reader.inspect()).entryCount).toBe(2)
    // The store itself refuses writes too, whoever calls it.
    expect(await reader.store.add(reader.entryId("x"), new Uint8Array(40), { created: 0, expires: 0 }, 0)).toBe(false)
    await reader.close()
    now = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 50))
    monitor.disconnect()
    const writes = commands.filter((name) =>
      /^(SET|SETEX|PSETEX|EVAL|EVALSHA|UNLINK|DEL|EXPIRE|PEXPIRE|SCRIPT|FLUSHDB|FLUSHALL|MSET)$/.test(name),
    )
    expect(writes).toEqual([])
    expect(warnings).toEqual([])
    expect(commands).toContain("GET")
    expect(await writer.getMany(["a", "late"])).toEqual(["A", "L"])
    await writer.close()
  })

  it("prune({ olderThan }) goes by the server's idle times (the rest of prune is the conformance suite's prune group)", async () => {
    const cache = await createRedisCache({ url: server.url, namespace: "prune-idle" })
    await cache.putMany(Array.from({ length: 12 }, (_, i) => [`k${i}`, "x".repeat(100)] as const))
    // Written a moment ago: nothing has been idle for a minute.
    expect(await cache.prune({ olderThan: 60_000 })).toEqual({ removedCount: 0, removedSize: 0 })
    expect(await cache.prune({ olderThan: 0 })).toMatchObject({ removedCount: 12 })
    expect((await cache.inspect()).entryCount).toBe(0)
    await cache.close()
  })

  it("an adopted client is used as is and left open by close()", async () => {
    const client = new Redis(server.port, server.host)
    const cache = await createRedisCache({ client, namespace: "adopted" })
    expect(cache.name).toMatch(/existing client/)
    await cache.put("k", "v")
    expect(await cache.get("k")).toBe("v")
    await cache.close()
    expect(client.status).toBe("ready")
    expect(await client.ping()).toBe("PONG")
    client.disconnect()
  })

  it("reports its health; close() leaves nothing that keeps a process alive", async () => {
    const cache = await createRedisCache({ url: server.url, namespace: "health" })
    expect((cache.store as RedisStore).health).toMatchObject({ status: "ready", breaker: "closed", consecutiveFailures: 0 })
    await cache.close()
    const stdout = await runChildScript(
      `
        import { createRedisCache } from "@sitecache/backend-redis"
        const cache = await createRedisCache({ url: ${JSON.stringify(server.url)}, namespace: "child" })
        await cache.put("k", "v")
        process.stdout.write(String(await cache.get("k")))
        await cache.close()
      `,
      { cwd: packageRoot, timeoutMs: 30_000 },
    )
    expect(stdout).toBe("v")
  })

  it("RedisStore.open adopts resolved options; getMany of many keys is batched", async () => {
    const store = await RedisStore.open({ url: server.url, namespace: "batch", batchSize: 7 })
    const ids = Array.from({ length: 100 }, (_, i) => ({ prefix: key("p"), key: key(i) }))
    const bytes = ids.map((_, i) => new Uint8Array([i]))
    expect(
      await store.addMany(
        ids.map((id, i) => [id, bytes[i] as Uint8Array, { created: 0, expires: 0 }] as const),
        0,
      ),
    ).toEqual(Array(100).fill(true))
    const got = await store.getMany(ids)
    expect(got.map((value) => value?.[0])).toEqual(ids.map((_, i) => i))
    expect(await store.deleteMany(ids)).toBe(100)
    await store.close()
  })
})
