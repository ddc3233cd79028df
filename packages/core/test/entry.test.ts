import { describe, expect, it } from "vitest"
import {
  CHECKSUM_SIZE,
  createMemoryCache,
  decodeEntry,
  ENTRY_FLAGS,
  ENTRY_MAGIC,
  ENTRY_OFFSETS,
  encodeEntry,
  FORMAT_VERSION,
  HEADER_SIZE,
  HMAC_SIZE,
  readEntryHeader,
} from "../src/index.js"

const payload = Buffer.from("payload bytes ".repeat(100))
const header = { codecId: 1, created: 1_700_000_000_000, expires: 1_800_000_000_000 }
const secret = Buffer.alloc(32, 7)

describe("entry format", () => {
  it("round-trips header and payload, with an xxh64 trailer", () => {
    const stored = encodeEntry(payload, header)
    expect(stored.length).toBe(HEADER_SIZE + payload.length + 8)
    expect(Buffer.from(stored.subarray(0, 4)).toString("latin1")).toBe("SCE\0")
    const entry = decodeEntry(stored, { maxPayload: 1e6 })
    expect(entry).toMatchObject(header)
    expect(Buffer.from(entry.payload).equals(payload)).toBe(true)
    expect(readEntryHeader(stored)).toMatchObject({ ...header, payloadLength: payload.length })
  })

  it("detects a flipped bit anywhere: header, payload or trailer", () => {
    const stored = encodeEntry(payload, header)
    for (const at of [4, 5, 9, 17, 25, HEADER_SIZE, HEADER_SIZE + 500, stored.length - 1]) {
      const damaged = Uint8Array.from(stored)
      damaged[at] = (damaged[at] ?? 0) ^ 1
      expect(() => decodeEntry(damaged, { maxPayload: 1e6 }), `byte ${at}`).toThrow(
        expect.objectContaining({ code: "SITECACHE_CORRUPT" }),
      )
    }
  })

  it("refuses truncated, padded, empty and oversized entries", () => {
    const stored = encodeEntry(payload, header)
    const cases = [
      stored.subarray(0, stored.length - 1),
      Buffer.concat([stored, Buffer.from([0])]),
      new Uint8Array(0),
      stored.subarray(0, 20),
    ]
    for (const bytes of cases) expect(() => decodeEntry(bytes, { maxPayload: 1e6 })).toThrow(/corrupt entry/)
    expect(() => decodeEntry(stored, { maxPayload: 10 })).toThrow(/over the cap/)
  })

  it("signs with HMAC-SHA256 when a secret is set; refuses unsigned, foreign-signed and tampered entries", () => {
    const signed = encodeEntry(payload, { ...header, secret })
    expect(signed.length).toBe(HEADER_SIZE + payload.length + 32)
    expect(Buffer.from(decodeEntry(signed, { maxPayload: 1e6, secret }).payload).equals(payload)).toBe(true)
    expect(() => decodeEntry(signed, { maxPayload: 1e6, secret: Buffer.alloc(32, 8) })).toThrow(/bad signature/)
    expect(() => decodeEntry(encodeEntry(payload, header), { maxPayload: 1e6, secret })).toThrow(/unsigned/)
    expect(() => decodeEntry(signed, { maxPayload: 1e6 })).toThrow(/without a secret/)
    const tampered = Uint8Array.from(signed)
    tampered[HEADER_SIZE + 3] = (tampered[HEADER_SIZE + 3] ?? 0) ^ 1
    expect(() => decodeEntry(tampered, { maxPayload: 1e6, secret })).toThrow(/bad signature/)
  })

  it("compresses payloads above the threshold and restores them", () => {
    const stored = encodeEntry(payload, { ...header, compressAbove: 100 })
    expect(stored.length).toBeLessThan(payload.length)
    expect(Buffer.from(decodeEntry(stored, { maxPayload: 1e6 }).payload).equals(payload)).toBe(true)
    expect(() => decodeEntry(stored, { maxPayload: 100 })).toThrow(/corrupt entry/)
  })

  it("exports the offsets it writes at, for code that reads stored bytes without decoding them", () => {
    const stored = Buffer.from(encodeEntry(payload, { ...header, compressAbove: 100, secret }))
    expect(stored.toString("latin1", ENTRY_OFFSETS.magic, ENTRY_OFFSETS.magic + 4)).toBe(ENTRY_MAGIC)
    expect(stored[ENTRY_OFFSETS.version]).toBe(FORMAT_VERSION)
    expect(stored[ENTRY_OFFSETS.codec]).toBe(header.codecId)
    expect(stored[ENTRY_OFFSETS.flags]).toBe(ENTRY_FLAGS.gzip | ENTRY_FLAGS.signed)
    expect(stored.readDoubleLE(ENTRY_OFFSETS.created)).toBe(header.created)
    expect(stored.readDoubleLE(ENTRY_OFFSETS.expires)).toBe(header.expires)
    const length = stored.readUInt32LE(ENTRY_OFFSETS.payloadLength)
    expect(ENTRY_OFFSETS.payload).toBe(HEADER_SIZE)
    expect(stored.length).toBe(HEADER_SIZE + length + HMAC_SIZE)
    expect(encodeEntry(payload, header).length).toBe(HEADER_SIZE + payload.length + CHECKSUM_SIZE)
  })

  it("reads an entry of the previous format version as a miss with one warning, never as an error", async () => {
    const warnings: string[] = []
    const cache = createMemoryCache({ onWarning: (message) => warnings.push(message) })
    await cache.put("page", { html: "<p>page</p>" })
    const id = cache.entryId("page")
    const stored = Uint8Array.from((await cache.store.get(id)) as Uint8Array)
    stored[ENTRY_OFFSETS.version] = FORMAT_VERSION - 1
    await cache.store.set(id, stored, { created: Date.now(), expires: 0 })
    expect(await cache.get("page")).toBeUndefined()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/format version 1, expected 2/)
    expect(await cache.put("page", { html: "<p>again</p>" })).toBe(true)
    expect(await cache.get("page")).toEqual({ html: "<p>again</p>" })
  })
})
