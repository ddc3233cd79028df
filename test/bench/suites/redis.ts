/**
 * Warm lookups of 10,000 entries of 8 KiB on a loopback Redis that the suite
 * starts itself: the cache one `get` at a time, `getMany`, and `prefetch`
 * into a memory tier, against raw ioredis `GET` one at a time and raw `MGET`
 * in batches of 100 on the same keys, each followed by the same decode
 * (entry checks, then the codec). Then the same with signed entries, for the
 * cost of HMAC-SHA256.
 *
 * Targets (issue 4): `getMany` ≥ 0.7× the speed of raw MGET in batches plus
 * the same decode, and ≥ 10× the speed of one GET per key.
 */
import { createRedisCache, type RedisStore } from "@sitecache/backend-redis"
import { decodeEntry, key, MemoryStore, StoreCache, TieredStore, v8Codec } from "@sitecache/core"
import { Redis } from "ioredis"
import { startRedisServer } from "../../support/redis.js"
import { sampleText } from "../corpus-text.js"
import { type Bench, formatNs, type Measurement } from "../harness.js"

const SECRET = "bench-secret-0123456789abcdef-0123456789"
const MAX_PAYLOAD = 512 * 1024 * 1024
const MGET_BATCH = 100

function perKey(measurement: Measurement, count: number): number {
  return measurement.nsPerOp / count
}

export default async function redis(bench: Bench): Promise<void> {
  const count = bench.smoke ? 1_000 : 10_000
  const server = await startRedisServer()
  const raw = new Redis(server.port, server.host)
  try {
    const keys = Array.from({ length: count }, (_, i) => key("bench-doc", i))
    // ~8 KiB of ASCII HTML per value (one byte per character in the codec).
    const values = keys.map((_, i) => ({ html: sampleText(8192, i + 1).replace(/[^\x20-\x7e\n]/g, "x"), i }))
    const secret = new TextEncoder().encode(SECRET)

    const rows: { label: string; value: string; ratio?: string; note?: string }[] = []
    const data: Record<string, number> = {}
    for (const signed of [false, true]) {
      const namespace = signed ? "bench-signed" : "bench"
      const cache = await createRedisCache({ url: server.url, namespace, ...(signed ? { secret: SECRET } : {}) })
      const store = cache.store as RedisStore
      for (let i = 0; i < count; i += 1000) {
        await cache.putMany(keys.slice(i, i + 1000).map((k, j) => [k, values[i + j]] as const))
      }
      const names = keys.map((k) => store.layout.name(cache.entryId(k)))
      const decode = (bytes: Buffer | null) =>
        bytes === null
          ? undefined
          : v8Codec.decode(decodeEntry(bytes, { maxPayload: MAX_PAYLOAD, secret: signed ? secret : undefined }).payload)

      // One GET per key is slow: time a slice of the keys.
      const single = Math.min(count, bench.smoke ? 500 : 2000)
      const rawGet = await bench.measure(`raw GET one by one${signed ? " (signed)" : ""}`, single, async (i) =>
        decode(await raw.getBuffer(names[i % count] as string)),
      )
      const cacheGet = await bench.measure(`cache.get one by one${signed ? " (signed)" : ""}`, single, (i) =>
        cache.get(keys[i % count] as (typeof keys)[number]),
      )
      const rawMget = await bench.measureOnce(`raw MGET batches of ${MGET_BATCH}${signed ? " (signed)" : ""}`, async () => {
        let found = 0
        for (let i = 0; i < count; i += MGET_BATCH) {
          for (const bytes of await raw.mgetBuffer(names.slice(i, i + MGET_BATCH))) if (decode(bytes) !== undefined) found++
        }
        if (found !== count) throw new Error(`raw MGET found ${found} of ${count}`)
      })
      const getMany = await bench.measureOnce(`cache.getMany${signed ? " (signed)" : ""}`, async () => {
        const got = await cache.getMany(keys)
        if (got.some((value) => value === undefined)) throw new Error("getMany missed")
      })
      const prefetched = { prefetch: 0, getMany: 0 }
      const prefetch = await bench.measureOnce(`prefetch + getMany from memory${signed ? " (signed)" : ""}`, async () => {
        const tiered = new StoreCache(new TieredStore([new MemoryStore({ maxSize: 1024 ** 3 }), store]), {
          ...(signed ? { secret: SECRET } : {}),
        })
        const started = process.hrtime.bigint()
        if ((await tiered.prefetch(keys)) !== count) throw new Error("prefetch missed")
        const warmed = process.hrtime.bigint()
        const got = await tiered.getMany(keys)
        if (got.some((value) => value === undefined)) throw new Error("tiered getMany missed")
        prefetched.prefetch = Number(warmed - started)
        prefetched.getMany = Number(process.hrtime.bigint() - warmed)
      })

      const label = signed ? " (signed)" : ""
      const mgetNs = perKey(rawMget, count)
      const getManyNs = perKey(getMany, count)
      const speedVsMget = mgetNs / getManyNs
      const speedVsGet = rawGet.nsPerOp / getManyNs
      rows.push(
        { label: `raw GET one by one + decode${label}`, value: `${formatNs(rawGet.nsPerOp)}/key` },
        { label: `raw MGET ×${MGET_BATCH} + decode${label}`, value: `${formatNs(mgetNs)}/key` },
        { label: `cache.get one by one${label}`, value: `${formatNs(cacheGet.nsPerOp)}/key` },
        {
          label: `cache.getMany(${count})${label}`,
          value: `${formatNs(getManyNs)}/key`,
          ratio: `${speedVsMget.toFixed(2)}×`,
          note: `speed of raw MGET (target ≥ 0.70${signed ? " unsigned" : ""}); ${speedVsGet.toFixed(1)}× raw GET one by one (target ≥ 10)`,
        },
        {
          label: `prefetch + getMany (memory tier)${label}`,
          value: `${formatNs(perKey(prefetch, count))}/key`,
          note: `prefetch ${formatNs(prefetched.prefetch / count)}/key, then getMany from memory ${formatNs(prefetched.getMany / count)}/key`,
        },
      )
      data[`${signed ? "signed" : "plain"}.rawGetNs`] = rawGet.nsPerOp
      data[`${signed ? "signed" : "plain"}.rawMgetNs`] = mgetNs
      data[`${signed ? "signed" : "plain"}.cacheGetNs`] = cacheGet.nsPerOp
      data[`${signed ? "signed" : "plain"}.getManyNs`] = getManyNs
      data[`${signed ? "signed" : "plain"}.prefetchNs`] = perKey(prefetch, count)
      await cache.close()
    }
    const plain = data["plain.getManyNs"] as number
    const signedNs = data["signed.getManyNs"] as number
    rows.push({
      label: "signing (HMAC-SHA256) cost in getMany",
      value: `${formatNs(signedNs - plain)}/key`,
      ratio: `${(signedNs / plain).toFixed(2)}×`,
      note: "time of signed vs unsigned getMany",
    })
    const mgetTarget = (data["plain.rawMgetNs"] as number) / plain >= 0.7
    const getTarget = (data["plain.rawGetNs"] as number) / plain >= 10
    bench.table(
      `Redis on loopback: warm lookup of ${count} entries of 8 KiB (getMany vs raw MGET: ${mgetTarget ? "target met" : "TARGET MISSED"}; vs one GET per key: ${getTarget ? "target met" : "TARGET MISSED"})`,
      rows,
    )
    bench.record("redis", { count, ...data, targets: { getManyVsMget: mgetTarget, getManyVsGet: getTarget } })
  } finally {
    raw.disconnect()
    await server.stop()
  }
}
