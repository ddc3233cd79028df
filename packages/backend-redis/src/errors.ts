/**
 * Operational faults of the Redis store. A store throws them; the cache turns
 * them into misses and dropped writes, one warning per `code`, or into a
 * `CacheFaultError` in `strict` mode.
 */

/**
 * A Redis fault with a stable `code`: the connection error's (`ECONNREFUSED`,
 * `ETIMEDOUT`, `ENOTCONNECTED`, ...) or the first word of an error reply
 * (`OOM`, `NOPERM`, `READONLY`, ...).
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
