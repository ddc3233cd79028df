/**
 * Every subcommand against one real backend, run through `main` as the binary runs it: a blog built
 * three times (one older key prefix, a changed document, a changed partial, a
 * new document), inspected, damaged on purpose and verified, explained,
 * pruned and cleared. Each backend's test file calls `describeCli` once.
 */
import { damageEntry } from "@sitecache/conformance"
import { type CacheConfig, createCache, Key, type RunSummary } from "@sitecache/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CliRun, type PopulatedSite, populateBlog, sitecache, tempProject } from "./helpers.js"

export interface CliTarget {
  /** The backend under test, as `inspect` reports it. */
  readonly backend: "fs" | "sqlite" | "redis"
  /** Prepare a project in `root`: the configuration the build uses, and how the command finds it (flags, env, files). */
  setup(root: string): Promise<{
    readonly config: CacheConfig
    readonly args?: readonly string[]
    readonly env?: Record<string, string>
  }>
  /** After `clear`: anything outside this cache that must have survived. */
  checkUntouched?(): Promise<void>
  teardown?(): Promise<void>
}

interface InspectReport {
  backend: string
  location: string
  entries: number
  bytes: number
  live: { entries: number; bytes: number }
  orphaned: { entries: number; bytes: number; prefixes: number }
  tools: {
    tool: string
    recorded: number
    documents: number
    recent: { builds: number; hits: number; misses: number; documents: number }
  }[]
  largest: { key: string; size: number; document: string | null; orphaned: boolean }[]
}

interface VerifyReport {
  checked: number
  ok: number
  damaged: number
  removed: number
  damagedEntries: { key: string; reason: string }[]
}

/** Entries the blog leaves under the old prefix. */
const ORPHANS = 4

