/**
 * Warm lookups of 10,000 entries of 8 KiB on a loopback Redis that the suite
 * starts itself: the cache one `get` at a time, `getMany`, and `prefetch`
 * into a memory tier, against raw ioredis `GET` one at a time and raw `MGET`
 * in batches of 100 on the same keys, each followed by the same decode
 * (entry checks, then the codec). Then the same with signed entries, for the
 * cost of HMAC-SHA256.
 *
 * The methods take turns within each round (median of `repeat` rounds), so a
 * load change on a shared machine moves them together.
 *
 * Targets (issue 4): `getMany` ≥ 0.7× the speed of raw MGET in batches plus
 * the same decode, and ≥ 10× the speed of one GET per key.
 */

import { createRedisCache, type RedisStore } from "@sitecache/backend-redis"
import { decodeEntry, jsonOrV8Codec, key, MemoryStore, StoreCache, TieredStore } from "@sitecache/core"
import { Redis } from "ioredis"
import { startRedisServer } from "../../support/redis.js"
import { sampleText } from "../corpus-text.js"
import { type Bench, collectGarbage, formatNs, median } from "../harness.js"

const SECRET = "bench-secret-0123456789abcdef-0123456789"
const MAX_PAYLOAD = 512 * 1024 * 1024
const MGET_BATCH = 100

type Method = "rawGet" | "rawGetNoDecode" | "rawMget" | "cacheGet" | "getMany" | "prefetch" | "prefetchOnly"

