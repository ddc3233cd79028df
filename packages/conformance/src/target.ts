import type { CacheMode, StoreCache } from "@sitecache/core"
import { afterAll } from "vitest"

/** How the suite opens a backend. */
export interface OpenOptions {
  /** Storage location (a directory, a file, a namespace): the same location means the same data. */
  readonly location: string
  readonly clock?: () => number
  readonly mode?: CacheMode
  readonly onWarning?: (message: string, cause: unknown) => void
  readonly strict?: boolean
  /** Bytes the cache may hold; least recently used entries are evicted past it (targets with `maxSize: true`). */
  readonly maxSize?: number
}

export interface Capabilities {
  /** Values round-trip (false for the null cache). Default true. */
  readonly roundTrip?: boolean
  /**
   * Data survives `close()` and is visible to another process: the suite then
   * re-opens the location in a child process. Needs `childModule`.
   */
  readonly persistent?: boolean
  /**
   * The store takes `maxSize` when opened and evicts the least recently used
   * entries past it. Default false.
   */
  readonly maxSize?: boolean
  /**
   * The store records when each entry was last read or written by the cache's
   * clock (`clock`), so `prune({ olderThan })`, the order of `prune({ maxSize })`
   * and the removal of expired entries follow it. False for a store that keeps
   * its own time (Redis: idle times by the server's clock, expiry by the
   * server). Default true.
   */
  readonly accessClock?: boolean
}

export interface ConformanceTarget {
  /** Shown in test names, e.g. `sqlite`. */
  readonly name: string
  /** A fresh, empty storage location. */
  location(): string | Promise<string>
  open(options: OpenOptions): Promise<StoreCache>
  /** Remove a location after its tests (optional). */
  dispose?(location: string): void | Promise<void>
  readonly capabilities?: Capabilities
  /**
   * For `persistent` backends: a module (file URL) whose default export is
   * `(location: string) => Promise<Cache>`, imported by a child process.
   */
  readonly childModule?: string
}

/** Open a cache at a fresh location and remember it for cleanup. */
export interface Harness {
  readonly target: ConformanceTarget
  /** A cache at a fresh location (closed and disposed after the test). */
  fresh(options?: Omit<OpenOptions, "location">): Promise<{ cache: StoreCache; location: string }>
  /**
   * One cache at a fresh location for a whole group (a `describe`): opened by
   * the first call, closed and disposed after the group's last test. Call
   * `lasting()` while the group is collected; each test then awaits `open()`.
   */
  lasting(): { open(): Promise<StoreCache> }
  /** Another cache on an existing location (closed after the test). */
  reopen(location: string, options?: Omit<OpenOptions, "location">): Promise<StoreCache>
  /** Close and dispose everything opened by the current test. */
  cleanup(): Promise<void>
}

export function createHarness(target: ConformanceTarget): Harness {
  const open: StoreCache[] = []
  const locations: string[] = []
  return {
    target,
    async fresh(options = {}) {
      const location = await target.location()
      locations.push(location)
      const cache = await target.open({ ...options, location })
      open.push(cache)
      return { cache, location }
    },
    lasting() {
      let opened: Promise<{ cache: StoreCache; location: string }> | undefined
      afterAll(async () => {
        if (opened === undefined) return
        const { cache, location } = await opened
        await cache.close()
        await target.dispose?.(location)
      })
      return {
        async open() {
          opened ??= (async () => {
            const location = await target.location()
            return { cache: await target.open({ location }), location }
          })()
          return (await opened).cache
        },
      }
    },
    async reopen(location, options = {}) {
      const cache = await target.open({ ...options, location })
      open.push(cache)
      return cache
    },
    async cleanup() {
      for (const cache of open.splice(0).reverse()) await cache.close()
      for (const location of locations.splice(0)) await target.dispose?.(location)
    },
  }
}
