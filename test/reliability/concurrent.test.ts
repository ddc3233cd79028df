/**
 * Several processes on one cache at once, while other processes keep every
 * core busy: 4 writers × 2,000 puts of overlapping keys, and 2 readers
 * checking every hit by content hash. No process sees an error, every
 * acknowledged entry is there afterwards with the bytes that were put, and
 * the entry count is exact. (Whole builds at once: concurrent-builds.test.ts.)
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BACKENDS, openCache, runChild, saturateCores, scratchDir } from "./support.js"
import { contentHashOf, keyOf, sizeOf, valueFor } from "./values.js"

const WRITERS = 4
const READERS = 2
const PUTS = 2000
/** Fewer keys than puts: writers collide on most of them. */
const POOL = 3000
const MIN_SIZE = 256
const MAX_SIZE = 8192

interface WriterSummary {
  acked: number[]
  added: number
  errors: number
  warnings: string[]
}
interface ReaderSummary {
  reads: number
  hits: number
  mismatches: number[]
  errors: number
  warnings: string[]
}

describe.each(BACKENDS)("%s: several processes on one cache", (backend) => {
  it(`${WRITERS} writers × ${PUTS} puts of overlapping keys and ${READERS} readers: nothing lost, nothing wrong`, async () => {
    const scratch = scratchDir(`concurrent-${backend}`)
    const dir = join(scratch, "cache")
    const stop = join(scratch, "stop")
    const range = [String(POOL), String(MIN_SIZE), String(MAX_SIZE)]
    const busy = saturateCores()
    const readers = Array.from({ length: READERS }, (_, r) =>
      runChild<ReaderSummary>(["read", backend, dir, String(100 + r), ...range, stop]),
    )
    let writers: WriterSummary[]
    try {
      writers = await Promise.all(
        Array.from({ length: WRITERS }, (_, w) =>
          runChild<WriterSummary>(["write", backend, dir, String(w + 1), String(PUTS), ...range]),
        ),
      )
    } finally {
      writeFileSync(stop, "")
      busy()
    }
    const reads = await Promise.all(readers)

    for (const writer of writers)
      expect({ errors: writer.errors, warnings: writer.warnings }).toEqual({ errors: 0, warnings: [] })
    for (const reader of reads) {
      expect({ errors: reader.errors, warnings: reader.warnings, mismatches: reader.mismatches }).toEqual({
        errors: 0,
        warnings: [],
        mismatches: [],
      })
    }
    const acked = new Set(writers.flatMap((writer) => writer.acked))
    // Each key was added by exactly one writer; the others found it there.
    expect(writers.reduce((sum, writer) => sum + writer.added, 0)).toBe(acked.size)

    const cache = await openCache(backend, dir)
    const keys = [...acked]
    const values = await cache.getMany(keys.map(keyOf))
    const wrong = keys.filter((i, n) => contentHashOf(values[n]) !== contentHashOf(valueFor(i, sizeOf(i, MIN_SIZE, MAX_SIZE))))
    expect(wrong).toEqual([])
    const info = await cache.inspect()
    expect({ entryCount: info.entryCount, errors: info.errors }).toEqual({ entryCount: acked.size, errors: 0 })
    await cache.close()
    console.log(
      `${backend}: ${acked.size} distinct keys from ${WRITERS * PUTS} puts; readers: ${reads.map((r) => `${r.hits}/${r.reads} hits`).join(", ")}`,
    )
  }, 180_000)
})
