/**
 * The shapes of stored build records (see `runs.ts`), checked when they are
 * read. A record is read back like any entry, so whoever can write the cache
 * chooses it: a run history that is not a list, or a manifest whose documents
 * are numbers, must read as no record (which the build then replaces), not
 * fail the build that appends to it or the `sitecache` command that shows it.
 */

import type { RunSummary } from "./runs.js"
import type { SweepRecord } from "./sweep.js"

/** A manifest as stored: see `encodeManifest` in runs.ts. */
export interface StoredManifest {
  readonly format: 3
  readonly tool: string
  readonly startedAt: string
  readonly keyPrefix?: string
  readonly strings: readonly string[]
  readonly documents: readonly StoredDocument[]
  readonly previous?: { readonly startedAt: string; readonly keyPrefix?: string; readonly documents: readonly StoredDocument[] }
  readonly digest?: string
}

/** A document of a stored manifest (string indexes into `strings`, -1 for none). */
export type StoredDocument = readonly [
  path: string,
  step: number,
  variant: number,
  key: string,
  hit: boolean,
  parts: number[] | null,
  deps: number[] | null,
  uncacheable: readonly [step: number, reason: number] | null,
]

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const isCount = (value: unknown) => typeof value === "number" && Number.isFinite(value) && value >= 0
const isOptionalString = (value: unknown) => value === undefined || typeof value === "string"

function isRunSummary(value: unknown): value is RunSummary {
  if (!isRecord(value)) return false
  const { tool, startedAt, keyPrefix, manifest } = value
  return (
    typeof tool === "string" &&
    typeof startedAt === "string" &&
    isOptionalString(keyPrefix) &&
    isOptionalString(manifest) &&
    ["durationMs", "documents", "hits", "misses", "uncacheable", "savedMs", "errors"].every((name) => isCount(value[name])) &&
    (value.bytesWritten === undefined || isCount(value.bytesWritten)) &&
    (value.swept === undefined || (isRecord(value.swept) && isCount(value.swept.entries) && isCount(value.swept.bytes))) &&
    (value.profile === undefined ||
      (isRecord(value.profile) &&
        ["hits", "keyUs", "readUs", "depsUs", "restoreUs"].every((name) =>
          isCount((value.profile as Record<string, unknown>)[name]),
        )))
  )
}

/** The record of the last sweep when it has the shape of one (its times are dates), else `undefined`. */
export function sweepRecordOf(stored: unknown): SweepRecord | undefined {
  if (!isRecord(stored)) return undefined
  const { at, since } = stored
  if (typeof at !== "string" || Number.isNaN(Date.parse(at)) || typeof since !== "string") return undefined
  const counts = ["maxIdle", "removedCount", "removedSize", "sweeps", "totalCount", "totalSize"]
  return counts.every((name) => isCount(stored[name])) ? (stored as unknown as SweepRecord) : undefined
}

/** The run summaries of a stored history; none when it is not a list, and without the items that are not summaries. */
export function runsOf(stored: unknown): RunSummary[] {
  return Array.isArray(stored) ? stored.filter(isRunSummary) : []
}

/** The tool names of a stored list of tools. */
export function toolsOf(stored: unknown): string[] {
  return Array.isArray(stored) ? stored.filter((tool): tool is string => typeof tool === "string") : []
}

const isIndexList = (value: unknown) =>
  value === null || (Array.isArray(value) && value.length % 2 === 0 && value.every((index) => Number.isInteger(index)))

function isStoredDocuments(value: unknown, strings: readonly string[]): value is StoredDocument[] {
  const isIndex = (index: unknown) => Number.isInteger(index) && (index as number) >= -1 && (index as number) < strings.length
  return (
    Array.isArray(value) &&
    value.every(
      (document) =>
        Array.isArray(document) &&
        document.length === 8 &&
        typeof document[0] === "string" &&
        isIndex(document[1]) &&
        isIndex(document[2]) &&
        typeof document[3] === "string" &&
        typeof document[4] === "boolean" &&
        isIndexList(document[5]) &&
        isIndexList(document[6]) &&
        (document[7] === null ||
          (Array.isArray(document[7]) && document[7].length === 2 && document[7].every((index: unknown) => isIndex(index)))),
    )
  )
}

/** A stored manifest when it has the shape of one (of this format), else `undefined`. */
export function manifestOf(stored: unknown): StoredManifest | undefined {
  if (!isRecord(stored) || stored.format !== 3) return undefined
  const { tool, startedAt, keyPrefix, digest, previous, strings, documents } = stored
  if (typeof tool !== "string" || typeof startedAt !== "string" || !isOptionalString(keyPrefix) || !isOptionalString(digest))
    return undefined
  if (!Array.isArray(strings) || !strings.every((text) => typeof text === "string") || !isStoredDocuments(documents, strings))
    return undefined
  if (
    previous !== undefined &&
    !(
      isRecord(previous) &&
      typeof previous.startedAt === "string" &&
      isOptionalString(previous.keyPrefix) &&
      isStoredDocuments(previous.documents, strings)
    )
  )
    return undefined
  return stored as unknown as StoredManifest
}
