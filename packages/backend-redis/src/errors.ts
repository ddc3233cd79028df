/**
 * Operational faults of the Redis store, and how an error of ioredis or of
 * the server becomes one. A store throws them; the cache turns them into
 * misses and dropped writes, one warning per `code`, or into a
 * `CacheFaultError` in `strict` mode.
 *
 * Errors are told apart by what they carry, never by their message text: an
 * error reply by its kind (the reply's first word, which the Redis protocol
 * defines as the error's code), a system error by its `code`, a deadline by
 * its class, and ioredis' refusals to send (offline queue off, connection
 * closed, retries exhausted), which carry no code, by the connection's state.
 */
import { errorCode } from "@sitecache/core"
import { DeadlineError } from "./deadline.js"

/**
 * A Redis fault with a stable `code`: the connection error's (`ECONNREFUSED`,
 * `ETIMEDOUT`, `ENOTCONNECTED`, ...) or the kind of an error reply (`OOM`,
 * `NOPERM`, `READONLY`, ...).
 */
export class RedisFaultError extends Error {
  override readonly name = "RedisFaultError"
  readonly code: string
  /** The server answered (an error reply): the connection is fine. */
  readonly replied: boolean
  /** Thrown by the circuit breaker without asking Redis. */
  readonly circuitOpen: boolean

  constructor(message: string, code: string, options: { cause?: unknown; replied?: boolean; circuitOpen?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.replied = options.replied === true
    this.circuitOpen = options.circuitOpen === true
  }
}

/** The code of a failure to reach Redis when nothing more precise is known. */
export const NOT_CONNECTED = "ENOTCONNECTED"

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * The kind of an error reply (`NOSCRIPT`, `OOM`, `READONLY`, `NOPERM`,
 * `MOVED`, ...; `ERR` for a generic one), or `undefined` when `error` is not
 * an error reply. ioredis rejects with a `ReplyError` (redis-errors) holding
 * the reply's text, whose first word is the kind.
 */
export function replyCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== "ReplyError") return undefined
  return /^[A-Z][A-Z_]*(?=\s|$)/.exec(error.message)?.[0] ?? "ERR"
}

export function isNoScript(error: unknown): boolean {
  return replyCode(error) === "NOSCRIPT"
}

/** The state a command failed in, for `classifyRedisError`. */
export interface FailureContext {
  /** The connection was ready when the failure was reported. */
  readonly ready: boolean
  /** The fault of a connection that is not ready (with its last error's code). */
  readonly notConnected: (cause: unknown) => RedisFaultError
}

/** What a failed command (or pipeline) amounts to, as a `RedisFaultError` with a stable `code`. */
export function classifyRedisError(error: unknown, context: FailureContext): RedisFaultError {
  if (error instanceof RedisFaultError) return error
  const reply = replyCode(error)
  if (reply !== undefined)
    return new RedisFaultError(`Redis replied: ${messageOf(error)}`, reply, { cause: error, replied: true })
  if (error instanceof DeadlineError) {
    return new RedisFaultError(`no reply within ${error.ms} ms (\`commandTimeout\`)`, error.code, { cause: error })
  }
  const code = errorCode(error)
  if (code === NOT_CONNECTED || (code === undefined && !context.ready)) return context.notConnected(error)
  return new RedisFaultError(messageOf(error), code ?? "EREDIS", { cause: error })
}

/** The results of a pipeline, or the first error in it (a pipeline discarded with its connection is `ENOTCONNECTED`). */
export function pipelineResults(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null)
    throw Object.assign(new Error("the pipeline was discarded: connection is closed"), { code: NOT_CONNECTED })
  for (const [error] of results) if (error !== null) throw error
  return results.map(([, value]) => value)
}
