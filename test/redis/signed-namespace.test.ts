/**
 * A team turns on `redis.secret` for a namespace its builds wrote without
 * one. The entries already there read as misses (they are unsigned); the
 * first signed build removes each one it meets and writes its own, so the
 * next build hits every document. The same goes for a rotated secret.
 * Read-only builds (pull requests) never remove anything, and a build
 * without the secret never removes a signed entry.
 *
 * The first case is the report's: the blog example (35 documents), one
 * build without a secret, then three with it.
 */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type CacheConfig, createCache, type StoreCache } from "@sitecache/core"
import { BLOG_PACKAGE_ROOT, build as buildBlog, loadSite } from "example-blog"
import { afterAll, beforeAll, expect, it } from "vitest"
import { describeWithRedis, type RedisCluster, type RedisServer, startRedisCluster, startRedisServer } from "../support/redis.js"
import { build, makeDocs } from "./build.js"

const SECRET = "a-team-secret-of-at-least-32-bytes-0123456789"
const ROTATED = "the-rotated-secret-of-at-least-32-bytes-98765"

/** Open a cache as a build would, with its warnings collected. */
async function open(config: CacheConfig): Promise<{ cache: StoreCache; warnings: string[] }> {
  const warnings: string[] = []
  const cache = (await createCache(config, { onWarning: (message) => warnings.push(message) })) as StoreCache
  return { cache, warnings }
}

/** One build of the simulated site in its own cache, closed after it: hits, misses and warnings. */
async function simulatedBuild(config: CacheConfig, docs = makeDocs(40)) {
  const { cache, warnings } = await open(config)
  try {
    const { stats } = await build(cache, docs, { concurrency: 4 })
    await cache.persist()
    return { hits: stats.hits, misses: stats.misses, warnings }
  } finally {
    await cache.close()
  }
}

