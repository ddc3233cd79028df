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

/** What the build manifest keeps of one document. */
export interface DocumentRecord {
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
  /** Document path → what this build saw of it (memoize calls with a `document` option). */
  readonly documentRecords = new Map<string, DocumentRecord>()

  record(result: MemoResult<unknown>, computeMs = 0, document?: string): void {
    if (document !== undefined) {
      this.documentRecords.set(document, {
        key: result.key.hex,
        hit: result.hit,
        ...(result.parts === undefined ? {} : { parts: result.parts }),
        ...(result.depHashes === undefined ? {} : { deps: result.depHashes }),
        ...(result.uncacheable === undefined ? {} : { uncacheable: result.uncacheable }),
      })
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
