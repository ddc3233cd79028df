/**
 * Bounding the time a command may take, and the number in flight.
 */

/** A command that was not answered within its deadline; `code` is `ETIMEDOUT`, like a socket's. */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError"
  readonly code = "ETIMEDOUT"

  constructor(readonly ms: number) {
    super(`no reply within ${ms} ms`)
  }
}

/**
 * `promise`, or a rejection with a `DeadlineError` when it has not settled
 * within `ms`. Unlike ioredis' `commandTimeout`, a reply that arrived while
 * the event loop was busy (a build rendering synchronously for longer than the
 * timeout) is not late: when the timer fires, the decision waits for one
 * `setImmediate`, after the poll phase has read the sockets.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return
        settled = true
        reject(new DeadlineError(ms))
      })
    }, ms)
    timer.unref()
    promise.then(
      (value) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/** Run `tasks` with at most `window` in flight; every task settles before the first error is thrown. */
export async function inWindow<T>(tasks: readonly (() => Promise<T>)[], window: number): Promise<T[]> {
  const results = new Array<T>(tasks.length)
  let next = 0
  let failed = false
  let firstError: unknown
  const worker = async () => {
    while (next < tasks.length && !failed) {
      const i = next++
      try {
        results[i] = await (tasks[i] as () => Promise<T>)()
      } catch (error) {
        if (!failed) firstError = error
        failed = true
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, tasks.length) }, worker))
  if (failed) throw firstError
  return results
}
