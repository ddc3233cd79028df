/**
 * Wall time during which at least one of possibly overlapping async calls was
 * running. Rollup runs many transforms at once: the sum of their durations
 * counts each other's waiting, the union of their intervals does not.
 */
export class BusyTime {
  #active = 0
  #since = 0
  #total = 0

  enter(): void {
    if (this.#active++ === 0) this.#since = performance.now()
  }

  leave(): void {
    if (this.#active === 0) return
    if (--this.#active === 0) this.#total += performance.now() - this.#since
  }

  /** Milliseconds busy so far. */
  get ms(): number {
    return this.#total + (this.#active > 0 ? performance.now() - this.#since : 0)
  }
}
