/**
 * Two tenants share one Redis server, each with its own namespace, secret and
 * ACL user (`~<namespace>:*`), as the README recommends. Neither can read nor
 * overwrite the other's entries: not through its own namespace, not when
 * pointed at the other's namespace, and not by planting its signed bytes
 * under the other's keys.
 */
import { createRedisCache, type RedisStore } from "@sitecache/backend-redis"
import type { StoreCache } from "@sitecache/core"
import { afterAll, afterEach, beforeAll, expect, it } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../support/redis.js"

const secrets = { alice: "a".repeat(16) + "alice-secret-0123456789", bob: "b".repeat(16) + "bob-secret-0123456789abcdef" }

describeWithRedis("two tenants on one server", () => {
  let server: RedisServer
  const open: StoreCache[] = []
  const tenant = async (user: "alice" | "bob", namespace: string, secret = secrets[user]) => {
    const warnings: string[] = []
    const cache = await createRedisCache({
      url: `redis://${user}:${user}-password@127.0.0.1:${server.port}`,
      namespace,
      secret,
      onWarning: (message) => warnings.push(message),
    })
    open.push(cache)
    return { cache, warnings }
  }

  beforeAll(async () => {
    server = await startRedisServer()
    for (const user of ["alice", "bob"]) {
      expect(await server.command("ACL", "SETUSER", user, "on", `>${user}-password`, `~${user}:*`, "+@all")).toBe("OK")
    }
  })
  afterEach(async () => {
    for (const cache of open.splice(0)) await cache.close()
  })
  afterAll(() => server?.stop())

  it("each namespace is its own: same keys, separate entries; one tenant's clear leaves the other's", async () => {
    const { cache: alice } = await tenant("alice", "alice")
    const { cache: bob } = await tenant("bob", "bob")
    expect(await alice.put("about.md", "<p>alice</p>")).toBe(true)
    expect(await bob.get("about.md")).toBeUndefined()
    expect(await bob.put("about.md", "<p>bob</p>")).toBe(true)
    expect(await alice.get("about.md")).toBe("<p>alice</p>")
    expect(await bob.get("about.md")).toBe("<p>bob</p>")
    await bob.clear()
    expect(await alice.get("about.md")).toBe("<p>alice</p>")
    expect((await alice.inspect()).entryCount).toBe(1)
  })

  it("pointed at the other's namespace, the ACL refuses every read and write: misses and dropped writes, nothing changed", async () => {
    const { cache: alice } = await tenant("alice", "alice")
    await alice.put("index.md", "<p>alice</p>")
    const { cache: intruder, warnings } = await tenant("bob", "alice")
    expect(await intruder.get("index.md")).toBeUndefined()
    expect(await intruder.put("index.md", "<p>bob</p>")).toBe(false)
    expect(await intruder.delete("index.md")).toBe(false)
    await intruder.clear()
    expect(warnings.join("\n")).toMatch(/NOPERM/)
    expect(await alice.get("index.md")).toBe("<p>alice</p>")
    expect((await alice.inspect()).errors).toBe(0)
  })

  it("bytes signed with another secret, planted under a tenant's key, read as a miss and are counted", async () => {
    const { cache: alice } = await tenant("alice", "alice")
    const { cache: bob } = await tenant("bob", "bob")
    await bob.put("page.md", "<p>planted</p>")
    const planted = await bob.store.get(bob.entryId("page.md"))
    expect(planted).toBeDefined()
    // An administrator's mistake or a compromised writer: the bytes land under alice's key.
    const name = (alice.store as RedisStore).layout.name(alice.entryId("page.md"))
    expect(await server.command("SET", name, planted as Uint8Array)).toBe("OK")
    expect(await alice.get("page.md")).toBeUndefined()
    const info = await alice.inspect()
    expect(info).toMatchObject({ misses: 1, errors: 1 })
  })

  it("without ACLs, a tenant misconfigured onto the other's namespace never reads its values; a read of it removes the entry", async () => {
    const admin = "redis://127.0.0.1:" // the default user: no key restrictions
    const alice = await createRedisCache({ url: `${admin}${server.port}`, namespace: "shared", secret: secrets.alice })
    const bob = await createRedisCache({ url: `${admin}${server.port}`, namespace: "shared", secret: secrets.bob })
    open.push(alice, bob)
    await alice.put("post.md", "<p>alice</p>")
    expect(await bob.put("post.md", "<p>bob</p>")).toBe(false)
    expect(await alice.get("post.md")).toBe("<p>alice</p>")
    expect(await bob.get("post.md")).toBeUndefined()
    expect((await bob.inspect()).errors).toBe(1)
    // The secret decides over the namespace (one secret per namespace): bob's read removed what he cannot
    // verify, so his own write is not blocked, and alice, reading his, does the same.
    expect(await bob.put("post.md", "<p>bob</p>")).toBe(true)
    expect(await alice.get("post.md")).toBeUndefined()
    expect(await bob.get("post.md")).toBeUndefined()
  })
})
