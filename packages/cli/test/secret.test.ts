/**
 * `sitecache verify` checks entries with the secret a build of the same
 * configuration signs with: `redis.secret` included, and on every tier.
 * Forged entries are signed with another secret (what anyone who can write
 * the namespace but does not know the secret can produce) and must be found
 * as damaged, with exit code 1.
 */
import { join } from "node:path"
import { type CacheConfig, createCache } from "@sitecache/core"
import { afterEach, beforeEach, expect, it } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { sitecache, tempProject, writeFiles } from "./helpers.js"

const SECRET = "the team's secret, at least 32 bytes long"
const FORGER = "someone else's secret, also 32 bytes long"

interface VerifyReport {
  checked: number
  ok: number
  damaged: number
  unverifiable: number
  removed: number
  damagedEntries: { reason: string }[]
}

let root: string
beforeEach(async () => {
  root = await tempProject()
})

/** Three honest entries with `config`, then two forged ones: the same cache, another secret. */
async function fill(config: CacheConfig, forged: CacheConfig): Promise<void> {
  const honest = await createCache(config, { resolveFrom: import.meta.url })
  for (const name of ["a", "b", "c"]) await honest.put(name, `<p>${name}</p>`)
  await honest.close()
  const forger = await createCache(forged, { resolveFrom: import.meta.url })
  await forger.put("d", "<p>forged</p>")
  await forger.put("e", "<p>forged</p>")
  await forger.close()
}

describeWithRedis("verify with `redis.secret`", () => {
  let server: RedisServer | undefined
  beforeEach(async () => {
    server = await startRedisServer()
  })
  afterEach(async () => {
    await server?.stop()
  })

  it("a signed Redis namespace: forged entries are damaged (exit 1) and removed; the honest ones pass", async () => {
    const url = server?.url as string
    const redis = { url, namespace: "signed-site", secret: SECRET, commandTimeout: 10_000 }
    await fill({ backend: "redis", redis }, { backend: "redis", redis: { ...redis, secret: FORGER } })
    await writeFiles(root, { "sitecache.config.json": JSON.stringify({ backend: "redis", redis }) })
    const run = await sitecache(["verify", "--json"], { cwd: root })
    expect(run.code, run.stderr).toBe(1)
    const report = run.json<VerifyReport>()
    expect(report).toMatchObject({ checked: 5, ok: 3, damaged: 2, unverifiable: 0, removed: 2 })
    expect(report.damagedEntries.map((entry) => entry.reason)).toEqual([
      expect.stringMatching(/bad signature/),
      expect.stringMatching(/bad signature/),
    ])
    const again = await sitecache(["verify", "--json"], { cwd: root })
    expect(again.code, again.stderr).toBe(0)
    expect(again.json<VerifyReport>()).toMatchObject({ checked: 3, ok: 3, damaged: 0 })
    // And the build reads what verify kept.
    const build = await createCache({ backend: "redis", redis }, { resolveFrom: import.meta.url })
    expect(await build.get("a")).toBe("<p>a</p>")
    await build.close()
  })
})

it("one tier of a configuration with a Redis tier is checked with `redis.secret`, which signs every tier", async () => {
  const dir = join(root, "cache")
  // What a build of `backend: ["fs", "redis"]` writes to its fs tier: entries signed with `redis.secret`.
  await fill({ backend: "fs", dir, secret: SECRET }, { backend: "fs", dir, secret: FORGER })
  await writeFiles(root, {
    "sitecache.config.json": JSON.stringify({
      backend: ["fs", "redis"],
      dir: "cache",
      redis: { url: "redis://127.0.0.1:1", secret: SECRET },
    }),
  })
  const run = await sitecache(["verify", "--tier", "fs", "--json"], { cwd: root })
  expect(run.code, run.stderr).toBe(1)
  expect(run.json<VerifyReport>()).toMatchObject({ checked: 5, ok: 3, damaged: 2, unverifiable: 0 })
})
