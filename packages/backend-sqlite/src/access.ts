/**
 * Access records (last access and hits of each entry, for least-recently-used
 * eviction and the sweep) are noted in memory as entries are read, and
 * written in batches: inside the next write transaction, in a short one of
 * their own once `TOUCH_FLUSH` are pending, or at `persist()`. So a warm
 * `get` never writes, and never waits for a lock.
 */
import type { Statement } from "./load.js"

/** Write access records once this many reads are pending. */
const TOUCH_FLUSH = 10_000
/** Drop access records beyond this many when the database cannot take them. */
const TOUCH_CAP = 100_000

export class AccessRecords {
  /** Entry ids read since the last write transaction (an id deleted and reused meanwhile only misplaces a hint). */
  #touched: number[] = []

  get pending(): number {
    return this.#touched.length
  }

  /** A read of the entry `entry` (its row id); `true` once enough are pending to write them soon. */
  note(entry: number): boolean {
    return this.#touched.push(entry) >= TOUCH_FLUSH
  }

  clear(): void {
    this.#touched = []
  }

  /** Write the pending records into the open transaction (`touch`: accessed, hits, entry). */
  writeInto(touch: Statement, now: number): void {
    if (this.#touched.length === 0) return
    const touched = this.#touched
    this.#touched = []
    const hits = new Map<number, number>()
    for (const entry of touched) hits.set(entry, (hits.get(entry) ?? 0) + 1)
    for (const [entry, count] of hits) touch.run(now, count, entry)
  }

  /** The database could not take them: keep the latest, up to a cap, for the next write. */
  trim(): void {
    if (this.#touched.length > TOUCH_CAP) this.#touched = this.#touched.slice(-TOUCH_CAP)
  }
}
