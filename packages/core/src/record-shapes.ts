/**
 * The shapes of stored build records (see `runs.ts`), checked when they are
 * read. A record is read back like any entry, so whoever can write the cache
 * chooses it: a run history that is not a list, or a manifest whose documents
 * are numbers, must read as no record (which the build then replaces), not
 * fail the build that appends to it or the `sitecache` command that shows it.
 */

import type { BuildManifest, RunSummary } from "./runs.js"
import type { DocumentRecord } from "./stats.js"
import type { SweepRecord } from "./sweep.js"

/** A manifest as stored: see `StoredManifest` in runs.ts. */
export interface StoredManifest {
  readonly format: 2
  readonly tool: string
  readonly startedAt: string
  readonly keyPrefix?: string
  readonly strings: readonly string[]
  readonly documents: readonly StoredDocument[]
  readonly previous?: { readonly startedAt: string; readonly keyPrefix?: string; readonly documents: readonly StoredDocument[] }
  readonly digest?: string
}

/** A document of a stored manifest; a sixth element, `[step index, reason index]`, when its result was not cached. */
export type StoredDocument =
  | readonly [path: string, key: string, hit: boolean, parts: number[] | null, deps: number[] | null]
  | readonly [
      path: string,
      key: string,
      hit: boolean,
      parts: number[] | null,
      deps: number[] | null,
      uncacheable: readonly [step: number, reason: number],
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
    (value.swept === undefined || (isRecord(value.swept) && isCount(value.swept.entries) && isCount(value.swept.bytes)))
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

function isStoredDocuments(value: unknown): value is StoredDocument[] {
  return (
    Array.isArray(value) &&
    value.every(
      (document) =>
        Array.isArray(document) &&
        (document.length === 5 ||
          (document.length === 6 &&
            Array.isArray(document[5]) &&
            document[5].length === 2 &&
            document[5].every((index: unknown) => Number.isInteger(index)))) &&
        typeof document[0] === "string" &&
        typeof document[1] === "string" &&
        typeof document[2] === "boolean" &&
        isIndexList(document[3]) &&
        isIndexList(document[4]),
    )
  )
}

function isHashRecord(value: unknown, nullable: boolean): boolean {
  if (value === undefined) return true
  if (!isRecord(value)) return false
  for (const name of Object.keys(value)) {
    const hash = value[name]
    if (typeof hash !== "string" && !(nullable && hash === null)) return false
  }
  return true
}

function isDocumentRecords(value: unknown): value is Record<string, DocumentRecord> {
  if (!isRecord(value)) return false
  for (const path of Object.keys(value)) {
    const record = value[path]
    if (
      !isRecord(record) ||
      typeof record.key !== "string" ||
      typeof record.hit !== "boolean" ||
      !isHashRecord(record.parts, false) ||
      !isHashRecord(record.deps, true)
    )
      return false
  }
  return true
}

/** A stored manifest (the indexed format, or a plain `BuildManifest`) when it has the shape of one, else `undefined`. */
export function manifestOf(stored: unknown): StoredManifest | BuildManifest | undefined {
  if (!isRecord(stored)) return undefined
  const { tool, startedAt, keyPrefix, digest, previous } = stored
  if (typeof tool !== "string" || typeof startedAt !== "string" || !isOptionalString(keyPrefix) || !isOptionalString(digest))
    return undefined
  if (stored.format === 2) {
    const { strings, documents } = stored
    if (!Array.isArray(strings) || !strings.every((text) => typeof text === "string") || !isStoredDocuments(documents))
      return undefined
    if (
      previous !== undefined &&
      !(
        isRecord(previous) &&
        typeof previous.startedAt === "string" &&
        isOptionalString(previous.keyPrefix) &&
        isStoredDocuments(previous.documents)
      )
    )
      return undefined
    return stored as unknown as StoredManifest
  }
  if (stored.format !== undefined || !isDocumentRecords(stored.documents)) return undefined
  if (
    previous !== undefined &&
    !(
      isRecord(previous) &&
      typeof previous.startedAt === "string" &&
      isOptionalString(previous.keyPrefix) &&
      isDocumentRecords(previous.documents)
    )
  )
    return undefined
  return stored as unknown as BuildManifest
}
