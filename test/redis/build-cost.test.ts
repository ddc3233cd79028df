/**
 * A build's cost must not grow with the shared cache: the commands a build
 * sends to Redis are O(its own documents), whatever else the namespace holds.
 * Counted by the server itself (`INFO commandstats`, reset before each
 * build) on private servers: the same builds on an empty namespace and on one
 * that holds 100,000 other entries (half under the build's key prefix, other
 * sites' documents; half under another prefix, older builds') must send
 * exactly the same commands, and never a `SCAN` or `MEMORY USAGE`.
 * `sitecache inspect` may scan; a build may not.
 *
 * The caches wait for Redis as long as a test may take (`COMMAND_TIMEOUT`):
 * with the default second, a loaded machine once timed out a build's read
 * of its records (the list of tools), which the build then took for a miss
 * and wrote again, one `UNLINK` + `SET` more than the same build elsewhere.
 * What a fault costs is for the outage tests; here every build must see
 * none, and each says so (`errors: 0`) before its commands are compared.
 */
import { createHash } from "node:crypto"
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Cache, type CacheConfig, createCache, finishBuild, type StoreCache } from "@sitecache/core"
import { BLOG_PACKAGE_ROOT, build as buildBlog, loadSite } from "example-blog"
import { Cluster } from "ioredis"
import { afterAll, beforeAll, expect, it } from "vitest"
import {
  describeWithRedis,
  type RedisCluster,
  type RedisServer,
  redisCommand,
  startRedisCluster,
  startRedisServer,
} from "../support/redis.js"
import { build, makeDocs } from "./build.js"

const OTHERS = 100_000
const NAMESPACE = "shared"
const OTHER_PREFIX = "f".repeat(32)
/** Longer than any build here takes: no command may time out (see the top). */
const COMMAND_TIMEOUT = 60_000

/** A build's cache must have met no fault: a timed-out read is a miss, and changes what the build sends. */
function expectNoFault(cache: Cache): void {
  expect(cache.counters().errors).toBe(0)
}

/** `count` entries of the layout `<namespace>:{<tag>}:<prefix>:<key>`, alternately under `prefix` and another prefix. */
function otherEntries(count: number, prefix: string): Map<string, string[]> {
  const byTag = new Map<string, string[]>()
  for (let i = 0; i < count; i++) {
    const keyHex = createHash("md5").update(`other-${i}`).digest("hex")
    const tag = keyHex.slice(0, 2)
    let names = byTag.get(tag)
    if (names === undefined) byTag.set(tag, (names = []))
    names.push(`${NAMESPACE}:{${tag}}:${i % 2 === 0 ? prefix : OTHER_PREFIX}:${keyHex}`)
  }
  return byTag
}

