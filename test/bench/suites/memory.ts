/**
 * The memory cache against a plain `Map` holding the same values: what the
 * contract (encoding for isolation, checksums, LRU, statistics) costs.
 */

import { deserialize, serialize } from "node:v8"
import { createMemoryCache, key } from "@sitecache/core"
import { sampleText } from "../corpus-text.js"
import { type Bench, formatNs, ratio } from "../harness.js"

export default async function memory(bench: Bench): Promise<void> {
  const count = bench.smoke ? 1_000 : 10_000
  const values = Array.from({ length: count }, (_, i) => ({
    html: sampleText(8192, i + 1),
    data: { title: `Page ${i}`, tags: ["a", "b"] },
  }))
  const keys = values.map((_, i) => key("doc", i))
  const map = new Map<string, unknown>()
  const mapPut = await bench.measure("Map.set", count, (i) => map.set(keys[i]!.hex, values[i]))
  const mapGet = await bench.measure("Map.get", count, (i) => map.get(keys[i]!.hex))
  const cloneMap = new Map<string, Uint8Array>()
  const clonePut = await bench.measure("Map.set(v8.serialize)", count, (i) => cloneMap.set(keys[i]!.hex, serialize(values[i])))
  const cloneGet = await bench.measure("v8.deserialize(Map.get)", count, (i) => deserialize(cloneMap.get(keys[i]!.hex)!))
  const cache = createMemoryCache({ maxSize: 1024 * 1024 * 1024 })
  let round = 0
  const put = await bench.measure("MemoryCache.put", count, async (i) => {
    if (i === 0) {
      await cache.clear()
      round++
    }
    await cache.put(keys[i]!, values[i])
  })
  const get = await bench.measure("MemoryCache.get", count, (i) => cache.get(keys[i]!))
  void round
  bench.table(`Memory cache vs Map, ${count} entries of ~8 KiB HTML + data`, [
    { label: "Map.get (shares the object)", value: formatNs(mapGet.nsPerOp) },
    { label: "v8.deserialize(Map.get)", value: formatNs(cloneGet.nsPerOp), note: "an isolated copy, no checks" },
    { label: "MemoryCache.get", value: formatNs(get.nsPerOp), ratio: ratio(get, cloneGet), note: "vs v8.deserialize(Map.get)" },
    { label: "Map.set", value: formatNs(mapPut.nsPerOp) },
    { label: "Map.set(v8.serialize)", value: formatNs(clonePut.nsPerOp) },
    { label: "MemoryCache.put", value: formatNs(put.nsPerOp), ratio: ratio(put, clonePut), note: "vs Map.set(v8.serialize)" },
  ])
  bench.record("memory", { mapGet, mapPut, cloneGet, clonePut, get, put })
  await cache.close()
}
