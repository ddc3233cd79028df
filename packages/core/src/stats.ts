/**
 * What a build counts (hits, misses, time saved, results not cached) and
 * what it saw of each document, for the summary line and the build records.
 */
import { formatBytes, formatMs } from "./format.js"
import type { MemoResult } from "./memo.js"

/**
 * Why a result is not cached, for the build summary and `sitecache explain`:
 * the step it belongs to, and why. Adapters name the plugin or step their
 * users know; the reason is for people, never parsed.
 */
export interface Uncacheable {
  /** The plugin or step, as its users name it: `plugin rehype-foo@1.2.0`, `vite plugin vite:mdx`, `transform htmlmin`. */
  readonly step?: string
  /** Why, for people: ``option `highlighter` is a bound function (bound h): what it calls cannot be seen``. */
  readonly reason: string
}

/** `plugin rehype-foo@1.2.0: option ...`, or the reason alone when no step is named. */
export function describeUncacheable(uncacheable: Uncacheable): string {
  return uncacheable.step === undefined ? uncacheable.reason : `${uncacheable.step}: ${uncacheable.reason}`
}

export function toUncacheable(reason: string | Uncacheable): Uncacheable {
  return typeof reason === "string" ? { reason } : reason
}

/**
 * Which document a record is about, in fields: the path people know (what
 * `sitecache explain` takes) and what tells several records of one path
 * apart. Nothing is ever parsed back out of a string.
 */
export interface DocumentRef {
  /** Project-relative path (or module id), `/`-separated, as users name the document. */
  readonly path: string
  /** The step the record is about, when a tool records several of one document: a transform (`htmlmin`), a plugin and hook (`vite:mdx load`). */
  readonly step?: string
  /** What else tells records of one path and step apart: `ssr`, the second render of a template (`2`). */
  readonly variant?: string
}

/** What the build manifest keeps of one document. */
export interface DocumentRecord extends DocumentRef {
  /** Hex key of the document's entry. */
  readonly key: string
  readonly hit: boolean
  /** Named part hashes (when memoized with a record of parts). */
  readonly parts?: Readonly<Record<string, string>>
  /** Dependencies: project-relative path → content hash at the time of the build. */
  readonly deps?: Readonly<Record<string, string | null>>
  /** Set when the document's result could not be cached: which step, and why. */
  readonly uncacheable?: Uncacheable
}

/** A document as a `DocumentRef` (a string is a path). */
export function documentRef(document: string | DocumentRef): DocumentRef {
  if (typeof document === "string") return { path: document }
  const { path, step, variant } = document
  return { path, ...(step === undefined ? {} : { step }), ...(variant === undefined ? {} : { variant }) }
}

/**
 * The identity of a document within a build, the name of its record in
 * `BuildStats.documentRecords` and `BuildManifest.documents`: the path alone
 * for a document recorded once, else an encoding of every field that no path
 * can equal (a path holds no NUL). An identity, never parsed: read the
 * record's fields.
 */
export function documentId(document: string | DocumentRef): string {
  if (typeof document === "string") return document.startsWith("\0") ? documentId({ path: document }) : document
  const { path, step, variant } = document
  if (step === undefined && variant === undefined && !path.startsWith("\0")) return path
  return `\0${JSON.stringify([path, step ?? null, variant ?? null])}`
}

/** A document for people: `src/post.mdx`, `src/post.mdx (vite:mdx load) [ssr]`. */
export function describeDocument(document: DocumentRef): string {
  return (
    document.path +
    (document.step === undefined ? "" : ` (${document.step})`) +
    (document.variant === undefined ? "" : ` [${document.variant}]`)
  )
}

/** Counters of one build, shared by every adapter's summary line, and the documents it touched. */
export class BuildStats {
  readonly startedAt = performance.now()
  readonly startedAtDate = new Date()
  hits = 0
  misses = 0
  savedMs = 0
  computeMs = 0
  /** Results not cached, by `describeUncacheable` of their reason. */
  readonly uncacheable = new Map<string, number>()
  /**
   * Where the hits' time went, summed over them (ms): making the key, reading
   * the entry (store read, checks, decode), checking dependencies, and the
   * adapter's restore (adapters that time it). For `sitecache inspect`.
   */
  readonly timing = { hits: 0, keyMs: 0, readMs: 0, depsMs: 0, restoreMs: 0 }
  /** `documentId` → what this build saw of the document (memoize calls with a `document` option). */
  readonly documentRecords = new Map<string, DocumentRecord>()

  record(result: MemoResult<unknown>, computeMs = 0, document?: string | DocumentRef): void {
    if (document !== undefined) {
      // Field by field rather than spreads of optional objects: one record per document of every build.
      const record: { -readonly [K in keyof DocumentRecord]: DocumentRecord[K] } =
        typeof document === "string"
          ? { path: document, key: result.key.hex, hit: result.hit }
          : { ...documentRef(document), key: result.key.hex, hit: result.hit }
      if (result.parts !== undefined) record.parts = result.parts
      if (result.depHashes !== undefined) record.deps = result.depHashes
      if (result.uncacheable !== undefined) record.uncacheable = result.uncacheable
      this.documentRecords.set(documentId(document), record)
    }
    if (result.hit) {
      this.hits++
      this.savedMs += result.savedMs
    } else {
      this.misses++
      this.computeMs += computeMs
    }
    if (result.uncacheable !== undefined) this.countUncacheable(result.uncacheable)
  }

  /** Add one hit's timings (memoize calls it). */
  timeHit(timing: { keyMs: number; readMs: number; depsMs: number }): void {
    this.timing.hits++
    this.timing.keyMs += timing.keyMs
    this.timing.readMs += timing.readMs
    this.timing.depsMs += timing.depsMs
  }

  /** Count a result that was not cached (`record` does it for memoized ones). */
  countUncacheable(reason: string | Uncacheable): void {
    const described = describeUncacheable(toUncacheable(reason))
    this.uncacheable.set(described, (this.uncacheable.get(described) ?? 0) + 1)
  }

  get documents(): number {
    return this.hits + this.misses
  }

  get hitRate(): number {
    return this.documents === 0 ? 0 : this.hits / this.documents
  }

  /** One line: documents, hits, misses, hit rate, bytes, time, time saved. */
  summary(options: { label?: string; bytes?: number; elapsedMs?: number } = {}): string {
    const elapsed = options.elapsedMs ?? performance.now() - this.startedAt
    const parts = [
      `${options.label ?? "sitecache"}: ${this.documents} documents`,
      `${this.hits} hits`,
      `${this.misses} misses`,
      `${(this.hitRate * 100).toFixed(1)}% hit rate`,
    ]
    const uncacheable = [...this.uncacheable.values()].reduce((a, b) => a + b, 0)
    if (uncacheable > 0)
      parts.push(`${uncacheable} uncacheable (${[...this.uncacheable].map(([r, n]) => `${r}: ${n}`).join(", ")})`)
    if (options.bytes !== undefined) parts.push(formatBytes(options.bytes))
    parts.push(`${formatMs(elapsed)}`, `saved ~${formatMs(this.savedMs)}`)
    return parts.join(", ")
  }
}
