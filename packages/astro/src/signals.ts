/**
 * `astro dev` stopped with Ctrl-C (SIGINT): Astro runs no `astro:server:done`
 * then, and the process ends at once, so the session would never be recorded
 * (no summary line, no records for `sitecache explain`). While a dev server
 * runs, the integration listens for it: it records the session (for at most
 * `RECORD_WITHIN_MS`), then lets the signal do what it would have done,
 * raising it again once its own listener is gone.
 *
 * SIGTERM is left alone: Vite listens for it itself and exits once its server
 * has closed, which no listener of ours can make wait for the records.
 */

/** How long a stop may wait for the records (a Redis that does not answer, say). */
const RECORD_WITHIN_MS = 5_000

const SIGNALS = ["SIGINT"] as const

export class StopSignals {
  #listener: ((signal: NodeJS.Signals) => void) | undefined

  /** Until `forget()`, a stop signal runs `record` first. */
  listen(record: () => Promise<unknown>): void {
    this.forget()
    const listener = (signal: NodeJS.Signals) => {
      this.forget()
      const raise = () => {
        clearTimeout(timer)
        // With no listener of the signal left, this ends the process as the signal would have.
        process.kill(process.pid, signal)
      }
      const timer = setTimeout(raise, RECORD_WITHIN_MS)
      record().then(raise, raise)
    }
    this.#listener = listener
    for (const signal of SIGNALS) process.once(signal, listener)
  }

  forget(): void {
    const listener = this.#listener
    if (listener === undefined) return
    this.#listener = undefined
    for (const signal of SIGNALS) process.off(signal, listener)
  }
}
