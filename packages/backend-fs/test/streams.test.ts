import { readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { runChildScript } from "@sitecache/conformance"
import { afterEach, describe, expect, it } from "vitest"
import { createFsCache, type FsCache } from "../src/index.js"
import { STREAM_BLOCK } from "../src/stream.js"
import { filesBelow, injectFaults, removeAll, scratch, systemError } from "./helpers.js"

const opened: FsCache[] = []
async function open(options: Parameters<typeof createFsCache>[0] = {}): Promise<FsCache> {
  const cache = await createFsCache({ dir: scratch(), ...options })
  opened.push(cache)
  return cache
}

afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close()
  removeAll()
})

/** `length` deterministic bytes. */
function bytesOf(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out[i] = x >> 16
  }
  return out
}

/** Feed `data` to a write stream in uneven chunks. */
async function writeStream(cache: FsCache, k: string, data: Buffer, options = {}): Promise<boolean> {
  const chunks: Buffer[] = []
  for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 13) % 100_000) chunks.push(data.subarray(at, at + n))
  const sink = cache.openForWrite(k, options)
  await pipeline(Readable.from(chunks), sink)
  return sink.added
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function streamFile(cache: FsCache, k: string): string {
  const id = cache.entryId(k)
  return join(cache.store.root, id.prefix.hex, id.key.hex.slice(0, 2), `${id.key.hex.slice(2)}.stream`)
}

