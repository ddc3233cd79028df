/**
 * Timing of the steps an adapter wraps when its tool runs many of them at
 * once (Vite and Rollup load and transform many modules together, Eleventy
 * runs every page's transforms together): the wall time inside them, and each
 * call's share of it. Used by the vite, astro and eleventy adapters.
 */

/**
 * Wall time during which at least one of possibly overlapping async calls was
 * running: Vite loads and transforms many modules at once, and the sum of
 * their durations would count each other's waiting.
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

/**
 * Each running step's share of the wall time: while n steps run at once, each
 * is charged 1/n of the time. A tool that starts every page's render together
 * makes a render's own wall time mostly waiting for the others (500 pages
 * would "save" hours); its share is what a hit saves.
 */
export class FairShare {
  readonly #running = new Set<{ ms: number }>()
  #last = 0

  #tick(): void {
    const now = performance.now()
    if (this.#running.size > 0) {
      const each = (now - this.#last) / this.#running.size
      for (const step of this.#running) step.ms += each
    }
    this.#last = now
  }

  start(): { ms: number } {
    this.#tick()
    const step = { ms: 0 }
    this.#running.add(step)
    return step
  }

  /** The step's share, in ms. */
  stop(step: { ms: number }): number {
    this.#tick()
    this.#running.delete(step)
    return step.ms
  }
}
