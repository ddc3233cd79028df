/** `sitecache verify`: check every stored entry; remove the damaged ones. */
import { type EntryId, formatBytes, readEntryHeader, type StoreCache } from "@sitecache/core"
import { type CommandContext, count, print, printJson, shortHex } from "../output.js"
import { removeEntries, storedEntries } from "../scan.js"
import type { Target } from "./target.js"

const FLAG_SIGNED = 2

export interface DamagedEntry {
  readonly key: string
  readonly prefix: string
  readonly size: number
  readonly reason: string
}

/**
 * Why an entry that failed its check cannot be judged by this command, or
 * `undefined` when it is damaged: an entry signed with a secret the command
 * was not given, or written by a codec it does not know, is left alone.
 */
function unverifiable(cache: StoreCache, bytes: Uint8Array, reason: string): string | undefined {
  let header: ReturnType<typeof readEntryHeader>
  try {
    header = readEntryHeader(bytes)
  } catch {
    return undefined
  }
  if (!cache.signed && (header.flags & FLAG_SIGNED) !== 0)
    return "signed: configure its secret (`secret`, `redis.secret` or SITECACHE_SECRET) to check it"
  // `check` compares the codec only after the checksum passed.
  if (header.codecId !== cache.codec.id && reason === `codec ${header.codecId}`) return `written by codec ${header.codecId}`
  return undefined
}

/** Check every entry of `cache` with its own codec and secret (the ones a build of the configuration uses). */
export async function verify(context: CommandContext, cache: StoreCache, target: Target): Promise<number> {
  const { io } = context
  const dryRun = context.values["dry-run"] === true
  const tally = { checked: 0, bytes: 0, ok: 0, expired: 0, unverifiable: 0 }
  const damaged: (DamagedEntry & { id: EntryId })[] = []
  const unverifiableReasons = new Map<string, number>()
  const now = Date.now()
  for await (const { id, bytes, damage } of storedEntries(cache, "`verify`")) {
    tally.checked++
    tally.bytes += bytes.length
    const result = damage === undefined ? cache.check(bytes) : { ok: false as const, reason: damage }
    if (result.ok) {
      if (result.expires !== 0 && result.expires <= now) tally.expired++
      else tally.ok++
      continue
    }
    const skip = unverifiable(cache, bytes, result.reason)
    if (skip !== undefined) {
      tally.unverifiable++
      unverifiableReasons.set(skip, (unverifiableReasons.get(skip) ?? 0) + 1)
      continue
    }
    const reason = result.reason.replace(/^SITECACHE_CORRUPT: sitecache: corrupt entry: /, "")
    damaged.push({ id, key: id.key.hex, prefix: id.prefix.hex, size: bytes.length, reason })
  }
  // Removed after the listing: some stores cannot write while they list.
  const removed =
    dryRun || damaged.length === 0
      ? 0
      : await removeEntries(
          cache,
          damaged.map((entry) => entry.id),
        )
  if (removed > 0) await cache.persist()
  const report = {
    backend: target.backend,
    location: target.location,
    ...tally,
    damaged: damaged.length,
    removed,
    dryRun,
    damagedEntries: damaged.map(({ id: _, ...entry }) => entry),
    unverifiableReasons: Object.fromEntries(unverifiableReasons),
  }
  const exitCode = damaged.length > 0 ? 1 : 0
  if (context.json) {
    printJson(io, report)
    return exitCode
  }
  print(
    io,
    `verified the ${target.backend} cache at ${target.location}: ${count(tally.checked, "entry", "entries")}, ${formatBytes(tally.bytes)}`,
  )
  print(io, `  ok:       ${tally.ok}`)
  if (tally.expired > 0) print(io, `  expired:  ${tally.expired} (readable, past their time to live; \`prune\` removes them)`)
  for (const [reason, n] of unverifiableReasons) print(io, `  not checked: ${n} (${reason})`)
  if (damaged.length === 0) {
    print(io, "  damaged:  0")
    return exitCode
  }
  print(io, `  damaged:  ${damaged.length}${dryRun ? " (dry run: kept)" : `, removed ${removed}`}`)
  for (const entry of damaged.slice(0, 20)) {
    print(io, `    ${entry.key}  prefix ${shortHex(entry.prefix)}  ${formatBytes(entry.size)}  ${entry.reason}`)
  }
  if (damaged.length > 20) print(io, `    … and ${damaged.length - 20} more (\`--json\` lists them all)`)
  return exitCode
}