export default async function redis(bench: Bench): Promise<void> {
  const count = bench.smoke ? 1_000 : 10_000
  /** One GET per key is slow: it is timed on a slice of the keys. */
  const single = bench.smoke ? 300 : 1_000
  const server = await startRedisServer()
  const raw = new Redis(server.port, server.host)
  try {
    const keys = Array.from({ length: count }, (_, i) => key("bench-doc", i))
    // ~8 KiB of ASCII HTML per value (one byte per character in the codec).
    const values = keys.map((_, i) => ({ html: sampleText(8192, i + 1).replace(/[^\x20-\x7e\n]/g, "x"), i }))
    const secret = new TextEncoder().encode(SECRET)

    const rows: { label: string; value: string; ratio?: string; note?: string }[] = []
    const figures: Record<string, Record<Method, number>> = {}
    const variants: {
      signed: boolean
      cache: StoreCache
      methods: Record<Method, () => Promise<number>>
      prefetchOnly: number[]
    }[] = []
    for (const signed of [false, true]) {
      // Generous timeouts: this measures throughput on a shared, busy machine, not how fast a fault is noticed.
      const cache = await createRedisCache({
        url: server.url,
        namespace: signed ? "bench-signed" : "bench",
        commandTimeout: 10_000,
        ...(signed ? { secret: SECRET } : {}),
      })
      const store = cache.store as RedisStore
      for (let i = 0; i < count; i += 500) await cache.putMany(keys.slice(i, i + 500).map((k, j) => [k, values[i + j]] as const))
      const names = keys.map((k) => store.layout.name(cache.entryId(k)))
      const decode = (bytes: Buffer | null) =>
        bytes === null
          ? undefined
          : jsonOrV8Codec.decode(decodeEntry(bytes, { maxPayload: MAX_PAYLOAD, secret: signed ? secret : undefined }).payload)
      const check = (found: number, expected: number, what: string) => {
        if (found !== expected) throw new Error(`${what}: found ${found} of ${expected}`)
      }
      const prefetchOnly: number[] = []

      /** One run of each method, returning ns per key. */
      const methods: Record<Method, () => Promise<number>> = {
        rawGetNoDecode: async () => {
          const started = process.hrtime.bigint()
          let found = 0
          for (let i = 0; i < single; i++) if ((await raw.getBuffer(names[i] as string)) !== null) found++
          check(found, single, "raw GET")
          return Number(process.hrtime.bigint() - started) / single
        },
        rawGet: async () => {
          const started = process.hrtime.bigint()
          let found = 0
          for (let i = 0; i < single; i++) if (decode(await raw.getBuffer(names[i] as string)) !== undefined) found++
          check(found, single, "raw GET + decode")
          return Number(process.hrtime.bigint() - started) / single
        },
        cacheGet: async () => {
          const started = process.hrtime.bigint()
          let found = 0
          for (let i = 0; i < single; i++) if ((await cache.get(keys[i] as (typeof keys)[number])) !== undefined) found++
          check(found, single, "cache.get")
          return Number(process.hrtime.bigint() - started) / single
        },
        rawMget: async () => {
          // The decoded values are kept, as getMany returns them all.
          const started = process.hrtime.bigint()
          const got: unknown[] = []
          for (let i = 0; i < count; i += MGET_BATCH) {
            for (const bytes of await raw.mgetBuffer(names.slice(i, i + MGET_BATCH))) got.push(decode(bytes))
          }
          check(got.filter((value) => value !== undefined).length, count, "raw MGET + decode")
          return Number(process.hrtime.bigint() - started) / count
        },
        getMany: async () => {
          const started = process.hrtime.bigint()
          const got = await cache.getMany(keys)
          check(got.filter((value) => value !== undefined).length, count, "getMany")
          return Number(process.hrtime.bigint() - started) / count
        },
        prefetchOnly: async () => 0, // filled in by `prefetch`
        prefetch: async () => {
          const tiered = new StoreCache(new TieredStore([new MemoryStore({ maxSize: 1024 ** 3 }), store]), {
            ...(signed ? { secret: SECRET } : {}),
          })
          const started = process.hrtime.bigint()
          check(await tiered.prefetch(keys), count, "prefetch")
          prefetchOnly.push(Number(process.hrtime.bigint() - started) / count)
          const got = await tiered.getMany(keys)
          check(got.filter((value) => value !== undefined).length, count, "getMany after prefetch")
          return Number(process.hrtime.bigint() - started) / count
        },
      }
      for (const run of Object.values(methods)) await run() // warm up every path once
      prefetchOnly.length = 0
      variants.push({ signed, cache, methods, prefetchOnly })
    }

    // Every method, plain and signed, takes its turn in each round.
    const samples = variants.map(
      ({ methods }) => Object.fromEntries(Object.keys(methods).map((name) => [name, [] as number[]])) as Record<Method, number[]>,
    )
    for (let round = 0; round < bench.repeat; round++) {
      for (const [v, variant] of variants.entries()) {
        for (const [name, run] of Object.entries(variant.methods) as [Method, () => Promise<number>][]) {
          collectGarbage()
          ;(samples[v] as Record<Method, number[]>)[name].push(await run())
        }
      }
    }
    for (const [v, { signed, cache, prefetchOnly }] of variants.entries()) {
      const list = samples[v] as Record<Method, number[]>
      list.prefetchOnly = prefetchOnly
      const figure = Object.fromEntries(Object.entries(list).map(([name, runs]) => [name, median(runs)])) as Record<
        Method,
        number
      >
      figures[signed ? "signed" : "plain"] = figure
      const label = signed ? " (signed)" : ""
      rows.push(
        { label: `raw GET one by one${label}`, value: `${formatNs(figure.rawGetNoDecode)}/key`, note: "no decode" },
        { label: `raw GET one by one + decode${label}`, value: `${formatNs(figure.rawGet)}/key` },
        { label: `raw MGET ×${MGET_BATCH} + decode${label}`, value: `${formatNs(figure.rawMget)}/key` },
        {
          label: `cache.get one by one${label}`,
          value: `${formatNs(figure.cacheGet)}/key`,
          ratio: `${(figure.rawGet / figure.cacheGet).toFixed(2)}×`,
          note: "speed of raw GET + decode",
        },
        {
          label: `cache.getMany(${count})${label}`,
          value: `${formatNs(figure.getMany)}/key`,
          ratio: `${(figure.rawMget / figure.getMany).toFixed(2)}×`,
          note:
            `speed of raw MGET + decode${signed ? "" : " (target ≥ 0.70)"}; ` +
            `${(figure.rawGet / figure.getMany).toFixed(1)}× raw GET + decode${signed ? "" : " (target ≥ 10)"}, ` +
            `${(figure.rawGetNoDecode / figure.getMany).toFixed(1)}× raw GET without decode`,
        },
        {
          label: `prefetch, then getMany from memory${label}`,
          value: `${formatNs(figure.prefetch)}/key`,
          note: `of which prefetch ${formatNs(figure.prefetchOnly)}/key`,
        },
      )
      await cache.close()
    }
    const plain = figures.plain as Record<Method, number>
    const signed = figures.signed as Record<Method, number>
    rows.push({
      label: "signing (HMAC-SHA256) in getMany",
      value: `${signed.getMany >= plain.getMany ? "+" : "−"}${formatNs(Math.abs(signed.getMany - plain.getMany))}/key`,
      ratio: `${(signed.getMany / plain.getMany).toFixed(2)}×`,
      note: "time of signed vs unsigned getMany",
    })
    const targets = {
      getManyVsMget: plain.rawMget / plain.getMany >= 0.7,
      getManyVsGet: plain.rawGet / plain.getMany >= 10,
    }
    bench.table(
      `Redis on loopback: warm lookup of ${count} entries of 8 KiB, median of ${bench.repeat} interleaved rounds ` +
        `(getMany ≥ 0.7× raw MGET: ${targets.getManyVsMget ? "met" : "MISSED"}; ≥ 10× one GET per key: ${targets.getManyVsGet ? "met" : "MISSED"})`,
      rows,
    )
    bench.record("redis", { count, single, figures, targets })
  } finally {
    raw.disconnect()
    await server.stop()
  }
}