describe("streamed entries", () => {
  for (const length of [0, 1, STREAM_BLOCK - 1, STREAM_BLOCK, STREAM_BLOCK + 1, 3 * 1024 * 1024 + 5]) {
    it(`round-trips ${length} bytes`, async () => {
      const cache = await open()
      const data = bytesOf(length, length)
      expect(await writeStream(cache, "blob", data)).toBe(true)
      const stream = await cache.openForRead("blob")
      expect(stream).toBeDefined()
      expect((await readAll(stream as Readable)).equals(data)).toBe(true)
      expect(filesBelow(cache.store.dir).filter((f) => f.includes(".tmp-"))).toEqual([])
    })
  }

  it("is put-if-absent, counted by inspect, removed by delete, and separate from values of the same key", async () => {
    const cache = await open()
    expect(await writeStream(cache, "k", bytesOf(1000, 1))).toBe(true)
    expect(await writeStream(cache, "k", bytesOf(1000, 2))).toBe(false)
    expect((await readAll((await cache.openForRead("k")) as Readable)).equals(bytesOf(1000, 1))).toBe(true)
    expect(await cache.get("k")).toBeUndefined()
    await cache.put("k", "a value")
    expect(await cache.get("k")).toBe("a value")
    const info = await cache.inspect()
    expect(info.entryCount).toBe(2)
    expect(await cache.delete("k")).toBe(true)
    expect(await cache.openForRead("k")).toBeUndefined()
    expect((await cache.inspect()).entryCount).toBe(0)
  })

  it("expires by ttl and is then replaced", async () => {
    let now = 1_000_000
    const cache = await open({ clock: () => now })
    expect(await writeStream(cache, "k", bytesOf(10, 1), { ttl: 100 })).toBe(true)
    now += 50
    ;(await cache.openForRead("k"))?.destroy()
    now += 49
    expect(await readAll((await cache.openForRead("k")) as Readable)).toHaveLength(10)
    now += 1
    expect(await cache.openForRead("k")).toBeUndefined()
    expect(await writeStream(cache, "k", bytesOf(10, 2))).toBe(true)
    expect((await readAll((await cache.openForRead("k")) as Readable)).equals(bytesOf(10, 2))).toBe(true)
  })

  for (const damage of ["flip a byte of the last block", "truncate", "pad", "empty", "flip the header"] as const) {
    it(`reads a stream damaged by "${damage}" as a miss, counts it, warns once and removes it`, async () => {
      const warnings: string[] = []
      const cache = await open({ onWarning: (message) => warnings.push(message) })
      const data = bytesOf(3 * STREAM_BLOCK + 100)
      await writeStream(cache, "k", data)
      const file = streamFile(cache, "k")
      const bytes = readFileSync(file)
      if (damage === "flip a byte of the last block") {
        bytes[bytes.length - 50] = (bytes[bytes.length - 50] as number) ^ 4
        writeFileSync(file, bytes)
      }
      if (damage === "truncate") truncateSync(file, bytes.length - 1000)
      if (damage === "pad") writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(8)]))
      if (damage === "empty") writeFileSync(file, "")
      if (damage === "flip the header") {
        bytes[1] = (bytes[1] as number) ^ 1
        writeFileSync(file, bytes)
      }
      expect(await cache.openForRead("k")).toBeUndefined()
      const info = await cache.inspect()
      expect(info).toMatchObject({ errors: 1, misses: 1, entryCount: 0 })
      expect(warnings).toHaveLength(1)
      expect(await writeStream(cache, "k", data)).toBe(true)
    })
  }

  it("with verifyFirst: false, hands out checked blocks only and errors at the damaged one", async () => {
    const cache = await open({ onWarning: () => {} })
    const data = bytesOf(3 * STREAM_BLOCK)
    await writeStream(cache, "k", data)
    const file = streamFile(cache, "k")
    const bytes = readFileSync(file)
    const inSecondBlock = 24 + STREAM_BLOCK + 8 + 10
    bytes[inSecondBlock] = (bytes[inSecondBlock] as number) ^ 1
    writeFileSync(file, bytes)
    const stream = (await cache.openForRead("k", { verifyFirst: false })) as Readable
    const received: Buffer[] = []
    await expect(
      (async () => {
        for await (const chunk of stream) received.push(chunk as Buffer)
      })(),
    ).rejects.toMatchObject({ code: "SITECACHE_CORRUPT" })
    expect(Buffer.concat(received).equals(data.subarray(0, STREAM_BLOCK))).toBe(true)
    expect((await cache.inspect()).errors).toBe(1)
    expect(await cache.openForRead("k")).toBeUndefined()
  })

  it("read-only mode writes nothing; write-only mode reads nothing", async () => {
    const dir = scratch()
    const writer = await open({ dir })
    await writeStream(writer, "k", bytesOf(100))
    const reader = await open({ dir, mode: "read-only" })
    expect(await writeStream(reader, "other", bytesOf(100))).toBe(false)
    expect(await reader.openForRead("other")).toBeUndefined()
    expect(await readAll((await reader.openForRead("k")) as Readable)).toHaveLength(100)
    const refresher = await open({ dir, mode: "write-only" })
    expect(await refresher.openForRead("k")).toBeUndefined()
    expect(readdirSync(dir)).toEqual(["CACHEDIR.TAG", "fs-v1"])
  })

  it("a fault while writing drops the entry quietly (or fails the stream when strict), leaving no temp file", async () => {
    let writes = 0
    const fileSystem = injectFaults({})
    const realOpen = fileSystem.promises.open
    fileSystem.promises = {
      ...fileSystem.promises,
      open: async (...args: Parameters<typeof realOpen>) => {
        const handle = await realOpen(...args)
        const write = handle.write.bind(handle)
        return Object.assign(handle, {
          write: (...a: Parameters<typeof write>) =>
            ++writes > 3 ? Promise.reject(systemError("ENOSPC", "write")) : write(...a),
        })
      },
    } as typeof fileSystem.promises
    const warnings: string[] = []
    const cache = await open({ fileSystem, onWarning: (message) => warnings.push(message) })
    expect(await writeStream(cache, "k", bytesOf(5 * STREAM_BLOCK))).toBe(false)
    expect(await cache.openForRead("k")).toBeUndefined()
    expect((await cache.inspect()).errors).toBe(1)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("ENOSPC")
    expect(filesBelow(cache.store.dir).filter((f) => f.includes(".tmp-"))).toEqual([])

    writes = 0
    const strict = await open({ fileSystem, strict: true })
    await expect(writeStream(strict, "k", bytesOf(5 * STREAM_BLOCK))).rejects.toMatchObject({ code: "SITECACHE_FAULT" })
    expect(filesBelow(strict.store.dir).filter((f) => f.includes(".tmp-"))).toEqual([])
  })

  it("streams 64 MiB through a child process with bounded memory", async () => {
    const dir = scratch()
    const backend = new URL("../src/index.ts", import.meta.url).href
    const out = await runChildScript(`
      import { createHash } from "node:crypto"
      import { Readable, Writable } from "node:stream"
      import { pipeline } from "node:stream/promises"
      const { createFsCache } = await import(${JSON.stringify(backend)})
      const cache = await createFsCache({ dir: ${JSON.stringify(dir)} })
      const total = 64 * 1024 * 1024
      const chunk = 64 * 1024
      // Live memory, not garbage waiting for collection: collect every 4 MiB, then sample.
      const v8 = await import("node:v8")
      v8.setFlagsFromString("--expose-gc")
      const gc = (await import("node:vm")).runInNewContext("gc")
      gc()
      const base = process.memoryUsage().arrayBuffers
      let peak = 0
      let seen = 0
      const sample = (n) => {
        seen += n
        if (seen % (4 * 1024 * 1024) !== 0) return
        gc()
        peak = Math.max(peak, process.memoryUsage().arrayBuffers)
      }
      const written = createHash("sha256")
      let produced = 0
      const source = new Readable({
        read() {
          if (produced === total) return this.push(null)
          const bytes = Buffer.alloc(chunk, produced / chunk)
          bytes.writeUInt32LE(produced, 0)
          written.update(bytes)
          produced += chunk
          sample(chunk)
          this.push(bytes)
        },
      })
      const sink = cache.openForWrite("big")
      await pipeline(source, sink)
      const added = await sink.added
      const read = createHash("sha256")
      let length = 0
      const stream = await cache.openForRead("big")
      await pipeline(stream, new Writable({ write(bytes, _e, cb) { read.update(bytes); length += bytes.length; sample(bytes.length); cb() } }))
      const info = await cache.inspect()
      await cache.close()
      process.stdout.write(JSON.stringify({ added, length, same: written.digest("hex") === read.digest("hex"), peak: peak - base, size: info.size }))
    `)
    const result = JSON.parse(out) as { added: boolean; length: number; same: boolean; peak: number; size: number }
    expect(result).toMatchObject({ added: true, length: 64 * 1024 * 1024, same: true })
    expect(result.size).toBeGreaterThan(64 * 1024 * 1024)
    // Buffers alive at any moment: a block or two and the streams' queues, far below the 64 MiB streamed.
    expect(result.peak).toBeLessThan(16 * 1024 * 1024)
  })
})