/** Calls per command since the last reset, without the test's own `INFO` and `CONFIG`. */
function parseCommandStats(replies: readonly unknown[]): Record<string, number> {
  const calls: Record<string, number> = {}
  for (const reply of replies) {
    for (const match of String(reply).matchAll(/cmdstat_(\S+?):calls=(\d+)/g)) {
      const name = match[1] as string
      if (name === "info" || name.startsWith("config")) continue
      calls[name] = (calls[name] ?? 0) + Number(match[2])
    }
  }
  return Object.fromEntries(Object.entries(calls).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** The key prefix a cache of this codec and configuration uses (entries of the build's own prefix). */
async function buildPrefix(config: CacheConfig): Promise<string> {
  const cache = (await createCache(config)) as StoreCache
  const prefix = cache.keyPrefix.hex
  await cache.close()
  return prefix
}

describeWithRedis("what a build costs Redis, whatever the shared namespace holds", () => {
  let empty: RedisServer
  let full: RedisServer
  let site: Awaited<ReturnType<typeof loadSite>>
  let siteDir: string

  beforeAll(async () => {
    ;[empty, full] = await Promise.all([startRedisServer(), startRedisServer()])
    const prefix = await buildPrefix({
      backend: "redis",
      redis: { url: full.url, namespace: NAMESPACE, commandTimeout: COMMAND_TIMEOUT },
    })
    for (const names of otherEntries(OTHERS, prefix).values()) {
      const args = names.flatMap((name) => [name, "x".repeat(64)])
      await redisCommand(full.port, ["MSET", ...args], { timeoutMs: 30_000 })
    }
    expect(await full.command("DBSIZE")).toBe(OTHERS)
    siteDir = await mkdtemp(join(tmpdir(), "sitecache-build-cost-"))
    for (const folder of ["content", "layouts", "partials", "assets"]) {
      await cp(join(BLOG_PACKAGE_ROOT, folder), join(siteDir, folder), { recursive: true })
    }
    await writeFile(join(siteDir, "blog.config.json"), JSON.stringify({ title: "Cost" }))
    site = await loadSite({ cwd: siteDir, argv: [], env: {} })
  })
  afterAll(async () => {
    await Promise.all([empty?.stop(), full?.stop()])
    if (siteDir !== undefined) await rm(siteDir, { recursive: true, force: true })
  })

  /** The commands one build sent to `server`. */
  async function commandsOf(server: RedisServer, run: () => Promise<void>): Promise<Record<string, number>> {
    await server.command("CONFIG", "RESETSTAT")
    await run()
    return parseCommandStats([await server.command("INFO", "commandstats")])
  }

  it("the blog: cold, warm and read-only builds send the same commands next to 100,000 other entries as alone", async () => {
    const blogBuild = (server: RedisServer, mode: "read-write" | "read-only") => async () => {
      const cache = await createCache({
        backend: "redis",
        mode,
        redis: { url: server.url, namespace: NAMESPACE, commandTimeout: COMMAND_TIMEOUT },
      })
      try {
        await buildBlog(site, { cache })
        expectNoFault(cache)
      } finally {
        await cache.close()
      }
    }
    const sequence = ["read-write", "read-write", "read-only"] as const
    const alone: Record<string, number>[] = []
    const crowded: Record<string, number>[] = []
    for (const mode of sequence) alone.push(await commandsOf(empty, blogBuild(empty, mode)))
    for (const mode of sequence) crowded.push(await commandsOf(full, blogBuild(full, mode)))
    console.log(`blog builds (cold, warm, read-only), 35 documents: ${JSON.stringify(crowded)}`)
    expect(crowded).toEqual(alone)
    for (const calls of crowded) {
      expect(Object.keys(calls).filter((name) => /scan|memory|keys|dbsize/.test(name))).toEqual([])
      // A few commands per document (read, write, the build's records), never per stored entry.
      expect(Object.values(calls).reduce((a, b) => a + b, 0)).toBeLessThan(4 * 35 + 20)
    }
  })

  it("a build through a memory tier (prefetch of the last build's entries) costs the same next to 100,000 others", async () => {
    const tieredBuild = (server: RedisServer) => async () => {
      const cache = await createCache({
        backend: ["memory", "redis"],
        redis: { url: server.url, namespace: NAMESPACE, commandTimeout: COMMAND_TIMEOUT },
      })
      try {
        const { stats } = await build(cache, makeDocs(40))
        await finishBuild(cache, stats, "tiered")
        expectNoFault(cache)
      } finally {
        await cache.close()
      }
    }
    const alone = [await commandsOf(empty, tieredBuild(empty)), await commandsOf(empty, tieredBuild(empty))]
    const crowded = [await commandsOf(full, tieredBuild(full)), await commandsOf(full, tieredBuild(full))]
    expect(crowded).toEqual(alone)
    for (const calls of crowded) expect(Object.keys(calls).filter((name) => /scan|memory/.test(name))).toEqual([])
  })
})

describeWithRedis(
  "what a build costs a Redis Cluster, whatever the shared namespace holds",
  () => {
    let cluster: RedisCluster

    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3 })
    })
    afterAll(() => cluster?.stop())

    async function commandsOf(run: () => Promise<void>): Promise<Record<string, number>> {
      for (const node of cluster.nodes) await node.command("CONFIG", "RESETSTAT")
      await run()
      return parseCommandStats(await Promise.all(cluster.nodes.map((node) => node.command("INFO", "commandstats"))))
    }

    it("a build's commands, summed over the masters, do not change when 100,000 other entries join the namespace", async () => {
      const nodes = cluster.seeds.map(({ host, port }) => `${host}:${port}`)
      const config: CacheConfig = { backend: "redis", redis: { nodes, namespace: NAMESPACE, commandTimeout: COMMAND_TIMEOUT } }
      const clusterBuild = async () => {
        const cache = await createCache(config)
        try {
          const { stats } = await build(cache, makeDocs(40))
          await finishBuild(cache, stats, "cluster")
          expectNoFault(cache)
        } finally {
          await cache.close()
        }
      }
      const alone = [await commandsOf(clusterBuild), await commandsOf(clusterBuild)]
      // Each tag is one slot: one MSET per tag, routed by the cluster client.
      const client = new Cluster(cluster.seeds.map((seed) => ({ ...seed })))
      try {
        for (const names of otherEntries(OTHERS, await buildPrefix(config)).values()) {
          await client.mset(...names.flatMap((name) => [name, "x".repeat(64)]))
        }
      } finally {
        client.disconnect()
      }
      await clusterBuild() // the same documents again, now among the others: a warm build, as the second above
      const crowded = [await commandsOf(clusterBuild)]
      expect(crowded[0]).toEqual(alone[1])
      expect(Object.keys(crowded[0] ?? {}).filter((name) => /scan|memory/.test(name))).toEqual([])
    })
  },
  { cluster: true },
)
