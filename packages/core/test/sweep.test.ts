/**
 * The automatic sweep at the end of a build (sweep.ts): entries unused for
 * `maxIdle` go, at most once a day, measured by last access; build records
 * stay; the run summary and `readSweep` say what was reclaimed.
 */
import { describe, expect, it } from "vitest"
import {
  BuildStats,
  type Cache,
  createCache,
  createMemoryCache,
  DEFAULT_MAX_IDLE,
  finishBuild,
  MemoryStore,
  memoize,
  NullStore,
  readRuns,
  readSweep,
  readTools,
  StoreCache,
  TieredStore,
} from "../src/index.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** One build of `documents` (path → content) whose pipeline is `pipeline` (a dependency bump changes it). */
async function build(cache: Cache, documents: Record<string, string>, pipeline: string) {
  const stats = new BuildStats()
  for (const [path, content] of Object.entries(documents)) {
    await memoize(cache, { content, path, pipeline }, () => `<p>${content}</p>`.repeat(20), { stats, document: path })
  }
  return finishBuild(cache, stats, "site")
}

const SITE = { "a.md": "alpha", "b.md": "beta", "c.md": "gamma" }

function clocked(options: Parameters<typeof createMemoryCache>[0] = {}) {
  const clock = { now: Date.UTC(2030, 0, 1) }
  const cache = createMemoryCache({ clock: () => clock.now, ...options })
  return { cache, clock }
}

