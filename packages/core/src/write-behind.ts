/**
 * The write-behind queue of a tiered store's remote tier (see tiered.ts):
 * puts return once queued, and the queue writes them in batches in the
 * background.
 */
import type { EntryId, EntryMeta } from "./store.js"

/** One stored entry on its way to a tier. */
export type Entry = readonly [EntryId, Uint8Array, EntryMeta]

/** The name of an entry in a queue: prefix and key. */
export function slot(id: EntryId): string {
  return id.prefix.hex + id.key.hex
}

/**
 * Writes to one remote tier, in the background, in batches. Bounded by entries
 * and bytes (in flight included): `push` resolves at once while there is room
 * and waits for it otherwise. A failed batch is dropped and reported.
 */
export class WriteBehindQueue {
  readonly #pending = new Map<string, { entry: Entry; now: number }>()
  readonly #write: (entries: Entry[], now: number) => Promise<unknown>
  readonly #report: (error: unknown) => void
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #batchSize: number
  #entries = 0
  #bytes = 0
  #worker: Promise<void> | undefined
  #inFlight: { names: Set<string>; done: Promise<void> } | undefined
  #roomWaiters: (() => void)[] = []

  constructor(
    write: (entries: Entry[], now: number) => Promise<unknown>,
    report: (error: unknown) => void,
    limits: { entries: number; bytes: number; batchSize: number },
  ) {
    this.#write = write
    this.#report = report
    this.#maxEntries = limits.entries
    this.#maxBytes = limits.bytes
    this.#batchSize = limits.batchSize
  }

  /** Entries waiting or in flight. */
  get size(): number {
    return this.#entries
  }

  async push(entries: readonly Entry[], now: number): Promise<void> {
    for (const entry of entries) {
      while (this.#entries > 0 && (this.#entries >= this.#maxEntries || this.#bytes + entry[1].length > this.#maxBytes)) {
        this.#start()
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve))
      }
      const name = slot(entry[0])
      const previous = this.#pending.get(name)
      if (previous !== undefined) this.#release(previous.entry[1].length)
      this.#pending.set(name, { entry, now })
      this.#entries++
      this.#bytes += entry[1].length
    }
    this.#start()
  }

  /**
   * Forget a pending write of `id` (it is being deleted or replaced), and wait
   * for the batch in flight if it holds `id`, so the caller's write lands after it.
   */
  async remove(id: EntryId): Promise<void> {
    const name = slot(id)
    const pending = this.#pending.get(name)
    if (pending !== undefined) {
      this.#pending.delete(name)
      this.#release(pending.entry[1].length)
    }
    const batch = this.#inFlight
    if (batch?.names.has(name)) await batch.done
  }

  /** Drop every pending write. */
  clear(): void {
    for (const { entry } of this.#pending.values()) this.#release(entry[1].length)
    this.#pending.clear()
  }

  /** Resolves when every write queued so far has been attempted. */
  async drain(): Promise<void> {
    while (this.#worker !== undefined) await this.#worker
  }

  #start(): void {
    if (this.#worker !== undefined || this.#pending.size === 0) return
    this.#worker = this.#run().finally(() => {
      this.#worker = undefined
      this.#start()
    })
  }

  async #run(): Promise<void> {
    while (this.#pending.size > 0) {
      const batch: Entry[] = []
      const names = new Set<string>()
      let now = 0
      for (const [name, pending] of this.#pending) {
        this.#pending.delete(name)
        batch.push(pending.entry)
        names.add(name)
        now = Math.max(now, pending.now)
        if (batch.length >= this.#batchSize) break
      }
      const done = this.#write(batch, now).then(
        () => {},
        (error: unknown) => {
          try {
            this.#report(error)
          } catch {
            // Reporting must never turn into an unhandled rejection of the worker.
          }
        },
      )
      this.#inFlight = { names, done }
      try {
        await done
      } finally {
        this.#inFlight = undefined
        for (const entry of batch) this.#release(entry[1].length)
      }
    }
  }

  #release(bytes: number): void {
    this.#entries--
    this.#bytes -= bytes
    const waiters = this.#roomWaiters
    this.#roomWaiters = []
    for (const wake of waiters) wake()
  }
}