export function describeCli(target: CliTarget): void {
  /**
   * Under the current prefix: 6 entries, and the build records (runs, manifest and its digest, tools, and, where
   * the store can sweep, the record of the sweep the first build ran: Redis expires entries itself).
   */
  const LIVE = 6 + (target.backend === "redis" ? 4 : 5)
  describe(`sitecache on ${target.backend}`, () => {
    let root: string
    let config: CacheConfig
    let site: PopulatedSite
    let run: (...args: string[]) => Promise<CliRun>

    beforeAll(async () => {
      root = await tempProject()
      const setup = await target.setup(root)
      config = { ...setup.config, root }
      run = (...args) => sitecache([...args, ...(setup.args ?? [])], { cwd: root, ...(setup.env ? { env: setup.env } : {}) })
      site = await populateBlog(config, root)
    })

    afterAll(async () => {
      await target.teardown?.()
    })

    it("inspect: entries, orphans, recent builds and largest entries", async () => {
      const [result, human] = await Promise.all([run("inspect", "--json"), run("inspect", "--top", "3")])
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      const report = result.json<InspectReport>()
      expect(report).toMatchObject({
        backend: target.backend,
        entries: ORPHANS + LIVE,
        live: { entries: LIVE },
        orphaned: { entries: ORPHANS, prefixes: 1 },
      })
      expect(report.bytes).toBe(report.live.bytes + report.orphaned.bytes)
      expect(report.orphaned.bytes).toBeGreaterThan(0)
      expect(report.tools).toHaveLength(1)
      expect(report.tools[0]).toMatchObject({
        tool: "blog",
        recorded: 3,
        documents: 5,
        recent: { builds: 3, documents: 13, hits: 2, misses: 11 },
      })
      // posts/big.md is stored twice, under the current and the older prefix: the two largest entries.
      const big = report.largest.slice(0, 2).sort((a, b) => Number(a.orphaned) - Number(b.orphaned))
      expect(big).toMatchObject([
        { key: site.keys["posts/big.md"], document: "posts/big.md", orphaned: false },
        { key: site.keys["posts/big.md"], document: null, orphaned: true },
      ])
      expect(report.largest.length).toBe(10)

      expect(human.code).toBe(0)
      expect(human.stdout).toContain(`${target.backend} cache at ${report.location}`)
      expect(human.stdout).toMatch(/orphaned: 4 entries, .* under 1 older key prefix/)
      expect(human.stdout).toMatch(/recent builds of blog \(3 builds; the last one had 5 documents\)/)
      expect(human.stdout).toMatch(/over these builds: 15\.4% hit rate/)
      // The last build's hits, timed step by step during the build (the blog renders through the unified adapter).
      const last = (report.tools[0] as unknown as { runs: RunSummary[] }).runs.at(-1)
      expect(last?.profile).toMatchObject({ hits: 2 })
      for (const step of ["keyUs", "readUs", "depsUs", "restoreUs"] as const)
        expect(last?.profile?.[step]).toBeGreaterThanOrEqual(0)
      expect(last?.profile?.readUs).toBeGreaterThan(0)
      expect(human.stdout).toMatch(
        /where a hit's time went in the last build \(2 hits, per document\):\n {4}key [\d.]+ (µs|ms), entry read [\d.]+ (µs|ms) \(store, checks, decode\), dependency check [\d.]+ (µs|ms), restore [\d.]+ (µs|ms): [\d.]+ (µs|ms) in the cache\n {4}the whole build: [\d.]+ (µs|ms) per document/,
      )
      expect(human.stdout).toMatch(/largest entries:\n.*\n(.*\(orphaned\)\n)?.*posts\/big\.md\n/)
    })

    it("verify: a sound cache passes with exit code 0", async () => {
      const result = await run("verify", "--json")
      expect(result.code).toBe(0)
      expect(result.json<VerifyReport>()).toMatchObject({ checked: ORPHANS + LIVE, ok: ORPHANS + LIVE, damaged: 0, removed: 0 })
    })

    it("verify: finds and removes entries damaged on purpose, with exit code 1", async () => {
      const cache = await createCache(config, { resolveFrom: import.meta.url })
      cache.setKeyPrefix("blog@2")
      const hello = site.keys["posts/hello.md"] as string
      const about = site.keys["about.md"] as string
      await damageEntry(cache, Key.fromHex(hello), "flip")
      await damageEntry(cache, Key.fromHex(about), "truncate")
      await cache.close()

      const dry = await run("verify", "--dry-run")
      expect(dry.code).toBe(1)
      expect(dry.stdout).toMatch(/damaged: {2}2 \(dry run: kept\)/)

      const result = await run("verify", "--json")
      expect(result.code).toBe(1)
      const report = result.json<VerifyReport>()
      expect(report).toMatchObject({ checked: ORPHANS + LIVE, ok: ORPHANS + LIVE - 2, damaged: 2, removed: 2 })
      expect(report.damagedEntries.map((entry) => entry.key).sort()).toEqual([about, hello].sort())
      expect(report.damagedEntries.find((entry) => entry.key === hello)?.reason).toMatch(/checksum mismatch/)

      const again = await run("verify")
      expect(again.code).toBe(0)
      const left = ORPHANS + LIVE - 2
      expect(again.stdout).toMatch(new RegExp(`: ${left} entries, .*\n {2}ok: {7}${left}\n {2}damaged: {2}0\n$`))
    })

    it("explain: a hit, a changed document, a changed partial, a new document", async () => {
      const [partial, hello, added, about, unknown] = await Promise.all([
        run("explain", "posts/partial.md", "--json"),
        run("explain", "hello.md"),
        run("explain", "posts/new.md"),
        run("explain", "./about.md"),
        run("explain", "posts/helo.md"),
      ])
      expect(partial.code).toBe(0)
      const [explanation] = partial.json<{ explanations: { hit: boolean; key: string; changes: unknown[] }[] }>().explanations
      expect(explanation).toMatchObject({ hit: false, key: site.keys["posts/partial.md"] })
      expect(explanation?.changes).toEqual([
        expect.objectContaining({ kind: "dependency", path: "_includes/footer.md", change: "changed" }),
      ])

      expect(hello.code).toBe(0)
      expect(hello.stdout).toMatch(/^posts\/hello\.md: miss in the last blog build/)
      expect(hello.stdout).toMatch(/- the content changed \([0-9a-f]{8} → [0-9a-f]{8}\)\n$/)

      expect(added.stdout).toMatch(/- a new document: the build before did not have it/)
      expect(about.stdout).toMatch(/^about\.md: hit in the last blog build/)

      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toMatch(/`posts\/helo\.md` is not a document of the last build of blog \(5 documents\)/)
    })

    it("prune --orphans removes the older prefix's entries; --older-than keeps fresh ones", async () => {
      const result = await run("prune", "--orphans", "--older-than", "30d", "--json")
      expect(result.code).toBe(0)
      const [pruned] = result.json<{
        pruned: { removedCount: number; orphans: { removedCount: number }; after: { entries: number } }[]
      }>().pruned
      expect(pruned).toMatchObject({ removedCount: ORPHANS, orphans: { removedCount: ORPHANS }, after: { entries: LIVE - 2 } })
      const report = (await run("inspect", "--json")).json<InspectReport>()
      expect(report.orphaned.entries).toBe(0)
      expect(report.entries).toBe(LIVE - 2)
    })

    it("prune --max-size evicts down to the bound and prints what it removed", async () => {
      const result = await run("prune", "--max-size", "2KB")
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/over 2\.0 KiB, least recently used first: removed [1-9]\d* entr(y|ies)/)
      const report = (await run("inspect", "--json")).json<InspectReport>()
      expect(report.bytes).toBeLessThanOrEqual(2048)
      expect(report.largest.some((entry) => entry.document === "posts/big.md")).toBe(false)
    })

    it("clear: refuses without --yes off a terminal, empties the cache with it", async () => {
      const refused = await run("clear")
      expect(refused.code).toBe(2)
      expect(refused.stderr).toMatch(/pass `--yes` to confirm/)
      const result = await run("clear", "--yes", "--json")
      expect(result.code).toBe(0)
      expect(result.json<{ cleared: { entries: number }[] }>().cleared[0]?.entries).toBe(0)
      const report = (await run("inspect", "--json")).json<InspectReport>()
      expect(report).toMatchObject({ entries: 0, bytes: 0, tools: [] })
      await target.checkUntouched?.()
    })
  })
}
