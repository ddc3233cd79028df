/**
 * A circuit breaker: after `threshold` consecutive failures the circuit opens
 * and every call fails at once for `cooldown` ms; then one call (the probe) is
 * let through while the others keep failing fast. A successful probe closes
 * the circuit; a failed one opens it for another cooldown.
 *
 * So a build whose Redis went away pays for a few bounded failures, then
 * nothing, and notices within one cooldown when Redis is back. Uses the real
 * clock (`performance.now`), never the cache's injectable clock.
 */

export type BreakerState = "closed" | "open" | "half-open"

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly threshold: number
  /** How long the circuit stays open before a probe, in ms. */
  readonly cooldown: number
  /** Milliseconds from an arbitrary origin. Default `performance.now`. */
  readonly now?: () => number
}

export class CircuitBreaker {
  readonly threshold: number
  readonly cooldown: number
  readonly #now: () => number
  #state: BreakerState = "closed"
  #failures = 0
  #openedAt = 0
  #lastError: unknown

  constructor(options: CircuitBreakerOptions) {
    this.threshold = options.threshold
    this.cooldown = options.cooldown
    this.#now = options.now ?? (() => performance.now())
  }

  get state(): BreakerState {
    return this.#state
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures
  }

  /** The failure that last counted. */
  get lastError(): unknown {
    return this.#lastError
  }

  /** Milliseconds until the next probe may go through (0 when closed or due). */
  get retryIn(): number {
    if (this.#state !== "open") return 0
    return Math.max(0, this.#openedAt + this.cooldown - this.#now())
  }

  /**
   * Whether a call may go through now. `"probe"`: it may, as the one probe of
   * a half-open circuit (report its outcome); `false`: fail it at once.
   */
  admit(): boolean | "probe" {
    if (this.#state === "closed") return true
    if (this.#state === "open" && this.#now() >= this.#openedAt + this.cooldown) {
      this.#state = "half-open"
      return "probe"
    }
    return false
  }

  /** A call got a reply (an error reply counts: the server is there). */
  success(): void {
    this.#failures = 0
    this.#state = "closed"
  }

  failure(error: unknown): void {
    this.#lastError = error
    this.#failures++
    if (this.#state === "half-open" || this.#failures >= this.threshold) {
      this.#state = "open"
      this.#openedAt = this.#now()
    }
  }

  /** Close the circuit (the connection is ready again). */
  reset(): void {
    this.success()
  }
}