describeWithRedis("turning on `redis.secret` for a namespace written without one", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer()
  })
  afterAll(() => server?.stop())

  it("the blog: the first signed build replaces what it meets, the next two hit all 35 documents", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sitecache-signed-blog-"))
    try {
      for (const folder of ["content", "layouts", "partials", "assets"]) {
        await cp(join(BLOG_PACKAGE_ROOT, folder), join(dir, folder), { recursive: true })
      }
      await writeFile(join(dir, "blog.config.json"), JSON.stringify({ title: "Signed" }))
      const site = await loadSite({ cwd: dir, argv: [], env: {} })
      const blogBuild = async (secret: string | undefined) => {
        const { cache, warnings } = await open({
          backend: "redis",
          redis: { url: server.url, namespace: "blog", ...(secret === undefined ? {} : { secret }) },
        })
        try {
          const result = await buildBlog(site, { cache })
          return { hits: result.stats.hits, misses: result.stats.misses, warnings }
        } finally {
          await cache.close()
        }
      }
      const unsigned = await blogBuild(undefined)
      expect(unsigned).toMatchObject({ hits: 0, misses: 35, warnings: [] })
      const signed = [await blogBuild(SECRET), await blogBuild(SECRET), await blogBuild(SECRET)]
      expect(signed.map((run) => [run.hits, run.misses])).toEqual([
        [0, 35],
        [35, 0],
        [35, 0],
      ])
      // One warning, in the first signed build only: the cause is gone afterwards.
      expect(signed[0]?.warnings).toEqual([expect.stringMatching(/unsigned entry in a signed cache.*removed/)])
      expect(signed[1]?.warnings).toEqual([])
      expect(signed[2]?.warnings).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("read-only builds with the secret remove nothing; the next read-write build heals", async () => {
    const redis = { url: server.url, namespace: "pull-requests" }
    await simulatedBuild({ backend: "redis", redis })
    const keysBefore = await server.command("DBSIZE")
    const readOnly = await simulatedBuild({ backend: "redis", mode: "read-only", redis: { ...redis, secret: SECRET } })
    expect(readOnly).toMatchObject({ hits: 0, misses: 40 })
    // The unsigned entries are all still there, and still serve a build without the secret.
    expect(await server.command("DBSIZE")).toBe(keysBefore)
    expect(await simulatedBuild({ backend: "redis", redis })).toMatchObject({ hits: 40, misses: 0 })
    expect(await simulatedBuild({ backend: "redis", redis: { ...redis, secret: SECRET } })).toMatchObject({ misses: 40 })
    expect(await simulatedBuild({ backend: "redis", redis: { ...redis, secret: SECRET } })).toMatchObject({ hits: 40 })
  })

  it("a build without the secret never removes a signed entry: the signed builds keep hitting", async () => {
    const redis = { url: server.url, namespace: "forgotten" }
    await simulatedBuild({ backend: "redis", redis: { ...redis, secret: SECRET } })
    const forgot = await simulatedBuild({ backend: "redis", redis })
    expect(forgot).toMatchObject({ hits: 0, misses: 40 })
    expect(forgot.warnings.join("\n")).toMatch(/left in place/)
    expect(await simulatedBuild({ backend: "redis", redis: { ...redis, secret: SECRET } })).toMatchObject({ hits: 40 })
  })

  it("a rotated secret heals in one build, through a memory tier too", async () => {
    const redis = { url: server.url, namespace: "rotation" }
    const tiers: CacheConfig["backend"] = ["memory", "redis"]
    await simulatedBuild({ backend: tiers, redis: { ...redis, secret: SECRET } })
    expect(await simulatedBuild({ backend: tiers, redis: { ...redis, secret: SECRET } })).toMatchObject({ hits: 40 })
    const first = await simulatedBuild({ backend: tiers, redis: { ...redis, secret: ROTATED } })
    expect(first).toMatchObject({ hits: 0, misses: 40 })
    expect(first.warnings.join("\n")).toMatch(/bad signature/)
    expect(await simulatedBuild({ backend: tiers, redis: { ...redis, secret: ROTATED } })).toMatchObject({
      hits: 40,
      warnings: [],
    })
  })

  it("two secrets on one namespace never read each other's values: each replaces the other's entries it meets", async () => {
    const redis = { url: server.url, namespace: "two-teams" }
    const teamA = { backend: "redis" as const, redis: { ...redis, secret: SECRET } }
    const teamB = { backend: "redis" as const, redis: { ...redis, secret: ROTATED } }
    // Documents both teams build (the same keys) and documents only B builds.
    const shared = makeDocs(20)
    const onlyB = makeDocs(40).slice(20)
    await simulatedBuild(teamA, shared)
    expect(await simulatedBuild(teamB, [...shared, ...onlyB])).toMatchObject({ hits: 0, misses: 40 })
    // A's next build misses what B replaced, and replaces it back; B's own documents are untouched.
    expect(await simulatedBuild(teamA, shared)).toMatchObject({ hits: 0, misses: 20 })
    expect(await simulatedBuild(teamB, onlyB)).toMatchObject({ hits: 20, misses: 0 })
  })
})

describeWithRedis(
  "turning on `redis.secret` on a Redis Cluster",
  () => {
    let cluster: RedisCluster
    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3 })
    })
    afterAll(() => cluster?.stop())

    it("the first signed build replaces the unsigned entries on every master, the next hits every document", async () => {
      const redis = { nodes: cluster.seeds.map(({ host, port }) => `${host}:${port}`), namespace: "cluster-site" }
      const docs = makeDocs(200)
      expect(await simulatedBuild({ backend: "redis", redis }, docs)).toMatchObject({ misses: 200 })
      const signed = { backend: "redis" as const, redis: { ...redis, secret: SECRET } }
      expect(await simulatedBuild(signed, docs)).toMatchObject({ hits: 0, misses: 200 })
      expect(await simulatedBuild(signed, docs)).toMatchObject({ hits: 200, misses: 0, warnings: [] })
    })
  },
  { cluster: true },
)
