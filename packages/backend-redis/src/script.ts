/**
 * The put-if-absent script, run where `SET NX` found an entry already there.
 * It reads the existing entry's header with the offsets of core's entry
 * format (`ENTRY_OFFSETS`, `ENTRY_MAGIC` in entry.ts), so a change of the
 * format changes the script with it.
 *
 * KEYS[1]: the entry; ARGV: bytes, TTL in ms ("0": none), now (ms since the
 * epoch, the cache's clock). Returns 1 when stored, 0 when a live entry was
 * kept. An existing entry is live when its header has the entry magic and an
 * expiry (float64 LE) of 0 or after `now`; anything else (expired,
 * malformed) is replaced. The script is atomic, so an entry the cache
 * considers expired is replaced even while Redis still holds it.
 */
import { createHash } from "node:crypto"
import { ENTRY_MAGIC, ENTRY_OFFSETS } from "@sitecache/core"

/** Header bytes the script reads: up to the end of the expiry field. */
const HEAD = ENTRY_OFFSETS.expires + 8
/** A binary string as a Lua literal, each byte a decimal escape. */
const luaBytes = (text: string): string => `'${[...text].map((c) => `\\${c.charCodeAt(0)}`).join("")}'`
/** Lua's `string.sub` of `length` bytes at a 0-based offset. */
const sub = (offset: number, length: number): string => `string.sub(head, ${offset + 1}, ${offset + length})`

export const ADD_SCRIPT = `
local ttl = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  local head = redis.call('GETRANGE', KEYS[1], 0, ${HEAD - 1})
  if string.len(head) == ${HEAD} and ${sub(ENTRY_OFFSETS.magic, ENTRY_MAGIC.length)} == ${luaBytes(ENTRY_MAGIC)} then
    local expires = struct.unpack('<d', ${sub(ENTRY_OFFSETS.expires, 8)})
    if expires == 0 or expires > tonumber(ARGV[3]) then return 0 end
  end
end
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`
export const ADD_SHA = createHash("sha1").update(ADD_SCRIPT).digest("hex")
