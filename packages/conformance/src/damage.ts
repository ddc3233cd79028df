import { ENTRY_OFFSETS, type KeyLike, type StoreCache } from "@sitecache/core"

export type Damage = "truncate" | "flip" | "empty" | "garbage" | "header"

/**
 * Damage the stored bytes of an entry through its store (a test hook):
 * `truncate` cuts it in half, `flip` flips one bit in the middle of the
 * payload (of the trailer when the payload is empty), `empty` leaves zero
 * bytes, `garbage` replaces it with random bytes, `header` breaks the magic.
 * Offsets are the entry format's own (`ENTRY_OFFSETS`, core's entry.ts).
 */
export async function damageEntry(cache: StoreCache, key: KeyLike, how: Damage): Promise<void> {
  const id = cache.entryId(key)
  const stored = await cache.store.get(id)
  if (stored === undefined) throw new Error(`damageEntry: no entry under ${String(key)}`)
  let bytes = Uint8Array.from(stored)
  switch (how) {
    case "truncate":
      bytes = bytes.subarray(0, Math.floor(bytes.length / 2))
      break
    case "flip": {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const length = view.getUint32(ENTRY_OFFSETS.payloadLength, true)
      const at = ENTRY_OFFSETS.payload + (length === 0 ? 0 : Math.floor(length / 2))
      bytes[at] = (bytes[at] ?? 0) ^ 0x10
      break
    }
    case "empty":
      bytes = new Uint8Array(0)
      break
    case "garbage":
      bytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)
      break
    case "header":
      bytes[ENTRY_OFFSETS.magic] = (bytes[ENTRY_OFFSETS.magic] ?? 0) ^ 0xff
      break
  }
  await cache.store.set(id, bytes, { created: Date.now(), expires: 0 })
}