describe("the sweep at the end of a build", () => {
  it("removes the entries of an older pipeline once unused for maxIdle, and keeps the build records", async () => {
    const { cache, clock } = clocked()
    const first = await build(cache, SITE, "remark@1")
    // The first build of a cache sweeps (an empty one: nothing to remove) and starts the record.
    expect(first.swept).toEqual({ entries: 0, bytes: 0 })
    const entries = (await cache.inspect()).entryCount
    // A dependency bump: every document gets a new key; the old entries are never read again.
    clock.now += DAY
    const bumped = await build(cache, SITE, "remark@2")
    expect(bumped.misses).toBe(3)
    expect(bumped.swept).toEqual({ entries: 0, bytes: 0 })
    const bumpedInfo = await cache.inspect()
    expect(bumpedInfo.entryCount).toBe(entries + 3)
    // A week after the old entries were last used, the next build's sweep removes them, and only them.
    clock.now += DEFAULT_MAX_IDLE
    const later = await build(cache, SITE, "remark@2")
    expect(later.hits).toBe(3)
    expect(later.swept?.entries).toBe(3)
    expect(later.swept?.bytes).toBeGreaterThan(3 * 20 * 5)
    const laterInfo = await cache.inspect()
    expect(laterInfo.entryCount).toBe(entries)
    expect(laterInfo.size).toBeLessThan(bumpedInfo.size)
    // The build records survived (they are older than a week too): history, tools, and the sweep's own record.
    expect((await readRuns(cache, "site")).map((run) => run.swept?.entries)).toEqual([0, 0, 3])
    expect(await readTools(cache)).toEqual(["site"])
    expect(await readSweep(cache)).toMatchObject({
      at: new Date(clock.now).toISOString(),
      maxIdle: DEFAULT_MAX_IDLE,
      removedCount: 3,
      sweeps: 3,
      totalCount: 3,
      since: new Date(Date.UTC(2030, 0, 1)).toISOString(),
    })
  })

  it("runs at most once a day: a build's cost does not grow with the cache", async () => {
    const { cache, clock } = clocked()
    await build(cache, SITE, "v1")
    let sweeps = 0
    const sweep = cache.sweep.bind(cache)
    cache.sweep = (options) => {
      sweeps++
      return sweep(options)
    }
    for (let i = 0; i < 10; i++) {
      clock.now += HOUR
      expect((await build(cache, SITE, "v1")).swept).toBeUndefined()
    }
    expect(sweeps).toBe(0)
    clock.now += 15 * HOUR
    expect((await build(cache, SITE, "v1")).swept).toEqual({ entries: 0, bytes: 0 })
    expect(sweeps).toBe(1)
    // A clock set back (a restored cache from a machine whose clock ran ahead) does not stop sweeps for good.
    clock.now -= 30 * DAY
    expect((await build(cache, SITE, "v1")).swept).toBeDefined()
    expect(sweeps).toBe(2)
  })

  it("never removes what another build on the same cache still uses, whatever its pipeline", async () => {
    const { cache, clock } = clocked()
    await build(cache, SITE, "main")
    await build(cache, { "x.md": "other site" }, "branch")
    for (let day = 0; day < 10; day++) {
      clock.now += DAY
      // Both configurations build every day; each build sweeps what neither used for a week.
      expect((await build(cache, SITE, "main")).hits).toBe(3)
      expect((await build(cache, { "x.md": "other site" }, "branch")).hits).toBe(1)
    }
    const runs = await readRuns(cache, "site")
    expect(runs.reduce((sum, run) => sum + (run.swept?.entries ?? 0), 0)).toBe(0)
  })

  it("is off with `maxIdle: false`, and in read-only mode", async () => {
    const off = clocked({ maxIdle: false })
    await build(off.cache, SITE, "v1")
    off.clock.now += 30 * DAY
    const run = await build(off.cache, SITE, "v2")
    expect(run.swept).toBeUndefined()
    expect(await readSweep(off.cache)).toBeUndefined()

    const { cache, clock } = clocked()
    await build(cache, SITE, "v1")
    clock.now += 30 * DAY
    const reader = new StoreCache(cache.store, { mode: "read-only", clock: () => clock.now })
    expect((await build(reader, SITE, "v2")).swept).toBeUndefined()
    expect((await readSweep(cache))?.sweeps).toBe(1)
  })

  it("sweeps any `Cache`, through the contract alone: a wrapper that is no `StoreCache` is swept too", async () => {
    const { cache, clock } = clocked()
    // Every member forwarded, as an instrumenting or forging wrapper does; nothing of `StoreCache` is reachable.
    const wrapper: Cache = new Proxy(cache, {
      get(target, property) {
        if (property === "store" || property === "check") return undefined
        const member = Reflect.get(target, property, target) as unknown
        return typeof member === "function" ? member.bind(target) : member
      },
    })
    await build(wrapper, SITE, "v1")
    clock.now += 8 * DAY
    const run = await build(wrapper, SITE, "v2")
    expect(run.swept?.entries).toBe(3)
    expect((await readSweep(cache))?.removedCount).toBe(3)
  })

  it("`maxIdle` is a duration in the configuration, checked", async () => {
    const cache = await createCache({ backend: "memory", maxIdle: "2d" })
    expect(cache.maxIdle).toBe(2 * DAY)
    expect((await createCache({ backend: "memory" })).maxIdle).toBe(DEFAULT_MAX_IDLE)
    expect((await createCache({ backend: "memory", maxIdle: false })).maxIdle).toBe(false)
    await expect(createCache({ backend: "memory", maxIdle: "soon" })).rejects.toThrow(/bad option `maxIdle`/)
    expect(() => createMemoryCache({ maxIdle: -1 })).toThrow(/bad option `maxIdle`/)
  })

  it("a tiered store sweeps every tier, and only when every tier can", async () => {
    const clock = { now: Date.UTC(2030, 0, 1) }
    const fast = new MemoryStore({ clock: () => clock.now })
    const slow = new MemoryStore({ clock: () => clock.now })
    const cache = new StoreCache(new TieredStore([fast, slow]), { clock: () => clock.now })
    await cache.put("old", "a")
    clock.now += 8 * DAY
    await cache.put("new", "b")
    expect(await cache.sweep({ maxIdle: DEFAULT_MAX_IDLE })).toEqual({ removedCount: 2, removedSize: expect.any(Number) })
    expect(await cache.get("old")).toBeUndefined()
    expect(await cache.get("new")).toBe("b")
    // A tier that cannot sweep (Redis) would serve back what the others removed: no sweep at all.
    expect(new TieredStore([new MemoryStore(), new NullStore()]).sweep).toBeUndefined()
  })
})
