/**
 * Waiting for a lock another process holds, without blocking the event loop:
 * SQLite itself never waits (`busy_timeout` 0); a busy operation is retried
 * every millisecond or so, asynchronously.
 *
 * How long: a lock that changes hands is a queue, not a fault. While other
 * connections commit (SQLite's `data_version` moves), a waiting operation
 * keeps its place, up to `QUEUE_FACTOR` times `busyTimeout` in all; it gives
 * up after `busyTimeout` only when nobody committed in that time (a process
 * holding the lock and doing nothing with it, another application's
 * exclusive lock). So eight builds writing at once on a machine whose cores
 * are busy wait their turns, and a stuck lock costs one bounded wait.
 *
 * Turns: SQLite's locks have no queue, so a process writing in a loop takes
 * the lock again the moment it commits and the others wait on. A waiting
 * writer touches `<database>-waiting` while it polls; a writer that just
 * committed and sees the file fresh pauses `TURN_MS` before its next write.
 */
import { statSync, utimesSync, writeFileSync } from "node:fs"

/** Pause between two tries for a lock, in ms (jittered). */
const LOCK_POLL_MS = 1
/** While others commit, wait up to this many times `busyTimeout` in all. */
const QUEUE_FACTOR = 30
/** Pause of a writer that just committed, when others wait, before it takes the lock again, in ms. */
const TURN_MS = 5
/** A `-waiting` file touched this recently means another writer is waiting, in ms. */
const WAITING_FRESH_MS = 50
/** A waiting writer touches the `-waiting` file at most this often, and a writer looks at it at most this often, in ms. */
const WAITING_TOUCH_MS = 5

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export interface LockWait {
  /** Give up after this long without a commit by another connection, in ms. */
  readonly busyTimeout: number
  /** Changes whenever another connection commits (`PRAGMA data_version`); `undefined` when unreadable. */
  readonly progress: () => number | undefined
  /** Stop waiting (the store was closed). */
  readonly stopped: () => boolean
  /** Called after each busy retry (a writer signals that it waits). */
  readonly onBusy?: () => void
}

export type WaitOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false
      /** The last busy error. */
      readonly last: unknown
      /** Nobody committed while this operation waited: the lock is stuck, not contended. */
      readonly stuck: boolean
      readonly waited: number
    }

/**
 * Retry `attempt` while it throws a busy error (`isBusy`), as the file comment
 * says. Any other error is thrown at once.
 */
async function retryWhileBusy<T>(
  attempt: () => T,
  first: unknown,
  isBusy: (error: unknown) => boolean,
  wait: LockWait,
): Promise<WaitOutcome<T>> {
  const started = performance.now()
  let version = wait.progress()
  let progressed = started
  let anyProgress = false
  let last = first
  for (;;) {
    const now = performance.now()
    if (wait.stopped() || now - progressed >= wait.busyTimeout || now - started >= wait.busyTimeout * QUEUE_FACTOR) {
      return { ok: false, last, stuck: !anyProgress, waited: now - started }
    }
    await sleep(LOCK_POLL_MS * (0.5 + Math.random()))
    if (wait.stopped()) return { ok: false, last, stuck: !anyProgress, waited: performance.now() - started }
    try {
      return { ok: true, value: attempt() }
    } catch (error) {
      if (!isBusy(error)) throw error
      last = error
    }
    wait.onBusy?.()
    // Progress is looked at after the try, so a waiter that was itself kept off the CPU does not take that time
    // for a stuck lock: if others committed meanwhile, it was a queue.
    const now2 = wait.progress()
    if (now2 !== undefined && now2 !== version) {
      version = now2
      progressed = performance.now()
      anyProgress = true
    }
  }
}

/** The `-waiting` file next to the database: writers tell each other that they wait (see the file comment). */
class WaitingSignal {
  readonly #file: string
  /** When this process last touched the file (ms since the epoch). */
  #signalled = 0
  #looked = { at: 0, waiting: false }

  constructor(databasePath: string) {
    this.#file = `${databasePath}-waiting`
  }

  /** Tell the writer holding the lock that this one is waiting. */
  signal(): void {
    const now = Date.now()
    if (now - this.#signalled < WAITING_TOUCH_MS) return
    this.#signalled = now
    try {
      utimesSync(this.#file, now / 1000, now / 1000)
    } catch {
      try {
        writeFileSync(this.#file, "", { mode: 0o600 })
      } catch {
        // Only a hint.
      }
    }
  }

  /** Whether another writer touched the file lately. */
  othersWaiting(): boolean {
    const now = Date.now()
    if (now - this.#looked.at < WAITING_TOUCH_MS) return this.#looked.waiting
    let waiting = false
    try {
      // No file: nobody ever waited (asked without an exception, which made a look cost 5 times as much).
      const touched = statSync(this.#file, { throwIfNoEntry: false })?.mtimeMs
      waiting = touched !== undefined && now - touched < WAITING_FRESH_MS && Math.abs(touched - this.#signalled) > 1
    } catch {
      // Unreadable: as if nobody waited.
    }
    this.#looked = { at: now, waiting }
    return waiting
  }
}

/**
 * How one store waits for locks: retrying a busy operation (`retryWhileBusy`),
 * trying only once while a lock it gave up on stays stuck, and leaving the
 * lock to waiting writers for a turn after each commit.
 */
export class LockWaits {
  readonly #path: string
  readonly #busyTimeout: number
  readonly #waiting: WaitingSignal
  /** A wait ran out on a stuck lock: try once, without waiting, until a read (or a write) gets through. */
  readonly #degraded = { read: false, write: false }
  /** After a commit while others wait: when this writer may take the lock again (0: at once). */
  #turnEnds = 0

  constructor(path: string, busyTimeout: number) {
    this.#path = path
    this.#busyTimeout = busyTimeout
    this.#waiting = new WaitingSignal(path)
  }

  /** Whether this writer owes the others a turn before its next write. */
  get owesTurn(): boolean {
    return this.#turnEnds > performance.now()
  }

  /** Let the other writers have the lock for a moment before taking it again. */
  async takeTurn(): Promise<void> {
    await sleep(this.#turnEnds - performance.now())
    this.#turnEnds = 0
  }

  /** A read went through. */
  read(): void {
    this.#degraded.read = false
  }

  /** A write transaction committed: owe a turn when others wait. */
  committed(): void {
    this.#degraded.write = false
    if (this.#waiting.othersWaiting()) this.#turnEnds = performance.now() + TURN_MS
  }

  /**
   * After `first`, a busy error of a first attempt: retry `attempt` until it
   * goes through, or throw a busy error saying how long it waited. `giveUp`
   * sees the last error first (a damaged file is recovered from).
   */
  async retry<T>(
    kind: "read" | "write",
    first: unknown,
    attempt: () => T,
    options: Pick<LockWait, "progress" | "stopped"> & {
      readonly isBusy: (error: unknown) => boolean
      readonly giveUp: (last: unknown) => void
    },
  ): Promise<T> {
    if (this.#degraded[kind]) throw this.#busyError(first, 0)
    const outcome = await retryWhileBusy(attempt, first, options.isBusy, {
      busyTimeout: this.#busyTimeout,
      progress: options.progress,
      stopped: options.stopped,
      ...(kind === "write" ? { onBusy: () => this.#waiting.signal() } : {}),
    })
    if (outcome.ok) {
      this.#degraded[kind] = false
      return outcome.value
    }
    // Stop waiting only for a lock that is stuck: when others committed meanwhile, this was contention.
    if (outcome.stuck) this.#degraded[kind] = true
    options.giveUp(outcome.last)
    throw this.#busyError(outcome.last, outcome.waited)
  }

  #busyError(last: unknown, waited: number): Error {
    const why =
      waited === 0
        ? "still locked since an earlier operation gave up waiting"
        : `gave up after ${Math.round(waited)} ms (\`sqlite.busyTimeout\` ${this.#busyTimeout} ms without a commit by anyone, or ${QUEUE_FACTOR} times that in all)`
    const message = last instanceof Error ? last.message : String(last)
    return Object.assign(new Error(`${this.#path} is locked by another process; ${why}: ${message}`, { cause: last }), {
      code: "SQLITE_BUSY",
    })
  }
}
